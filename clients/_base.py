"""What the sync and async clients share, with no I/O: configuration, requests, responses, retries.

Each endpoint is one ``Call`` (method, path, body or query, response model) built by a function
here; ``Client`` and ``AsyncClient`` send it with the same retry policy and turn the answer into the
model or an error from ``clients.errors``. Adding an endpoint is one call builder here, one response
model in ``clients.models`` and a short method in each client (``saturation`` shows the three).
"""

from __future__ import annotations

import email.utils
import math
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeGuard, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from clients.errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InvalidResponseError,
    ServiceAPIError,
    error_class,
)
from clients.models import (
    AlleleResults,
    Embeddings,
    ErrorBody,
    ErrorEnvelope,
    HealthResponse,
    InfoResponse,
    LegacyAnalysisResponse,
    ResolveResponse,
    SaturationResponse,
    ScoreResponse,
    VariantDeltaResponse,
    VariantError,
    VariantFields,
    VariantResult,
)

# --- configuration: argument > environment > default ------------------------------------------------

URL_ENV = "EVO2_SERVICE_URL"
API_KEY_ENV = "EVO2_SERVICE_API_KEY"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
USER_AGENT = "evo2-variant-client/python"

#: Connecting should be quick; scoring a large batch on a cold GPU container is not (Modal answers a
#: request that runs past 150 s with a 303 to a result URL, which the clients follow).
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 600.0

# --- retries ------------------------------------------------------------------------------------------

#: Retries after the first attempt (so at most MAX_RETRIES + 1 requests per call).
MAX_RETRIES = 3
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 8.0
#: Each backoff is shortened by a random fraction up to this, so clients do not retry in lockstep.
BACKOFF_JITTER = 0.25
#: A Retry-After longer than this is not waited for: the error is raised with ``retry_after`` set.
MAX_RETRY_AFTER_S = 60.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Transport failures worth another try; a read timeout is not one (the server is busy with it).
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
#: Per-variant error types of a batch that may succeed later (the same failures as RETRY_STATUSES).
TRANSIENT_ERROR_TYPES = frozenset(
    {"rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout", "overloaded",
     "model_unavailable"}
)  # fmt: skip


