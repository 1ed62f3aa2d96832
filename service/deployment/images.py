"""What each Modal container sees, as plain data: one :class:`ImageSpec` per image.

``modal_deploy.build_image(spec)`` is the only code that turns a spec into a ``modal.Image``, and
``tests/deploy/test_container_view.py`` recreates each container's view from the same spec (the files
and folders it adds, the packages it installs) and imports the deploy file there. So what a test
checks is what a container gets, not a hand-copied list.

Paths: ``local`` paths are relative to the project root; ``remote`` paths are absolute in the
container, where ``/root`` is the working directory and on ``sys.path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.deployment.settings import Deployment

#: The container's working directory: Modal mounts the deploy file and Python sources here.
CONTAINER_ROOT = "/root"


@dataclass(frozen=True)
class PipStep:
    """One ``pip install`` layer."""

    packages: tuple[str, ...]
    index_url: str | None = None
    extra_options: str = ""


@dataclass(frozen=True)
class LocalPath:
    """A local file or folder (relative to the project root) added at ``remote`` in the container."""

    local: str
    remote: str


@dataclass(frozen=True)
class ImageSpec:
    name: str
    python_version: str
    apt_packages: tuple[str, ...] = ()
    pip_steps: tuple[PipStep, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    #: Local packages added with ``add_local_python_source`` (``.py`` files only) under ``/root``.
    python_sources: tuple[str, ...] = ()
    local_dirs: tuple[LocalPath, ...] = ()
    local_files: tuple[LocalPath, ...] = ()

    @property
    def requirements(self) -> tuple[str, ...]:
        """Every pip requirement of the image, in install order."""
        return tuple(p for step in self.pip_steps for p in step.packages)


#: What ``modal_deploy`` itself imports at module level (``service.deployment``), in every image.
DEPLOY_PACKAGES = ("pydantic", "pydantic-settings", "packaging")


def pinned(names: tuple[str, ...], requirements: tuple[str, ...]) -> tuple[str, ...]:
    """The pins of ``names`` picked from ``requirements`` (so every image agrees on versions)."""
    by_name = {canonicalize_name(Requirement(r).name): r for r in requirements}
    return tuple(by_name[canonicalize_name(n)] for n in names)


def _project(deploy: Deployment) -> dict[str, Any]:
    """The project's code and package data (k-mer table, calibration, BRCA1 slices, chrom sizes)."""
    return {
        "python_sources": ("service",),
        "local_dirs": (LocalPath(deploy.package_data_dir, f"{CONTAINER_ROOT}/{deploy.package_data_dir}"),),
    }


def web_image_spec(deploy: Deployment) -> ImageSpec:
    """The CPU web tier and bulk workers: the service and its dependencies, no torch."""
    return ImageSpec(
        name="web",
        python_version=deploy.python_version,
        pip_steps=(PipStep(deploy.service_requirements),),
        env=(("PYTHONUNBUFFERED", "1"),),
        **_project(deploy),
    )


def gpu_image_spec(deploy: Deployment) -> ImageSpec:
    """The GPU image: nothing to compile. torch's CUDA 12 wheels, flash-attn's prebuilt wheel for exactly
    that torch / CUDA 12 / CPython 3.12 / C++11-ABI, then evo2 and vtx, then the service's own
    dependencies; the project's code last so editing it rebuilds no layer."""
    return ImageSpec(
        name="gpu",
        python_version=deploy.python_version,
        apt_packages=("git",),
        pip_steps=(
            PipStep((f"torch=={deploy.torch_version}",), index_url=deploy.torch_index_url),
            PipStep((deploy.flash_attn_wheel_url,), extra_options="--no-deps --no-build-isolation"),
            PipStep((deploy.evo2_requirement, deploy.vtx_requirement, *deploy.service_requirements)),
        ),
        env=tuple(deploy.image_env.items()),
        **_project(deploy),
    )


def bench_image_spec(deploy: Deployment) -> ImageSpec:
    """The GPU image plus the benchmark script (``modal run modal_deploy.py::gpu_benchmark``)."""
    gpu = gpu_image_spec(deploy)
    script = LocalPath("bench/gpu_evo2_7b.py", f"{CONTAINER_ROOT}/bench/gpu_evo2_7b.py")
    return ImageSpec(**{**gpu.__dict__, "name": "bench", "local_files": (script,)})


def download_image_spec(deploy: Deployment) -> ImageSpec:
    """download_weights: the hub client and what the deploy file imports (it may reach the hub)."""
    return ImageSpec(
        name="download",
        python_version=deploy.python_version,
        pip_steps=(
            PipStep((*pinned(DEPLOY_PACKAGES, deploy.service_requirements), deploy.hf_hub_requirement)),
        ),
        env=(("HF_HUB_DISABLE_TELEMETRY", "1"), ("PYTHONUNBUFFERED", "1")),
        **_project(deploy),
    )


def genome_image_spec(deploy: Deployment) -> ImageSpec:
    """download_genome: the service (chromosome sizes, the FASTA reader that checks the result) and pysam."""
    return ImageSpec(
        name="genome",
        python_version=deploy.python_version,
        pip_steps=(PipStep((*deploy.service_requirements, deploy.pysam_requirement)),),
        env=(("PYTHONUNBUFFERED", "1"),),
        **_project(deploy),
    )


def image_specs(deploy: Deployment) -> dict[str, ImageSpec]:
    """Every image of the deployment, by name."""
    builders = (web_image_spec, gpu_image_spec, bench_image_spec, download_image_spec, genome_image_spec)
    return {spec.name: spec for spec in (build(deploy) for build in builders)}
