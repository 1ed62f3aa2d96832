"""The names a user imports from ``clients``: renaming or dropping one breaks their code, so it is pinned."""

from __future__ import annotations

import clients

PUBLIC = {
    "AlleleResults",
    "Resolution",
    "ResolveResponse",
    "ResolveResult",
    "APIConnectionError",
    "APITimeoutError",
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
}


def test_the_public_names_are_pinned_and_importable() -> None:
    assert set(clients.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(clients, name) is not None


def test_both_clients_offer_the_same_methods() -> None:
    def methods(cls: type) -> set[str]:
        return {n for n in vars(cls) if not n.startswith("_") and callable(getattr(cls, n))}

    # The sync client closes with close(), the async one with aclose() (as httpx's clients do).
    assert methods(clients.Client) - {"close"} == methods(clients.AsyncClient) - {"aclose"}
    assert {
        "variant_delta",
        "variant_deltas",
        "score",
        "saturation",
        "health",
        "info",
        "analyze_single_variant",
        "embed",
    } <= methods(clients.Client)
