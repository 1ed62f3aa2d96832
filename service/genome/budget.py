"""How many remote fetches one request may cause: a budget carried in a context variable.

The caller that stands for one request (``DeltaEngine``: one call scores one request's variants)
opens a budget with ``fetch_budget(n)``; a remote source calls ``charge_fetch`` before each fetch it
sends upstream (not for cache hits, not for fetches it joins), and the fetch beyond the n-th is refused
with ``LimitExceeded``: that region's variants are answered with the error, the others are scored.
Tasks started inside the ``with`` block (``asyncio.gather``) share the budget; nested blocks use the
outer one; code that opens none (a test, a tool) is not limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from service.coords import Interval
from service.errors import LimitExceeded


class FetchBudget:
    def __init__(self, max_fetches: int) -> None:
        if max_fetches < 1:
            raise ValueError("max_fetches must be at least 1")
        self.max_fetches = max_fetches
        self.used = 0
        self.refused = 0

    def take(self, source: str, region: Interval | str) -> None:
        """Count one fetch from ``source`` (of a region, or a look-up such as ``transcript
        NM_007294.4``), or raise ``LimitExceeded`` when the budget is spent."""
        if self.used >= self.max_fetches:
            self.refused += 1
            what = region.region() if isinstance(region, Interval) else region
            raise LimitExceeded(
                f"not fetching {what}: this request has used its {self.max_fetches} {source} "
                f"fetches (its variants lie in more separate regions, or name more transcripts and rsIDs "
                f"to look up, than one request may fetch from {source}); send fewer, closer variants per "
                "request, or use a local FASTA and gene-model file for bulk work",
                detail={"source": source, "region": what, "max_fetches_per_request": self.max_fetches},
            )
        self.used += 1


_budget: ContextVar[FetchBudget | None] = ContextVar("fetch_budget", default=None)


@contextmanager
def fetch_budget(max_fetches: int) -> Iterator[FetchBudget]:
    """A budget of ``max_fetches`` remote fetches for the code inside (the outer one when nested)."""
    outer = _budget.get()
    if outer is not None:
        yield outer
        return
    budget = FetchBudget(max_fetches)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def charge_fetch(source: str, region: Interval | str) -> None:
    """Count one remote fetch (a region, or a look-up named by ``region``) against the current
    request's budget (none open: not counted)."""
    budget = _budget.get()
    if budget is not None:
        budget.take(source, region)
