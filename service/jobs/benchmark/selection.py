"""Which rows of the Findlay table a benchmark run scores."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal

from service.jobs.benchmark.findlay import FindlaySnv

#: ``first``: the first ``n`` rows of the table (the original project fitted on the first 500);
#: ``stratified``: a seeded sample keeping the table's proportions of LOF × coding strata.
Subset = Literal["first", "stratified"]


def select_snvs(
    snvs: Sequence[FindlaySnv], n: int | None, subset: Subset = "first", seed: int = 0
) -> list[FindlaySnv]:
    """The rows to score, in table order (see ``Subset``); ``n=None`` keeps them all."""
    if n is None or n >= len(snvs):
        return list(snvs)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if subset == "first":
        return list(snvs[:n])
    strata: dict[tuple[bool, bool], list[int]] = {}
    for i, snv in enumerate(snvs):
        strata.setdefault((snv.is_lof, snv.is_coding), []).append(i)
    keys = sorted(strata)
    # Proportional allocation, largest remainder; every stratum gets one row when n allows.
    exact = {k: n * len(strata[k]) / len(snvs) for k in keys}
    take = {k: int(exact[k]) for k in keys}
    if n >= len(keys):
        for k in keys:
            take[k] = max(take[k], 1)
    for k in sorted(keys, key=lambda k: exact[k] - int(exact[k]), reverse=True):
        if sum(take.values()) >= n:
            break
        take[k] += 1
    while sum(take.values()) > n:
        largest = max(keys, key=lambda k: take[k])
        take[largest] -= 1
    rng = random.Random(seed)
    chosen = sorted(i for k in keys for i in rng.sample(strata[k], take[k]))
    return [snvs[i] for i in chosen]
