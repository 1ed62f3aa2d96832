"""What a request costs in model tokens, before any work is done.

A model token is one base of one sequence in one forward pass: scoring a window of ``W`` bases costs
``W`` tokens, on both strands ``2 W``. One function per endpoint gives an upper bound from the request
alone (no genome read, no cache consulted), so a request is priced, checked against the per-request
limit and charged to its client before it costs anything:

* ``/variant-delta``: every variant scores a reference and an alternate window;
* ``/saturation``: every position scores one reference window and three alternate windows;
* ``/score``: the bases of every sequence;
* ``/embed``: the bases of every sequence, or a variant's two windows.

Reference windows that are shared or already cached are charged too: the price is what the request
may cost, not what it turns out to cost. A cheaper way to score alternate windows changes its
endpoint's function here, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.errors import LimitExceeded

#: Windows one variant scores: its reference window and its alternate window.
WINDOWS_PER_VARIANT = 2
#: Windows one saturation position scores: one reference window, three alternate windows.
WINDOWS_PER_POSITION = 4


@dataclass(frozen=True)
class Cost:
    """The model-token price of one request and how it was reckoned (for people)."""

    endpoint: str
    tokens: int
    reckoning: str


def strands(reverse_complement: bool) -> int:
    return 2 if reverse_complement else 1


def _windows_cost(endpoint: str, items: int, what: str, per_item: int, window: int, rc: bool) -> Cost:
    n = strands(rc)
    return Cost(
        endpoint,
        items * per_item * window * n,
        f"{items:,} {what} × {per_item} windows × {window:,} bp × {n} strand(s)",
    )


def variant_delta_cost(variants: int, window: int, *, reverse_complement: bool) -> Cost:
    """``/variant-delta`` (and the legacy call): 2 windows per variant × window length × strands."""
    return _windows_cost(
        "/variant-delta", variants, "variants", WINDOWS_PER_VARIANT, window, reverse_complement
    )


def saturation_cost(positions: int, window: int, *, reverse_complement: bool) -> Cost:
    """``/saturation``: 4 windows per position (1 reference, 3 alternates) × window length × strands."""
    return _windows_cost(
        "/saturation", positions, "positions", WINDOWS_PER_POSITION, window, reverse_complement
    )


def score_cost(lengths: Sequence[int], *, reverse_complement: bool) -> Cost:
    """``/score``: the bases of every sequence × strands."""
    bases = sum(lengths)
    n = strands(reverse_complement)
    return Cost("/score", bases * n, f"{bases:,} bases × {n} strand(s)")


def embed_cost(lengths: Sequence[int]) -> Cost:
    """``/embed``: one forward pass over each sequence (a variant's: its reference and alternate window)."""
    bases = sum(lengths)
    return Cost("/embed", bases, f"{len(lengths):,} sequence(s), {bases:,} bases")


@dataclass(frozen=True)
class CostLimit:
    """The largest price one request may have."""

    max_tokens: int

    def check(self, cost: Cost) -> Cost:
        """``cost`` itself, or ``LimitExceeded`` naming the cost and the limit."""
        if cost.tokens > self.max_tokens:
            raise LimitExceeded(
                f"this request would cost {cost.tokens:,} model tokens ({cost.reckoning}); at most "
                f"{self.max_tokens:,} per request: use a smaller window, fewer variants or positions, or "
                "no reverse complement",
                detail={
                    "cost_tokens": cost.tokens,
                    "max_request_tokens": self.max_tokens,
                    "reckoning": cost.reckoning,
                },
            )
        return cost
