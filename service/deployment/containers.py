"""The options of every Modal function and class, as plain data: what ``modal_deploy.py``'s decorators
receive (through ``modal_deploy.modal_kwargs``, which only swaps names for Modal objects) and what
the tests assert on.

Each entry is a dict of ``@app.function`` / ``@app.cls`` keyword arguments, except:

* ``image``: the name of an :mod:`service.deployment.images` spec;
* ``volumes``: mount path → ``{"name": volume, "read_only": bool}``;
* ``secrets``: names of Modal secrets, each with the keys it must hold;
* ``concurrency`` (``@modal.concurrent``) and ``asgi`` (``@modal.asgi_app``), when present.

The split that keeps GPUs billed only for forward passes: the web tier (``web``) and the bulk
workers (``BulkWorker``) run on CPUs and do everything but the model; ``Evo2Model`` on the GPU only
turns equal-length sequence batches into per-position log-probs.
"""

from __future__ import annotations

from typing import Any

from service.deployment.settings import Deployment


def _volume(name: str, *, read_only: bool) -> dict[str, Any]:
    return {"name": name, "read_only": read_only}


def gpu_options(deploy: Deployment) -> dict[str, Any]:
    """``Evo2Model``: the checkpoint read-only, no secrets (it never sees a request), no genome."""
    return {
        "image": "gpu",
        "gpu": deploy.gpu,
        "volumes": {deploy.weights_mount: _volume(deploy.volume_name, read_only=True)},
        "secrets": {},
        "env": deploy.runtime_env(),
        "memory": deploy.memory_mib,
        "timeout": deploy.timeout_s,
        "startup_timeout": deploy.startup_timeout_s,
        "scaledown_window": deploy.scaledown_window_s,
        "max_containers": deploy.max_containers,
        "min_containers": deploy.min_containers,
        "retries": deploy.retries,
        "enable_memory_snapshot": deploy.snapshot != "off",
        "experimental_options": {"enable_gpu_snapshot": True} if deploy.snapshot == "gpu" else None,
        "concurrency": {"max_inputs": deploy.max_concurrent_inputs, "target_inputs": deploy.target_inputs},
    }


def _genomes_read_only(deploy: Deployment) -> dict[str, Any]:
    return {deploy.genome_mount: _volume(deploy.genome_volume_name, read_only=True)}


def web_options(deploy: Deployment) -> dict[str, Any]:
    """``web``: the FastAPI app on CPU containers; API keys from the secret; genomes read-only."""
    secrets = {deploy.api_keys_secret: [deploy.api_keys_env]} if deploy.require_api_key else {}
    return {
        "image": "web",
        "volumes": _genomes_read_only(deploy),
        "secrets": secrets,
        "env": deploy.runtime_env(),
        "timeout": deploy.web_timeout_s,
        "scaledown_window": deploy.web_scaledown_window_s,
        "max_containers": deploy.web_max_containers,
        "min_containers": 0,
        "concurrency": {"max_inputs": deploy.web_max_inputs, "target_inputs": deploy.web_target_inputs},
        "asgi": {"label": deploy.web_label, "requires_proxy_auth": deploy.requires_proxy_auth},
    }


def bulk_options(deploy: Deployment) -> dict[str, Any]:
    """``BulkWorker``: one chunk at a time per CPU container, as many containers as GPU ones."""
    return {
        "image": "web",
        "volumes": _genomes_read_only(deploy),
        "secrets": {},
        "env": deploy.runtime_env(),
        "timeout": deploy.bulk_timeout_s,
        "scaledown_window": 60,
        "max_containers": deploy.max_containers,
        "retries": deploy.retries,
    }


def container_options(deploy: Deployment) -> dict[str, dict[str, Any]]:
    """Options of every Modal function and class of ``modal_deploy.py``, by its name there."""
    weights_rw = {deploy.weights_mount: _volume(deploy.volume_name, read_only=False)}
    genomes_rw = {deploy.genome_mount: _volume(deploy.genome_volume_name, read_only=False)}
    hf_secret: dict[str, list[str]] = {deploy.hf_token_secret: []} if deploy.hf_token_secret else {}
    return {
        "Evo2Model": gpu_options(deploy),
        "web": web_options(deploy),
        "BulkWorker": bulk_options(deploy),
        "fetch_weights": {
            "image": "download",
            "volumes": weights_rw,
            "secrets": hf_secret,
            "timeout": deploy.download_timeout_s,
        },
        "fetch_genome": {
            "image": "genome",
            "volumes": genomes_rw,
            "secrets": {},
            "timeout": deploy.download_timeout_s,
        },
        "run_gpu_benchmark": {
            "image": "bench",
            "gpu": deploy.gpu,
            "volumes": {},
            "secrets": {},
            "timeout": 900,
        },
    }
