"""Every Modal function and class imports in the container its own image builds (issue #10).

For each entry of ``modal_deploy.OPTIONS`` (the plain data the decorators receive), the container's
view is recreated from the image spec named there (``tests/deploy/container_view.py``): only the files
that spec adds, only the packages it installs (everything else unimportable), no network.
``modal_deploy`` must import there, the function must be found (as Modal's container entrypoint does),
and the code its body runs first must import too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import modal
import pytest

from tests.deploy import container_view as cv

#: What each body loads first, run in its view after ``import modal_deploy as md``. The GPU class's
#: evo2/vortex need CUDA kernels (flash-attn, Triton) to import, so there they must only be found.
PROBES = {
    "Evo2Model": (
        "import numpy, torch, service.compose, service.scoring.evo2, importlib.util as u\n"
        "assert all(u.find_spec(m) for m in ('evo2', 'vortex')), 'evo2/vtx missing'\n"
        "import service.scoring.prefix\n"  # gpu_log_probs_continued's
        "md.gpu_settings(md.DEPLOY)"
    ),
    "web": "app = md.web_app(lambda seqs: [], continued_fn=lambda groups: [])\nassert app.title",
    "BulkWorker": "import service.jobs.bulk\nmd.bulk_engine(lambda seqs: [], continued_fn=lambda groups: [])",
    "fetch_weights": "from huggingface_hub import hf_hub_download",
    "fetch_genome": "import pysam, service.jobs.reference",
    "run_gpu_benchmark": "import sys; sys.path.insert(0, 'bench'); import gpu_evo2_7b",
}
#: The service's keys, as the secret provides them to the web tier.
SECRET_ENV = {"EVO2_SERVICE_API_KEYS": json.dumps(["view-test-key"])}


@pytest.fixture(scope="module")
def md() -> Any:
    import modal_deploy

    return modal_deploy


def test_every_modal_object_has_options_and_a_probe(md: Any) -> None:
    objects = {n for n, o in vars(md).items() if isinstance(o, modal.Function | modal.Cls)}
    assert objects == set(md.OPTIONS) == set(PROBES)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_function_imports_in_its_own_container(md: Any, name: str, tmp_path: Path) -> None:
    spec = md.IMAGE_SPECS[md.OPTIONS[name]["image"]]
    view = cv.recreate(spec, tmp_path)
    code = f"import modal_deploy as md\nassert md.{name}\n{PROBES[name]}\nprint('ok')"
    done = cv.run_in_view(spec, view, code, env=SECRET_ENV)
    assert done.returncode == 0, f"[{spec.name} image] {done.stderr.strip()[-2000:]}"


def test_the_view_really_hides_what_an_image_lacks(md: Any, tmp_path: Path) -> None:
    """torch is installed here, but not in the web image: there it must not import."""
    spec = md.IMAGE_SPECS["web"]
    view = cv.recreate(spec, tmp_path)
    done = cv.run_in_view(spec, view, "import torch")
    assert done.returncode != 0 and "not in this image" in done.stderr
    done = cv.run_in_view(spec, view, "import service, json; print(json.dumps(service.__file__))")
    assert done.returncode == 0 and Path(done.last_json).is_relative_to(view)


def test_built_images_carry_what_their_specs_say(md: Any) -> None:
    for name, spec in md.IMAGE_SPECS.items():
        built = cv.modal_image_contents(md.IMAGES[name])
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
