"""Fetch planning by source coverage: a window a local source holds is read there, whatever its
neighbours need (offline: the bundled BRCA1 slices only, hg38 chr17:43,040,001-43,130,000)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.coords import Interval
from service.domain.planner import cluster_spans
from service.jobs import bulk
from tests.support.ucsc_server import reference_bases

SLICE = Interval("chr17", 43_039_999, 43_130_000)  # the bundled hg38 slice, 0-based half-open


def base(pos: int) -> str:
    """The hg38 chr17 base at 1-based ``pos`` (the bundled slice's own bases)."""
    bases = reference_bases("hg38", "chr17", pos - 1, pos)
    assert bases is not None
    return bases


def inside(pos: int, window: int) -> bool:
    p = pos - 1
    return SLICE.start <= p - window // 2 and p + window // 2 <= SLICE.end


def test_spans_of_different_sources_never_share_a_cluster() -> None:
    spans = [Interval("chr1", 0, 100), Interval("chr1", 50, 150), Interval("chr1", 120, 200), None]
    mixed = cluster_spans(spans, max_gap=30, max_length=10_000, keys=["local", "remote", "local", None])
    assert sorted((c.interval, c.members) for c in mixed) == [
        (Interval("chr1", 0, 200), [0, 2]),
        (Interval("chr1", 50, 150), [1]),
    ]
    assert [c.members for c in cluster_spans(spans, max_gap=30, max_length=10_000)] == [[0, 1, 2]]


@pytest.mark.anyio
async def test_a_neighbour_outside_the_slice_does_not_sink_a_bundled_variant(make_app: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(make_app()), base_url="http://t") as client:
        alone = await client.post("/variant-delta", json={"variants": ["chr17:43119628:T:G"]})
        mixed = await client.post(
            "/variant-delta",
            json={"variants": ["chr17:43119628:T:G", {"chrom": "chr17", "pos": 43127000, "alt": "A"}]},
        )
    first, second = mixed.json()["results"]
    assert first["delta_score"] == alone.json()["results"][0]["delta_score"]
    assert second["error"]["type"] == "region_unavailable"


@pytest.mark.anyio
async def test_every_window_inside_the_slice_is_scored_at_a_wide_window(make_app: Any) -> None:
    window = 32_768
    positions = range(43_090_000, 43_129_900, 500)
    variants = [f"chr17:{p}:{base(p)}:{'A' if base(p) != 'A' else 'C'}" for p in positions]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(make_app()), base_url="http://t") as client:
        response = await client.post("/variant-delta", json={"variants": variants, "window": window})
    results = response.json()["results"]
    scored = [p for p, r in zip(positions, results, strict=True) if "delta_score" in r]
    assert scored == [p for p in positions if inside(p, window)]
    assert len(scored) > 40
    assert {r["error"]["type"] for r in results if "error" in r} == {"region_unavailable"}


def test_an_offline_bulk_run_keeps_every_row_whose_window_is_in_the_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = 32_768
    positions = list(range(43_045_000, 43_129_900, 250))
    source = tmp_path / "in.tsv"
    source.write_text(
        "chrom\tpos\tref\talt\n"
        + "".join(f"chr17\t{p}\t{base(p)}\t{'A' if base(p) != 'A' else 'C'}\n" for p in positions)
    )
    monkeypatch.setenv("EVO2_SERVICE_GENOME_SOURCES", '["bundled"]')
    out = tmp_path / "out.tsv"
    assert bulk.main([str(source), str(out), "--window", str(window)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    kept = [int(row["pos"]) for row in rows if row["status"] == "ok"]
    assert kept == [p for p in positions if inside(p, window)]
    assert len(rows) == len(positions)
