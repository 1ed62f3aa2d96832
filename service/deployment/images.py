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
        python_sources=("service",),
        local_dirs=(LocalPath(deploy.package_data_dir, f"{CONTAINER_ROOT}/{deploy.package_data_dir}"),),
    )


def download_image_spec(deploy: Deployment) -> ImageSpec:
    """The download image needs only the hub client (and may reach the hub)."""
    return ImageSpec(
        name="download",
        python_version=deploy.python_version,
        pip_steps=(PipStep((deploy.hf_hub_requirement,)),),
    )
