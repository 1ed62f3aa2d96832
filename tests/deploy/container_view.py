"""A Modal container's view of the project, recreated from the image spec that built its image.

* :func:`recreate` copies exactly what an :class:`ImageSpec` adds (the deploy file, which Modal mounts
  by itself; ``add_local_python_source`` packages, ``.py`` files only; local folders and files) into a
  temporary ``/root``.
* :func:`blocked_modules` names every top-level module importable here that the image does *not*
  install: the project's own packages, and each installed distribution outside the closure of the
  image's pip requirements plus ``modal`` (Modal installs its client in every container).
* :func:`run_in_view` runs Python code in a fresh interpreter rooted at that ``/root`` with those
  modules made unimportable (a meta-path blocker), the image's environment variables set, and no
  network.
* :func:`modal_image_contents` reads back what a built ``modal.Image`` carries. It is the only code
  here that reads Modal internals (modal 1.6.4: each image layer is a lazy loader whose closure holds
  its Dockerfile function or its mount); update it when upgrading Modal.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from service.deployment.images import CONTAINER_ROOT, ImageSpec

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_FILE = "modal_deploy.py"
#: The project's own top-level modules (the editable install makes them importable from ROOT).
PROJECT_MODULES = ("service", "clients", "tests", "bench", "scripts", "modal_deploy")


# --------------------------------------------------------------------------------------- the files


def _python_files(package: Path) -> list[Path]:
    """What ``add_local_python_source`` mounts: ``.py`` files, no dot-folders, no ``__pycache__``."""
    out = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        out.append(path)
    return out


def spec_files(spec: ImageSpec, root: Path = ROOT) -> dict[str, Path]:
    """Remote path → local file for everything ``spec`` adds (the deploy file included)."""
    files = {f"{CONTAINER_ROOT}/{DEPLOY_FILE}": root / DEPLOY_FILE}
    for module in spec.python_sources:
        local = root / module
        if local.is_dir():
            for path in _python_files(local):
                files[f"{CONTAINER_ROOT}/{module}/{path.relative_to(local).as_posix()}"] = path
        else:
            files[f"{CONTAINER_ROOT}/{module}.py"] = root / f"{module}.py"
    for folder in spec.local_dirs:
        for path in sorted(p for p in (root / folder.local).rglob("*") if p.is_file()):
            files[f"{folder.remote}/{path.relative_to(root / folder.local).as_posix()}"] = path
    for file in spec.local_files:
        files[file.remote] = root / file.local
    return files


def recreate(spec: ImageSpec, dest: Path, root: Path = ROOT) -> Path:
    """Copy what ``spec`` adds under ``dest`` (``/x/y`` → ``dest/x/y``); returns the view's ``/root``."""
    for remote, local in spec_files(spec, root).items():
        target = dest / PurePosixPath(remote).relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(local, target)
    view = dest / PurePosixPath(CONTAINER_ROOT).relative_to("/")
    view.mkdir(parents=True, exist_ok=True)
    return view


# ------------------------------------------------------------------------------------ the packages


def _requirement_name(text: str) -> str | None:
    if "://" in text:  # a wheel URL
        return str(parse_wheel_filename(text.rsplit("/", 1)[-1])[0])
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def installed_closure(requirements: tuple[str, ...]) -> set[str]:
    """Canonical names of the distributions ``requirements`` install, with their dependencies
    (resolved against the distributions installed here; extras are not followed)."""
    todo = [n for n in (_requirement_name(r) for r in requirements) if n]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def blocked_modules(spec: ImageSpec, view: Path) -> list[str]:
    """Top-level modules importable here that a container of ``spec`` would not have."""
    allowed = installed_closure((*spec.requirements, "modal"))
    blocked = set(PROJECT_MODULES)
    for module, dists in metadata.packages_distributions().items():
        if not any(canonicalize_name(d) in allowed for d in dists):
            blocked.add(module)
    present = {p.name.removesuffix(".py") for p in view.iterdir()}
    return sorted(blocked - present - {"_distutils_hack"})


# -------------------------------------------------------------------------------------- running


_PRELUDE = textwrap.dedent(
    """
    import importlib.abc, json, os, socket, sys
    from pathlib import Path

    BLOCKED = frozenset(json.loads(os.environ.pop("VIEW_BLOCKED")))
    ROOT = Path(os.environ.pop("VIEW_PROJECT")).resolve()

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (not in this image)", name=name)
            return None

    def refuse(*args, **kwargs):
        raise OSError(f"network access attempted: {args!r}")

    # The project is not on the path (only the view's /root is), and its editable finder is gone.
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != ROOT]
    sys.path.insert(0, os.getcwd())
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
    sys.meta_path.insert(0, Blocker())
    socket.getaddrinfo = refuse
    socket.socket.connect = refuse
    socket.create_connection = refuse
    """
)


@dataclass(frozen=True)
class ViewRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_json(self) -> Any:
        return json.loads(self.stdout.strip().splitlines()[-1])


def run_in_view(spec: ImageSpec, view: Path, code: str, *, env: dict[str, str] | None = None) -> ViewRun:
    """Run ``code`` in a fresh interpreter that sees only what a container of ``spec`` sees."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EVO2_", "MODAL_", "VIRTUAL_ENV"))
    }
    environ.update(dict(spec.env))
    environ.update(env or {})
    environ.update(
        VIEW_BLOCKED=json.dumps(blocked_modules(spec, view)),
        VIEW_PROJECT=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        MODAL_TOKEN_ID="",
        MODAL_TOKEN_SECRET="",
    )
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
        cwd=view,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return ViewRun(done.returncode, done.stdout, done.stderr)


# ------------------------------------------------------------------------- what Modal really built


#: Any builder version after 2024.10 (Modal's client requirements are mounted, not baked in).
BUILDER_VERSION = "2025.06"


def modal_image_contents(image: Any) -> dict[str, Any]:
    """The Dockerfile commands and mounted files (remote → local) of a built ``modal.Image``."""
    from modal._utils.async_utils import synchronizer

    commands: list[str] = []
    files: dict[str, Path] = {}
    layer = synchronizer._translate_in(image)
    while layer is not None:
        cells = _closure(layer._load)
        if "mount" in cells:  # add_local_* without copy=True: a mount layer on top of base_image
            for entry in cells["mount"].entries:
                for local, remote in entry.get_files_to_upload():
                    files[str(remote)] = Path(local)
            layer = cells["base_image"]
            continue
        build = cells.get("dockerfile_function")
        if build is not None:
            spec = build(BUILDER_VERSION)
            commands[:0] = [c for c in spec.commands if c != "FROM base"]
        layer = (cells.get("base_images") or {}).get("base")
    return {"commands": commands, "files": files}


def _closure(function: Any) -> dict[str, Any]:
    names = function.__code__.co_freevars
    return {n: c.cell_contents for n, c in zip(names, function.__closure__ or (), strict=True)}
