"""Every Modal function and class imports in the container its own image builds (issue #10).

For each function of ``modal_deploy``, the container's view is recreated from the image spec its image
was built from (``tests/deploy/container_view.py``): only the files that spec adds, only the packages
it installs (everything else made unimportable), no network. ``modal_deploy`` must import there and
the function must be found, as Modal's container entrypoint does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import modal
import pytest

from tests.deploy import container_view as cv


@pytest.fixture(scope="module")
def md() -> Any:
    import modal_deploy

    return modal_deploy


def modal_objects(md: Any) -> dict[str, Any]:
    return {name: obj for name, obj in vars(md).items() if isinstance(obj, modal.Function | modal.Cls)}


def spec_of(md: Any, obj: Any) -> Any:
    image = cv.function_image(obj)
    [name] = [n for n, spec in md.IMAGE_SPECS.items() if cv.same_image(md.build_image_cache[n], image)]
    return md.IMAGE_SPECS[name]


def test_every_function_imports_in_its_own_container(md: Any, tmp_path: Path) -> None:
    failures = {}
    for name, obj in modal_objects(md).items():
        spec = spec_of(md, obj)
        view = cv.recreate(spec, tmp_path / name)
        done = cv.run_in_view(spec, view, f"import modal_deploy\nprint(type(modal_deploy.{name}).__name__)")
        if done.returncode != 0:
            failures[name] = f"[{spec.name} image] " + done.stderr.strip().splitlines()[-1]
    assert failures == {}


def test_built_images_carry_what_their_specs_say(md: Any) -> None:
    for name, spec in md.IMAGE_SPECS.items():
        built = cv.modal_image_contents(md.build_image_cache[name])
        files = {r: p for r, p in cv.spec_files(spec).items() if not r.endswith(f"/{cv.DEPLOY_FILE}")}
        assert {r: p.resolve() for r, p in built["files"].items()} == {
            r: p.resolve() for r, p in files.items()
        }, name
        commands = built["commands"]
        assert commands[0].startswith(f"FROM python:{spec.python_version}."), commands[0]
        for step in spec.pip_steps:
            assert any(all(p in c for p in step.packages) and "pip install" in c for c in commands), step
        for package in spec.apt_packages:
            assert any("apt-get install" in c and package in c for c in commands), package
        for key, value in spec.env:
            assert f"ENV {key}={value}" in commands
