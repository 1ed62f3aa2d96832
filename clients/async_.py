"""``AsyncClient``: the same API as ``Client``, awaited (asyncio or trio, through anyio).

from clients import AsyncClient

async with AsyncClient() as client:
    result = await client.variant_delta("chr17:43119628:T:G")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, overload

import anyio
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


class AsyncClient(BaseClient):
    """Non-blocking client of the Evo 2 variant service; arguments as for ``Client``."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_retries: int = _base.MAX_RETRIES,
        timeout: httpx.Timeout | float | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        max_variants_per_request: int | None = None,
    ) -> None:
        super().__init__(base_url, api_key, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, timeout=timeout if timeout is not None else _base.default_timeout()
        )
        self._sleep = sleep
        self._max_variants = max_variants_per_request

    # --- lifecycle ------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- endpoints ------------------------------------------------------------------------------------

    async def health(self) -> HealthResponse:
        """``GET /health``: liveness, no key needed."""
        return await self.call(_base.health_call())

    async def info(self) -> InfoResponse:
        """``GET /info``: model, calibration, defaults and limits."""
        return await self.call(_base.info_call())

    async def score(
        self, sequences: Sequence[str], per_position: bool = False, reverse_complement: bool = False
    ) -> ScoreResponse:
        """``POST /score``: log-likelihood of DNA sequences."""
        return await self.call(_base.score_call(sequences, per_position, reverse_complement))

    @overload
    async def variant_delta(  # type: ignore[overload-overlap]  # a str is one variant
        self,
        variant: VariantLike,
        *,
        genome: str | None = ...,
        window: int | None = ...,
        delta_method: str | None = ...,
        reverse_complement: bool | None = ...,
    ) -> VariantResult | AlleleResults: ...

    @overload
    async def variant_delta(
        self,
        variant: Sequence[VariantLike],
        *,
        genome: str | None = ...,
        window: int | None = ...,
        delta_method: str | None = ...,
        reverse_complement: bool | None = ...,
    ) -> VariantDeltaResponse: ...

    async def variant_delta(
        self,
        variant: Any,
        *,
        genome: str | None = None,
        window: int | None = None,
        delta_method: str | None = None,
        reverse_complement: bool | None = None,
    ) -> VariantResult | AlleleResults | VariantDeltaResponse:
        """``POST /variant-delta``; see ``Client.variant_delta``."""
        options = _base.delta_options(genome, window, delta_method, reverse_complement)
        if _base.is_single_variant(variant):
            response = await self.call(_base.variant_delta_call(variant, options))
            return _base.single_result(response)
        return await self.variant_deltas(
            variant,
            genome=genome,
            window=window,
            delta_method=delta_method,
            reverse_complement=reverse_complement,
        )

    async def variant_deltas(
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
        calls = _base.variant_deltas_calls(variants, options, await self.max_variants_per_request())
        return _base.merge_delta([await self.call(c) for c in calls])

    async def resolve(self, variants: Any, *, genome: str | None = None) -> ResolveResponse:
        """``POST /resolve``: rsIDs, HGVS (``NM_007294.4:c.5266dupC``), gene symbols
        (``BRCA1:c.181T>G``) or genomic notations → the genomic variants they mean, not scored;
        one notation or a list (at most the server's ``max_variants``), answered in order."""
        return await self.call(_base.resolve_call(variants, genome))

    async def analyze_single_variant(
        self,
        chromosome: str,
        variant_position: int,
        alternative: str,
        genome: str | None = None,
        reference: str | None = None,
    ) -> LegacyAnalysisResponse:
        """``POST /analyze_single_variant``: the original frontend's call; ``variant_position`` 1-based."""
        return await self.call(
            _base.analyze_single_variant_call(chromosome, variant_position, alternative, genome, reference)
        )

    async def saturation(
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
        return await self.call(_base.saturation_call(region, chrom, start, end, options))

    async def embed(
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
        return await self.call(_base.embed_call(sequences, variant, layers, per_position, genome, window))

    async def max_variants_per_request(self) -> int:
        """The server's ``limits.max_variants`` (asked once), unless given to the constructor."""
        if self._max_variants is None:
            self._max_variants = _base.max_variants(await self.info())
        return self._max_variants

    # --- transport ------------------------------------------------------------------------------------

    async def call(self, call: Call[M]) -> M:
        """Send ``call`` with retries and return its model, or raise a ``ServiceAPIError``."""
        request = self.build_request(self._http, call)
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, follow_redirects=True)
            except httpx.RequestError as exc:
                delay = self.retry.after_exception(attempt, exc)
                if delay is None:
                    raise _base.transport_error(exc, request) from exc
            else:
                delay = self.retry.after_response(attempt, response)
                if delay is None:
                    return _base.read_response(call, response)
                await response.aclose()
            await self._sleep(delay)
            attempt += 1
