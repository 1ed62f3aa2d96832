"""Python clients of the Evo 2 variant service (``Client``, ``AsyncClient``) and the ``evo2-variant`` CLI.

Importing ``clients`` imports httpx and pydantic only; nothing from ``service``.
"""

from clients.async_ import AsyncClient
from clients.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InvalidResponseError,
    RateLimitError,
    ServerError,
    ServiceAPIError,
    UnavailableError,
    UpstreamError,
)
from clients.models import (
    AlleleResults,
    AnalysisResponse,
    Embeddings,
    ErrorBody,
    HealthResponse,
    InfoResponse,
    Interval,
    LegacyAnalysisResponse,
    Resolution,
    ResolveResponse,
    ResolveResult,
    ResultWarning,
    SaturationResponse,
    ScoreResponse,
    SequenceScore,
    VariantDeltaResponse,
    VariantError,
    VariantFields,
    VariantResult,
)
from clients.sync import Client

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AlleleResults",
    "AnalysisResponse",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "Embeddings",
    "ErrorBody",
    "HealthResponse",
    "InfoResponse",
    "Interval",
    "InvalidResponseError",
    "LegacyAnalysisResponse",
    "RateLimitError",
    "Resolution",
    "ResolveResponse",
    "ResolveResult",
    "ResultWarning",
    "SaturationResponse",
    "ScoreResponse",
    "SequenceScore",
    "ServerError",
    "ServiceAPIError",
    "UnavailableError",
    "UpstreamError",
    "VariantDeltaResponse",
    "VariantError",
    "VariantFields",
    "VariantResult",
]
