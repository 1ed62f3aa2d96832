"""Modal deployment as plain data (no Modal import): settings, image specs, container options, GPU
types, GPU figures and what they cost.

``modal_deploy.py`` turns these into Modal objects; tests read the same data.
"""

from service.deployment.figures import (
    ESTIMATED_COLD_START_S,
    ESTIMATED_SECONDS_PER_WINDOW,
    WINDOWS_PER_VARIANT,
    BulkPlan,
    GpuFigures,
    load_figures,
)
from service.deployment.gpus import GPU_TYPES, check_gpu
from service.deployment.settings import (
    CHECKPOINT_MD5,
    ENV_FIELDS,
    ENV_PREFIX,
    PINNED_REVISIONS,
    SERVICE_REQUIREMENTS,
    Deployment,
    requirement_pins,
)

__all__ = [
    "CHECKPOINT_MD5",
    "ENV_FIELDS",
    "ENV_PREFIX",
    "ESTIMATED_COLD_START_S",
    "ESTIMATED_SECONDS_PER_WINDOW",
    "GPU_TYPES",
    "PINNED_REVISIONS",
    "SERVICE_REQUIREMENTS",
    "WINDOWS_PER_VARIANT",
    "BulkPlan",
    "Deployment",
    "GpuFigures",
    "check_gpu",
    "load_figures",
    "requirement_pins",
]
