"""One exception tree for the whole service. No FastAPI import here.

Domain code raises these; one handler in ``service.api.app`` turns them into the JSON envelope
``{"error": {"type": ..., "message": ..., "detail": {...}}}`` with the class's HTTP status::

    ServiceError                 500 internal_error (message never leaks internals)
    ├── InvalidRequest           400 invalid_request
    │   ├── InvalidVariant       400 invalid_variant
    │   ├── InvalidSequence      400 invalid_sequence
    │   ├── UnknownGenome        400 unknown_genome
    │   ├── UnknownChromosome    400 unknown_chromosome
    │   ├── OutOfBounds          400 out_of_bounds     (position or window beyond the chromosome)
    │   ├── GenomeMismatch       400 genome_mismatch   (an accession names another build)
    │   ├── RefMismatch          400 ref_mismatch      (detail: expected, observed, genome, position)
    │   ├── RegionUnavailable    400 region_unavailable (no configured genome source holds the region)
    │   ├── UnknownLayer         400 unknown_layer     (/embed: a layer the model does not have)
    │   ├── UnsupportedByModel   400 unsupported_by_model (/embed with a model without layers: kmer)
    │   └── LimitExceeded        400 limit_exceeded    (batch, window, sequence length)
    │       └── PayloadTooLarge  413 payload_too_large (request body size)
    ├── Unauthorized             401 unauthorized
    ├── RateLimited              429 rate_limited      (Retry-After)
    ├── UpstreamError            502 upstream_error    (UCSC answered badly)
    │   └── UpstreamUnavailable  503 upstream_unavailable (circuit open, Retry-After)
    ├── UpstreamTimeout          504 upstream_timeout
    ├── Overloaded               503 overloaded        (queue full, Retry-After)
    └── ModelUnavailable         503 model_unavailable (not loaded, out of memory)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        """The error object of the envelope (also used for per-item errors in batches)."""
        return {"type": self.type, "message": self.message, "detail": self.detail}


class InvalidRequest(ServiceError):
    status = 400
    type = "invalid_request"


class InvalidVariant(InvalidRequest):
    type = "invalid_variant"


class InvalidSequence(InvalidRequest):
    type = "invalid_sequence"


class UnknownGenome(InvalidRequest):
    type = "unknown_genome"


class UnknownChromosome(InvalidRequest):
    type = "unknown_chromosome"


class OutOfBounds(InvalidRequest):
    type = "out_of_bounds"


class GenomeMismatch(InvalidRequest):
    type = "genome_mismatch"


class RefMismatch(InvalidRequest):
    type = "ref_mismatch"


class RegionUnavailable(InvalidRequest):
    type = "region_unavailable"


class UnknownLayer(InvalidRequest):
    type = "unknown_layer"


class UnsupportedByModel(InvalidRequest):
    type = "unsupported_by_model"


class LimitExceeded(InvalidRequest):
    type = "limit_exceeded"


class PayloadTooLarge(LimitExceeded):
    status = 413
    type = "payload_too_large"


class Unauthorized(ServiceError):
    status = 401
    type = "unauthorized"


class RateLimited(ServiceError):
    status = 429
    type = "rate_limited"


class UpstreamError(ServiceError):
    status = 502
    type = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    status = 503
    type = "upstream_unavailable"


class UpstreamTimeout(ServiceError):
    status = 504
    type = "upstream_timeout"


class Overloaded(ServiceError):
    status = 503
    type = "overloaded"


class ModelUnavailable(ServiceError):
    status = 503
    type = "model_unavailable"
