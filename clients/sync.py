"""``Client``: the blocking client.

from clients import Client

with Client() as client:  # EVO2_SERVICE_URL / EVO2_SERVICE_API_KEY, or http://127.0.0.1:8000
    result = client.variant_delta("chr17:43119628:T:G", genome="hg38")
    print(result.delta_score, result.label)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, overload

import httpx

from clients import _base
from clients._base import BaseClient, Call, M, VariantLike
from clients.models import (
    AlleleResults,
    Embeddings,
    HealthResponse,
    InfoResponse,
    LegacyAnalysisResponse,
    ResolveResponse,
    SaturationResponse,
    ScoreResponse,
    VariantDeltaResponse,
    VariantResult,
)


class Client(BaseClient):
    """Blocking client of the Evo 2 variant service.

    ``base_url`` and ``api_key`` default to ``EVO2_SERVICE_URL`` and ``EVO2_SERVICE_API_KEY``, then to
    ``http://127.0.0.1:8000`` and no key. Pass ``http_client`` (kept open on ``close()``) or
    ``transport`` to control I/O; ``sleep`` is what waits between retries.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_retries: int = _base.MAX_RETRIES,
        timeout: httpx.Timeout | float | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_variants_per_request: int | None = None,
    ) -> None:
        super().__init__(base_url, api_key, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport, timeout=timeout if timeout is not None else _base.default_timeout()
        )
        self._sleep = sleep
        self._max_variants = max_variants_per_request

    # --- lifecycle ------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints ------------------------------------------------------------------------------------

    def health(self) -> HealthResponse:
        """``GET /health``: liveness, no key needed."""
        return self.call(_base.health_call())

    def info(self) -> InfoResponse:
        """``GET /info``: model, calibration, defaults and limits."""
        return self.call(_base.info_call())

    def score(
        self, sequences: Sequence[str], per_position: bool = False, reverse_complement: bool = False
    ) -> ScoreResponse:
        """``POST /score``: log-likelihood of DNA sequences."""
        return self.call(_base.score_call(sequences, per_position, reverse_complement))

    @overload
    def variant_delta(  # type: ignore[overload-overlap]  # a str is one variant
        self,
        variant: VariantLike,
        *,
        genome: str | None = ...,
        window: int | None = ...,
        delta_method: str | None = ...,
        reverse_complement: bool | None = ...,
    ) -> VariantResult | AlleleResults: ...

    @overload
    def variant_delta(
        self,
        variant: Sequence[VariantLike],
        *,
        genome: str | None = ...,
        window: int | None = ...,
        delta_method: str | None = ...,
        reverse_complement: bool | None = ...,
    ) -> VariantDeltaResponse: ...

    def variant_delta(
        self,
        variant: Any,
        *,
        genome: str | None = None,
        window: int | None = None,
        delta_method: str | None = None,
        reverse_complement: bool | None = None,
    ) -> VariantResult | AlleleResults | VariantDeltaResponse:
        """``POST /variant-delta``. One variant → its ``VariantResult`` (a failure raises).

        A list → a ``VariantDeltaResponse`` whose ``results`` follow the input order, each a
        ``VariantResult`` or a ``VariantError``; lists longer than the server's ``max_variants`` are
        sent in several requests. Options left as ``None`` take the server's defaults.
        """
        options = _base.delta_options(genome, window, delta_method, reverse_complement)
        if _base.is_single_variant(variant):
            response = self.call(_base.variant_delta_call(variant, options))
            return _base.single_result(response)
        return self.variant_deltas(
            variant,
            genome=genome,
            window=window,
            delta_method=delta_method,
            reverse_complement=reverse_complement,
        )

    def variant_deltas(
        self,
        variants: Sequence[VariantLike],
        *,
        genome: str | None = None,
        window: int | None = None,
        delta_method: str | None = None,
        reverse_complement: bool | None = None,
    ) -> VariantDeltaResponse:
        """``POST /variant-delta`` with a list (TypeScript: ``variantDeltas``): results in input order,
        each a ``VariantResult`` or a ``VariantError``; split into requests of the server's
        ``max_variants``. ``variant_delta`` with a list does the same (kept for older code)."""
        options = _base.delta_options(genome, window, delta_method, reverse_complement)
        calls = _base.variant_deltas_calls(variants, options, self.max_variants_per_request())
        return _base.merge_delta([self.call(c) for c in calls])

    def resolve(self, variants: Any, *, genome: str | None = None) -> ResolveResponse:
        """``POST /resolve``: rsIDs, HGVS (``NM_007294.4:c.5266dupC``), gene symbols
        (``BRCA1:c.181T>G``) or genomic notations → the genomic variants they mean, not scored;
        one notation or a list (at most the server's ``max_variants``), answered in order."""
        return self.call(_base.resolve_call(variants, genome))

    def analyze_single_variant(
        self,
        chromosome: str,
        variant_position: int,
        alternative: str,
        genome: str | None = None,
        reference: str | None = None,
    ) -> LegacyAnalysisResponse:
        """``POST /analyze_single_variant``: the original frontend's call; ``variant_position`` 1-based."""
        return self.call(
            _base.analyze_single_variant_call(chromosome, variant_position, alternative, genome, reference)
        )

    def saturation(
        self,
        region: str | None = None,
        *,
        chrom: str | None = None,
        start: int | None = None,
        end: int | None = None,
        genome: str | None = None,
        window: int | None = None,
        delta_method: str | None = None,
        reverse_complement: bool | None = None,
    ) -> SaturationResponse:
        """``POST /saturation``: every SNV of a region (``chr17:43119600-43119699``, 1-based inclusive)."""
        options = _base.delta_options(genome, window, delta_method, reverse_complement)
        return self.call(_base.saturation_call(region, chrom, start, end, options))

    def embed(
        self,
        sequences: Sequence[str] | str | None = None,
        *,
        variant: VariantLike | None = None,
        layers: Sequence[str] | str | None = None,
        per_position: bool = False,
        genome: str | None = None,
        window: int | None = None,
    ) -> Embeddings:
        """``POST /embed``: hidden states of ``layers`` (default: the model's default layer, see
        ``info().model["embeddings"]``) for DNA ``sequences`` or one ``variant``'s ref and alt windows,
        as numpy arrays (``result[0][layer]``, ``result["ref"][layer]``); mean over positions unless
        ``per_position``."""
        return self.call(_base.embed_call(sequences, variant, layers, per_position, genome, window))

    def max_variants_per_request(self) -> int:
        """The server's ``limits.max_variants`` (asked once), unless given to the constructor."""
        if self._max_variants is None:
            self._max_variants = _base.max_variants(self.info())
        return self._max_variants

    # --- transport ------------------------------------------------------------------------------------

    def call(self, call: Call[M]) -> M:
        """Send ``call`` with retries and return its model, or raise a ``ServiceAPIError``."""
        request = self.build_request(self._http, call)
        attempt = 0
        while True:
            try:
                response = self._http.send(request, follow_redirects=True)
            except httpx.RequestError as exc:
                delay = self.retry.after_exception(attempt, exc)
                if delay is None:
                    raise _base.transport_error(exc, request) from exc
            else:
                delay = self.retry.after_response(attempt, response)
                if delay is None:
                    return _base.read_response(call, response)
                response.close()
            self._sleep(delay)
            attempt += 1
