"""Fetch planning: nearby windows share one genome fetch.

Spans (0-based half-open) on the same chromosome that overlap or lie within ``max_gap`` bases of each
other are merged while the merged region stays within ``max_length``; each merged region is fetched
once and every window is cut out of it. Spans with different ``keys`` (the genome source that serves
each) are never merged, so a window a local source holds is read there, whatever its neighbours need.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from service.coords import Interval


@dataclass
class Cluster:
    interval: Interval
    members: list[int] = field(default_factory=list)  # indices into the spans given to cluster_spans


def cluster_spans(
    spans: Sequence[Interval | None],
    *,
    max_gap: int,
    max_length: int,
    keys: Sequence[Hashable] | None = None,
) -> list[Cluster]:
    """Group spans into fetch clusters; ``None`` entries (failed items) are skipped; spans of
    different ``keys`` (parallel to ``spans``) go to different clusters."""
    groups: dict[Hashable, list[int]] = {}
    for i, span in enumerate(spans):
        if span is not None:
            groups.setdefault(keys[i] if keys is not None else None, []).append(i)
    return [
        cluster
        for members in groups.values()
        for cluster in _merge(((spans[i], i) for i in members), max_gap=max_gap, max_length=max_length)
    ]


def _merge(items: Iterable[tuple[Interval | None, int]], *, max_gap: int, max_length: int) -> list[Cluster]:
    order = sorted(
        ((span, i) for span, i in items if span is not None),
        key=lambda item: (item[0].chrom, item[0].start, item[0].end),
    )
    clusters: list[Cluster] = []
    for span, index in order:
        last = clusters[-1] if clusters else None
        if (
            last is not None
            and last.interval.chrom == span.chrom
            and span.start <= last.interval.end + max_gap
            and max(last.interval.end, span.end) - last.interval.start <= max_length
        ):
            last.interval = Interval(span.chrom, last.interval.start, max(last.interval.end, span.end))
            last.members.append(index)
        else:
            clusters.append(Cluster(span, [index]))
    return clusters
