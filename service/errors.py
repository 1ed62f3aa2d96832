"""One exception tree for the whole service. No FastAPI import here.

Domain code raises these; one handler in ``service.api.app`` turns them into the JSON envelope
``{"error": {"type": ..., "message": ..., "detail": {...}}}`` with the class's HTTP status::

    ServiceError                 500 internal_error (message never leaks internals)
    ├── InvalidRequest           400 invalid_request
    │   ├── InvalidJson          400 invalid_json      (body not UTF-8 JSON: syntax, duplicate keys,
    │   │                                                nesting, numbers out of range, surrogates)
    │   ├── CorsRefused          400 cors_refused      (a CORS preflight from an origin not allowed)
    │   ├── UnsupportedMediaType 415 unsupported_media_type (a Content-Encoding such as gzip)
    │   ├── InvalidVariant       400 invalid_variant
    │   ├── InvalidSequence      400 invalid_sequence
    │   ├── UnknownGenome        400 unknown_genome
    │   ├── UnknownChromosome    400 unknown_chromosome
    │   ├── OutOfBounds          400 out_of_bounds     (position or window beyond the chromosome)
    │   ├── GenomeMismatch       400 genome_mismatch   (an accession names another build)
    │   ├── RefMismatch          400 ref_mismatch      (detail: expected, observed, genome, position)
    │   ├── UnknownTranscript    400 unknown_transcript (a transcript or gene no gene-model source holds)
    │   ├── UnknownRsid          400 unknown_rsid      (an rsID no dbSNP source holds for the build)
    │   ├── RegionUnavailable    400 region_unavailable (no configured genome source holds the region)
    │   ├── AmbiguousWindow      400 ambiguous_window  (a window holds more N than the setting allows)
    │   ├── UnknownLayer         400 unknown_layer     (/embed: a layer the model does not have)
    │   ├── UnsupportedByModel   400 unsupported_by_model (/embed with a model without layers: kmer)
    │   └── LimitExceeded        400 limit_exceeded    (batch, window, sequence length, array length,
    │       │                                            model-token cost, UCSC fetches per request)
    │       └── PayloadTooLarge  413 payload_too_large (request body size)
    ├── Unauthorized             401 unauthorized
    ├── RequestTimeout           408 request_timeout   (headers or body not received in time)
    ├── RateLimited              429 rate_limited      (Retry-After; requests or model tokens)
    ├── UpstreamError            502 upstream_error    (UCSC answered badly)
    │   └── UpstreamUnavailable  503 upstream_unavailable (circuit open, Retry-After)
    ├── UpstreamTimeout          504 upstream_timeout
    ├── Overloaded               503 overloaded        (queue full or too many connections, Retry-After)
    └── ModelUnavailable         503 model_unavailable (not loaded, out of memory)

Answers that are not ``ServiceError`` s use the same envelope: 404 ``not_found``, 405
``method_not_allowed``, 422 ``validation_error``.

Error bodies are bounded: ``clip`` shortens echoed input, and ``to_dict`` clips every string of the
message and detail, so no answer repeats a large request back.
"""

from __future__ import annotations

from typing import Any, ClassVar

#: Longest echo of client input in an error (characters); longer text ends in ``…``.
MAX_ECHO = 80
#: Longest message and longest string in ``detail`` (characters).
MAX_MESSAGE = 1000
MAX_DETAIL_STRING = 300
#: Most items of a list in ``detail`` (longer lists are cut, ``…`` added).
MAX_DETAIL_ITEMS = 20


def clip(text: object, limit: int = MAX_ECHO) -> str:
    """``text`` as a string of at most ``limit`` characters (cut ones end in ``…``)."""
    value = text if isinstance(text, str) else repr(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _bounded(value: Any, depth: int = 0) -> Any:
    """``value`` with long strings clipped and long lists cut (detail values are small JSON)."""
    if isinstance(value, str):
        return clip(value, MAX_DETAIL_STRING)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return clip(str(value), MAX_ECHO)
    if depth >= 4:
        return value if isinstance(value, bool | int | float) or value is None else clip(value)
    if isinstance(value, list | tuple):
        items = [_bounded(v, depth + 1) for v in value[:MAX_DETAIL_ITEMS]]
        return [*items, "…"] if len(value) > MAX_DETAIL_ITEMS else items
    if isinstance(value, dict):
        return {clip(k, MAX_ECHO): _bounded(v, depth + 1) for k, v in list(value.items())[:MAX_DETAIL_ITEMS]}
    return value


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
        """The error object of the envelope (also used for per-item errors in batches), bounded."""
        return {
            "type": self.type,
            "message": clip(self.message, MAX_MESSAGE),
            "detail": _bounded(self.detail),
        }


class InvalidRequest(ServiceError):
    status = 400
    type = "invalid_request"


class InvalidJson(InvalidRequest):
    type = "invalid_json"


class CorsRefused(InvalidRequest):
    type = "cors_refused"


class UnsupportedMediaType(InvalidRequest):
    status = 415
    type = "unsupported_media_type"


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


class UnknownTranscript(InvalidRequest):
    """A transcript accession (or a gene's MANE Select transcript) no gene-model source holds."""

    type = "unknown_transcript"


class UnknownRsid(InvalidRequest):
    """An rsID no dbSNP source holds for the build asked."""

    type = "unknown_rsid"


class RegionUnavailable(InvalidRequest):
    type = "region_unavailable"


class AmbiguousWindow(InvalidRequest):
    """More of a variant's window is N (or another non-ACGT code) than ``max_non_acgt_fraction``."""

    type = "ambiguous_window"


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


class RequestTimeout(ServiceError):
    status = 408
    type = "request_timeout"


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
