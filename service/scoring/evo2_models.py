"""The Evo 2 checkpoints the service can load, and what each needs. Plain data, no imports of torch.

Sources: evo2 0.6.0 (``evo2/utils.py`` names, repos and configs; ``evo2/models.py`` checkpoint file
names and the Transformer Engine rule), the Evo 2 README (FP8 needs compute capability 8.9+) and the
evo2 20B release notes. GPU memory floors are estimates (bfloat16 weights plus room for one
8,192-bp window, in GiB as CUDA reports them: an "80 GB" H100 shows about 79 GiB), not
measurements: ``bench/gpu_evo2_7b.py`` measures the 7B.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import ModelUnavailable

#: Transformer Engine FP8 (per-tensor scaling) needs Ada (8.9) or Hopper (9.0) and later.
FP8_MIN_COMPUTE_CAPABILITY: tuple[int, int] = (8, 9)

DEFAULT_MODEL = "evo2_7b"


@dataclass(frozen=True)
class Evo2ModelSpec:
    name: str
    #: Hugging Face repository holding the checkpoint.
    hf_repo: str
    #: Checkpoint file name inside the repository (``Evo2(name, local_path=...)`` takes its path).
    checkpoint: str
    #: evo2's config file for this model (relative to the evo2 package).
    config: str
    #: Longest sequence the model was trained on, in bases.
    context_length: int
    #: Approximate parameter count, in billions.
    parameters_b: float
    #: FP8 input projections through Transformer Engine are mandatory (compute capability 8.9+).
    #: The 7B models fall back to bfloat16 when Transformer Engine is missing.
    requires_transformer_engine: bool
    #: Total GPU memory (GiB, summed over the visible GPUs) below which loading is refused.
    min_gpu_memory_gib: int
    #: The smallest hardware known to work.
    gpu_hint: str
    notes: str = ""

    def requirements(self) -> dict[str, object]:
        """What ``describe()`` reports."""
        return {
            # Every evo2 config sets ``use_flash_attn: True``.
            "flash_attn": True,
            "transformer_engine": self.requires_transformer_engine,
            "min_compute_capability": (
                ".".join(map(str, FP8_MIN_COMPUTE_CAPABILITY)) if self.requires_transformer_engine else None
            ),
            "min_gpu_memory_gib": self.min_gpu_memory_gib,
            "gpu_hint": self.gpu_hint,
        }


def _spec(
    name: str,
    config: str,
    context_length: int,
    parameters_b: float,
    *,
    te: bool,
    memory: int,
    gpu: str,
    notes: str = "",
) -> Evo2ModelSpec:
    return Evo2ModelSpec(
        name=name,
        hf_repo=f"arcinstitute/{name}",
        checkpoint=f"{name}.pt",
        config=config,
        context_length=context_length,
        parameters_b=parameters_b,
        requires_transformer_engine=te,
        min_gpu_memory_gib=memory,
        gpu_hint=gpu,
        notes=notes,
    )


_1M = 1_048_576

MODELS: dict[str, Evo2ModelSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "evo2_7b",
            "configs/evo2-7b-1m.yml",
            _1M,
            6.5,
            te=False,
            memory=20,
            gpu="1x H100 (or any 24 GB+ bfloat16 GPU)",
            notes="Default; the original project's model. BRCA1 AUROC about 0.88.",
        ),
        _spec(
            "evo2_7b_base",
            "configs/evo2-7b-8k.yml",
            8_192,
            6.5,
            te=False,
            memory=20,
            gpu="1x H100 (or any 24 GB+ bfloat16 GPU)",
            notes="8K-context checkpoint: a natural fit for 8,192-bp windows.",
        ),
        _spec(
            "evo2_7b_262k",
            "configs/evo2-7b-262k.yml",
            262_144,
            6.5,
            te=False,
            memory=20,
            gpu="1x H100 (or any 24 GB+ bfloat16 GPU)",
        ),
        _spec(
            "evo2_20b",
            "configs/evo2-20b-1m.yml",
            _1M,
            20.0,
            te=True,
            memory=60,
            gpu="1x H100",
            notes="Near 40B quality at twice the speed.",
        ),
        _spec(
            "evo2_40b",
            "configs/evo2-40b-1m.yml",
            _1M,
            40.0,
            te=True,
            memory=100,
            gpu="2x H100 or 1x H200",
            notes="In bfloat16 without FP8 its BRCA1 AUROC collapses to about 0.53.",
        ),
        _spec(
            "evo2_40b_base",
            "configs/evo2-40b-8k.yml",
            8_192,
            40.0,
            te=True,
            memory=100,
            gpu="2x H100 or 1x H200",
        ),
        _spec(
            "evo2_1b_base",
            "configs/evo2-1b-8k.yml",
            8_192,
            1.0,
            te=True,
            memory=8,
            gpu="1x L4 / L40S / H100 (FP8-capable)",
            notes="The model of evo2's BRCA1 notebook (AUROC about 0.73).",
        ),
    )
}


def get_model_spec(name: str) -> Evo2ModelSpec:
    """The table entry for ``name``; :class:`ModelUnavailable` for a name the service does not support."""
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailable(
            f"unknown Evo 2 model {name!r}; supported: {', '.join(MODELS)}",
            detail={"model": name, "supported": list(MODELS)},
        ) from None