def resolve_base_url(base_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    url = base_url or env.get(URL_ENV) or DEFAULT_BASE_URL
    return url.rstrip("/")


def resolve_api_key(api_key: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return api_key or env.get(API_KEY_ENV) or None


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"user-agent": USER_AGENT, "accept": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def default_timeout() -> httpx.Timeout:
    return httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a request again and how long to wait first (``None``: do not retry)."""

    max_retries: int = MAX_RETRIES
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff for retry number ``attempt`` (0-based), with jitter."""
        delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2**attempt)
        return float(delay * (1 - BACKOFF_JITTER * self.rand()))

    def after_response(self, attempt: int, response: httpx.Response) -> float | None:
        if attempt >= self.max_retries or response.status_code not in RETRY_STATUSES:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None:
            return self.backoff(attempt)
        return retry_after if retry_after <= MAX_RETRY_AFTER_S else None

    def after_exception(self, attempt: int, exc: Exception) -> float | None:
        if attempt >= self.max_retries or not isinstance(exc, RETRY_EXCEPTIONS):
            return None
        return self.backoff(attempt)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now()
    return max(0.0, seconds) if math.isfinite(seconds) else None


# --- calls --------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call(Generic[M]):
    """One endpoint call: what to send and which model the answer is."""

    method: str
    path: str
    model: type[M]
    json: Any = None
    params: Mapping[str, Any] | None = None
    #: What to ask for (``Accept``) and how to read a non-JSON answer's body into ``model``.
    accept: str = "application/json"
    read: Callable[[bytes], M] | None = None


VariantLike = str | VariantFields | Mapping[str, Any]


def health_call() -> Call[HealthResponse]:
    return Call("GET", "/health", HealthResponse)


def info_call() -> Call[InfoResponse]:
    return Call("GET", "/info", InfoResponse)


def score_call(sequences: Sequence[str], per_position: bool, reverse_complement: bool) -> Call[ScoreResponse]:
    if isinstance(sequences, str):
        sequences = [sequences]
    body = {
        "sequences": list(sequences),
        "per_position": per_position,
        "reverse_complement": reverse_complement,
    }
    return Call("POST", "/score", ScoreResponse, json=body)


def delta_options(
    genome: str | None, window: int | None, delta_method: str | None, reverse_complement: bool | None
) -> dict[str, Any]:
    """The options given (the others take the server's defaults, listed by ``/info``)."""
    given = {
        "genome": genome,
        "window": window,
        "delta_method": delta_method,
        "reverse_complement": reverse_complement,
    }
    return {k: v for k, v in given.items() if v is not None}


def is_single_variant(value: object) -> TypeGuard[VariantLike]:
    """One variant (a string, ``VariantFields`` or a mapping of its fields), not a list of them."""
    return isinstance(value, str | VariantFields | Mapping)


def variant_payload(variant: VariantLike) -> str | dict[str, Any]:
    if isinstance(variant, str):
        return variant
    fields = variant if isinstance(variant, VariantFields) else VariantFields.model_validate(variant)
    return fields.model_dump(exclude_none=True)


def variant_delta_call(
    variants: VariantLike | Iterable[VariantLike], options: Mapping[str, Any]
) -> Call[VariantDeltaResponse]:
    """One variant (``variant``; the answer is an error status when it fails) or a list (``variants``)."""
    if isinstance(variants, str | VariantFields | Mapping):
        body: dict[str, Any] = {"variant": variant_payload(variants)}
    else:
        body = {"variants": [variant_payload(v) for v in variants]}
    return Call("POST", "/variant-delta", VariantDeltaResponse, json={**body, **options})


def resolve_call(variants: VariantLike | Iterable[VariantLike], genome: str | None) -> Call[ResolveResponse]:
    """``POST /resolve``: notations → genomic variants, nothing scored."""
    if isinstance(variants, str | VariantFields | Mapping):
        body: dict[str, Any] = {"variant": variant_payload(variants)}
    else:
        body = {"variants": [variant_payload(v) for v in variants]}
    if genome is not None:
        body["genome"] = genome
    return Call("POST", "/resolve", ResolveResponse, json=body)


def variant_deltas_calls(
    variants: Iterable[VariantLike], options: Mapping[str, Any], max_variants: int
) -> list[Call[VariantDeltaResponse]]:
    """A list of variants as requests of at most ``max_variants`` (the server's limit), in order."""
    return [variant_delta_call(chunk, options) for chunk in chunked(list(variants), max_variants)]


def analyze_single_variant_call(
    chromosome: str, variant_position: int, alternative: str, genome: str | None, reference: str | None
) -> Call[LegacyAnalysisResponse]:
    given = {
        "variant_position": variant_position,
        "alternative": alternative,
        "genome": genome,
        "chromosome": chromosome,
        "reference": reference,
    }
    params = {k: v for k, v in given.items() if v is not None}
    return Call("POST", "/analyze_single_variant", LegacyAnalysisResponse, params=params)


def saturation_call(
    region: str | None,
    chrom: str | None,
    start: int | None,
    end: int | None,
    options: Mapping[str, Any],
) -> Call[SaturationResponse]:
    """A region as ``chr17:43119600-43119699`` or ``chrom``/``start``/``end`` (1-based inclusive)."""
    given = {"region": region, "chrom": chrom, "start": start, "end": end}
    body = {k: v for k, v in given.items() if v is not None}
    return Call("POST", "/saturation", SaturationResponse, json={**body, **options})


NPZ = "application/x-npz"


def embed_call(
    sequences: Sequence[str] | None,
    variant: VariantLike | None,
    layers: Sequence[str] | None,
    per_position: bool,
    genome: str | None,
    window: int | None,
) -> Call[Embeddings]:
    """``POST /embed`` for ``sequences`` or one ``variant`` (its ref and alt windows), as ``.npz``."""
    body: dict[str, Any] = {"per_position": per_position}
    if sequences is not None:
        body["sequences"] = [sequences] if isinstance(sequences, str) else list(sequences)
    if variant is not None:
        body["variant"] = variant_payload(variant)
    if layers is not None:
        body["layers"] = [layers] if isinstance(layers, str) else list(layers)
    body.update({k: v for k, v in (("genome", genome), ("window", window)) if v is not None})
    return Call("POST", "/embed", Embeddings, json=body, accept=NPZ, read=embeddings_from_npz)


def embeddings_from_npz(content: bytes) -> Embeddings:
    """``Embeddings`` from an ``/embed`` ``.npz`` body (``"<item>/<layer>"`` arrays and ``meta``)."""
    import io
    import json

    import numpy as np

    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        names = [item["name"] for item in meta["items"]]
        arrays = {name: {layer: npz[f"{name}/{layer}"] for layer in meta["layers"]} for name in names}
    return Embeddings(
        model=meta["model"],
        layers=meta["layers"],
        per_position=meta["per_position"],
        names=names,
        lengths=[item["length"] for item in meta["items"]],
        variant=meta.get("variant"),
        window=meta.get("window"),
        arrays=arrays,
    )


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``items`` in runs of at most ``size`` (one empty run for no items, for the server to refuse)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def max_variants(info: InfoResponse) -> int:
    value = info.limits.get("max_variants")
    if not isinstance(value, int) or value < 1:
        raise InvalidResponseError("/info does not give limits.max_variants", type="invalid_response")
    return value


def merge_delta(responses: Sequence[VariantDeltaResponse]) -> VariantDeltaResponse:
    """One response from the responses to consecutive chunks, results in input order."""
    first = responses[0]
    results = [r for response in responses for r in response.results]
    return first.model_copy(update={"results": results})


def single_result(response: VariantDeltaResponse) -> VariantResult | AlleleResults:
    """The result of a one-variant request (the server answers a failing one with an error status);
    an rsID with several alternate alleles answers ``AlleleResults`` (one result per allele)."""
    [outcome] = response.results
    if isinstance(outcome, VariantError):
        raise BadRequestError(
            outcome.error.message, status=400, type=outcome.error.type, detail=outcome.error.detail
        )
    return outcome


# --- responses ----------------------------------------------------------------------------------------


def request_id_of(response: httpx.Response) -> str | None:
    rid: str | None = response.headers.get("x-request-id") or response.request.headers.get("x-request-id")
    return rid


def error_from_response(response: httpx.Response) -> ServiceAPIError:
    """The error for a non-2xx answer, from the service's envelope when there is one."""
    status = response.status_code
    try:
        error = ErrorEnvelope.model_validate_json(response.content).error
    except ValidationError:
        text = response.text.strip()[:200]
        message = f"HTTP {status} {response.reason_phrase}" + (f": {text}" if text else "")
        error = ErrorBody(type="http_error", message=message)
    return error_class(status)(
        error.message,
        status=status,
        type=error.type,
        detail=error.detail,
        request_id=request_id_of(response),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def read_response(call: Call[M], response: httpx.Response) -> M:
    if not response.is_success:
        raise error_from_response(response)
    try:
        if call.read is not None:
            return call.read(response.content)
        return call.model.model_validate_json(response.content)
    except (ValidationError, ValueError, KeyError) as exc:
        raise InvalidResponseError(
            f"{call.method} {call.path}: the answer does not match {call.model.__name__}: {exc}",
            status=response.status_code,
            type="invalid_response",
            request_id=request_id_of(response),
        ) from exc


def transport_error(exc: Exception, request: httpx.Request) -> APIConnectionError:
    """The error for a request that got no answer."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(
        f"cannot reach the service ({request.method} {request.url}): {exc or type(exc).__name__}",
        type="timeout" if cls is APITimeoutError else "connection_error",
        request_id=request.headers.get("x-request-id"),
    )


class BaseClient:
    """Configuration shared by both clients; sending is theirs."""

    def __init__(self, base_url: str | None, api_key: str | None, max_retries: int) -> None:
        self.base_url = resolve_base_url(base_url)
        self.api_key = resolve_api_key(api_key)
        self.retry = RetryPolicy(max_retries=max_retries)
        self._max_variants: int | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def build_request(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        headers = {**default_headers(self.api_key), "x-request-id": new_request_id(), "accept": call.accept}
        return http.build_request(
            call.method, self.base_url + call.path, json=call.json, params=call.params, headers=headers
        )
