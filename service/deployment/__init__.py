"""Modal deployment as plain data (no Modal import): settings, image specs, GPU figures and costs.

``modal_deploy.py`` turns these into Modal objects; tests read the same data.
"""

from service.deployment.settings import (
    CHECKPOINT_MD5,
    ENV_FIELDS,
    ENV_PREFIX,
    ESTIMATED_COLD_START_S,
    ESTIMATED_SECONDS_PER_WINDOW,
    GPU_USD_PER_HOUR,
    PINNED_REVISIONS,
    SERVICE_REQUIREMENTS,
    WINDOWS_PER_VARIANT,
    Deployment,
    requirement_pins,
)

__all__ = [
    "CHECKPOINT_MD5",
    "ENV_FIELDS",
    "ENV_PREFIX",
    "ESTIMATED_COLD_START_S",
    "ESTIMATED_SECONDS_PER_WINDOW",
    "GPU_USD_PER_HOUR",
    "PINNED_REVISIONS",
    "SERVICE_REQUIREMENTS",
    "WINDOWS_PER_VARIANT",
    "Deployment",
    "requirement_pins",
]
