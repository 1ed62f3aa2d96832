"""Bulk scoring (service.jobs.bulk): VCF/TSV in, one TSV row per input row out, nearby variants fetched once.

Runs in-process with the k-mer scorer and the bundled BRCA1 slices (hg38 chr17:43,040,001-43,130,000;
hg19 chr17:41,190,001-41,285,000); no network.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from service.coords import Interval
from service.domain.delta import DeltaEngine
from service.domain.options import DeltaOptions
from service.errors import InvalidRequest
from service.genome.base import SourceIdentity
from service.genome.bundled import BundledGenome
from service.jobs import bulk
from service.scoring.kmer import KmerScorer
from service.settings import Settings
from tests.support.parts import delta_engine, model_runner

WINDOW = 2048
#: The chunking options the service's settings give.
SPAN = {"chunk_rows": Settings().bulk_chunk_rows, "max_span": Settings().cluster_max_bp}
BRCA1 = 43119628  # chr17:43119628 T>G (hg38), inside the bundled slice


class CountingGenome:
    """The bundled genome, recording every fetch."""

    name = "counting"

    def __init__(self) -> None:
        self.inner = BundledGenome()
        self.fetches: list[tuple[str, Interval]] = []

    async def chrom_sizes(self, genome: str) -> Mapping[str, int]:
        return await self.inner.chrom_sizes(genome)

    def covers(self, genome: str, interval: Interval) -> bool:
        return self.inner.covers(genome, interval)

    def holds_chromosome(self, genome: str, chrom: str) -> bool:
        return self.inner.holds_chromosome(genome, chrom)

    def identity(self, genome: str, chrom: str | None = None) -> SourceIdentity:
        return self.inner.identity(genome, chrom)

    def source_name(self, genome: str, interval: Interval) -> str | None:
        return self.inner.source_name(genome, interval)

    async def fetch(self, genome: str, interval: Interval) -> str:
        self.fetches.append((genome, interval))
        return await self.inner.fetch(genome, interval)

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


@pytest.fixture(scope="module")
def scorer() -> KmerScorer:
    return KmerScorer.load()


def make_engine(scorer: KmerScorer, genome: Any | None = None) -> DeltaEngine:
    from service.genome.layered import LayeredGenome

    source = genome if genome is not None else BundledGenome()
    return delta_engine(LayeredGenome([source]), model_runner(scorer))


def base(genome: str, chrom: str, pos: int) -> str:
    """The reference base at 1-based ``pos`` from the bundled slices."""
    return asyncio.run(BundledGenome().fetch(genome, Interval(chrom, pos - 1, pos)))


def other(b: str) -> str:
    return "A" if b != "A" else "C"


def snv(genome: str, pos: int) -> str:
    """``REF:ALT`` of an SNV at ``pos`` on chr17 with the true reference base."""
    b = base(genome, "chr17", pos)
    return f"{b}:{other(b)}"


def read_output(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def run(scorer: KmerScorer, rows: list[bulk.BulkRow], **kwargs: Any) -> list[bulk.BulkResult]:
    engine = make_engine(scorer)
    options = DeltaOptions(genome="hg38", window=WINDOW)
    return bulk.run_bulk(rows, options, bulk.local_map_fn(engine), progress=False, **{**SPAN, **kwargs})


# ------------------------------------------------------------------------------------------ files


@pytest.fixture
def bundled_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVO2_SERVICE_GENOME_SOURCES", '["bundled"]')
    monkeypatch.setenv("EVO2_SERVICE_ANNOTATION_SOURCES", '["bundled"]')  # no UCSC look-ups either


def score_file(source: Path, out: Path, *args: str) -> list[dict[str, str]]:
    """``python -m service.jobs.bulk SOURCE OUT --window 2048`` (the k-mer model, bundled slices)."""
    assert bulk.main([str(source), str(out), "--window", str(WINDOW), "--no-progress", *args]) == 0
    return read_output(out)


@pytest.mark.usefixtures("bundled_only")
def test_vcf_every_row_answered_in_order(scorer: KmerScorer, tmp_path: Path) -> None:
    assert base("hg38", "chr17", BRCA1) == "T"
    near = BRCA1 + 120
    b = base("hg38", "chr17", near)
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr17\t{BRCA1}\trs1\tT\tG,C\t.\tPASS\t.\n"  # multi-allelic: two rows
        "chr17\tnot-a-number\n"  # malformed
        f"17\t{near}\t.\t{b}\t{other(b)}\t.\t.\t.\n"  # 17 → chr17
        f"chr17\t{BRCA1}\tbad_ref\tA\tG\t.\t.\t.\n"  # reference mismatch
        "chr99\t1000\tnowhere\tA\tG\t.\t.\t.\n"  # unknown chromosome
        f"chr17\t{BRCA1}\tsymbolic\tT\t<DEL>\t.\t.\t.\n"  # unsupported ALT
    )
    rows = bulk.read_variants(vcf)
    assert [r.line for r in rows] == [3, 3, 4, 5, 6, 7, 8]

    table = score_file(vcf, tmp_path / "out.tsv")
    assert list(table[0]) == list(bulk.COLUMNS)
    assert [r["row"] for r in table] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [r["line"] for r in table] == ["3", "3", "4", "5", "6", "7", "8"]
    assert [r["status"] for r in table] == ["ok", "ok", "error", "ok", "error", "error", "error"]
    assert [r["error_type"] for r in table] == [
        "",
        "",
        "invalid_variant",
        "",
        "ref_mismatch",
        "unknown_chromosome",
        "invalid_variant",
    ]
    first, second = table[0], table[1]
    assert (first["id"], first["variant"], first["alt"]) == ("rs1", f"chr17:{BRCA1}:T:G", "G")
    assert second["variant"] == f"chr17:{BRCA1}:T:C"
    for row in (first, second, table[3]):
        assert math.isfinite(float(row["delta_score"]))
        assert float(row["delta_score"]) == pytest.approx(float(row["alt_score"]) - float(row["ref_score"]))
        assert row["model"] == scorer.name
        assert row["window_length"] == str(WINDOW)
    assert table[3]["chrom"] == "chr17" and table[3]["id"] == ""
    assert "the genome has T" in table[4]["error_message"]
    assert table[4]["input"] == f"chr17:{BRCA1}:A:G" and table[4]["variant"] == ""


@pytest.mark.usefixtures("bundled_only")
def test_tsv_variant_column_and_errors(scorer: KmerScorer, tmp_path: Path) -> None:
    tsv = tmp_path / "in.tsv"
    tsv.write_text(
        "id\tvariant\tgenome\n"
        f"a\tchr17:{BRCA1}:T:G\thg38\n"
        f"b\t17-{BRCA1}-T-C\t\n"  # genome column empty: the default
        "c\tthis is not a variant\thg38\n"
        f"d\tchr17:{BRCA1}:G:A\thg38\n"  # reference mismatch
        "e\tchrUn_xyz:5:A:G\thg38\n"  # unknown chromosome
        f"f\tchr17:{BRCA1}:T:G\n"  # the empty genome cell dropped (as editors do): the default
        "g\tchr17:100:A:G\thg99\n"  # unknown genome
    )
    table = score_file(tsv, tmp_path / "out.tsv")
    assert [r["id"] for r in table] == ["a", "b", "c", "d", "e", "f", "g"]
    assert [r["error_type"] for r in table] == [
        "",
        "",
        "invalid_variant",
        "ref_mismatch",
        "unknown_chromosome",
        "",
        "unknown_genome",
    ]
    assert [r["genome"] for r in table] == ["hg38"] * 6 + ["hg99"]
    assert table[0]["input"] == f"chr17:{BRCA1}:T:G"
    assert table[1]["variant"] == f"chr17:{BRCA1}:T:C"
    assert float(table[0]["delta_score"]) != float(table[1]["delta_score"])


def test_tsv_columns_gzip_and_missing_ref(scorer: KmerScorer, tmp_path: Path) -> None:
    b = base("hg38", "chr17", 43_060_000)
    path = tmp_path / "in.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("#chrom\tpos\tref\talt\n")
        handle.write(f"chr17\t43060000\t.\t{other(b)}\n")  # ref filled in from the genome
        handle.write(f"chr17\t43060000\t{b}\t{other(b)}\n")
        handle.write("chr17\tx12\tA\tG\n")  # bad position
        handle.write("chr17\t200000000\tA\tG\n")  # beyond the end of chr17
    results = run(scorer, bulk.read_variants(path))
    assert [r.values["status"] for r in results] == ["ok", "ok", "error", "error"]
    assert results[0].values["ref"] == b
    assert results[0].values["delta_score"] == pytest.approx(results[1].values["delta_score"])
    assert results[2].values["error_type"] == "invalid_variant"
    assert results[3].values["error_type"] == "out_of_bounds"


def test_tsv_without_usable_header_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="header"):
        bulk.read_tsv(["name\tscore\n", "x\t1\n"])


def test_window_is_checked_before_any_scoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVO2_SERVICE_GENOME_SOURCES", '["bundled"]')
    source = tmp_path / "in.tsv"
    source.write_text(f"variant\nchr17:{BRCA1}:T:G\n")
    out = tmp_path / "out.tsv"
    assert bulk.main([str(source), str(out), "--window", "1001"]) == 2
    assert not out.exists()
    assert "window must be an even number" in capsys.readouterr().err


# --------------------------------------------------------------------------------------- chunking


def test_each_region_is_fetched_once(scorer: KmerScorer) -> None:
    hg19_pos = 41_240_000
    b19 = base("hg19", "chr17", hg19_pos)
    far = 43_050_000
    bf = base("hg38", "chr17", far)
    lines = [
        "variant\tgenome\n",
        f"chr17:{BRCA1}:T:G\thg38\n",
        f"chr17:{far}:{bf}:{other(bf)}\thg38\n",
        f"chr17:{hg19_pos}:{b19}:{other(b19)}\thg19\n",
        f"chr17:{BRCA1}:T:C\thg38\n",
        f"chr17:{far + 300}:{snv('hg38', far + 300)}\thg38\n",
        f"chr17:{BRCA1 + 50}:{snv('hg38', BRCA1 + 50)}\thg38\n",
    ]
    rows = bulk.read_tsv(lines)
    assert all(r.error is None for r in rows)
    genome = CountingGenome()
    engine = make_engine(scorer, genome)
    chunk_calls: list[int] = []
    inner = bulk.local_map_fn(engine)

    def map_fn(chunks: list[bulk.Chunk]) -> Any:
        chunk_calls.append(len(chunks))
        return inner(chunks)

    options = DeltaOptions(genome="hg38", window=WINDOW)
    results = bulk.run_bulk(rows, options, map_fn, chunk_rows=3, max_span=SPAN["max_span"], progress=False)

    assert [r.values["status"] for r in results] == ["ok"] * len(rows)
    assert [r.row.index for r in results] == list(range(len(rows)))
    assert results[2].values["genome"] == "hg19"
    # Three regions (BRCA1 cluster, the cluster 70 kb upstream, hg19), three chunks, three fetches.
    assert chunk_calls == [3]
    assert len(genome.fetches) == 3
    by_genome: dict[str, list[Interval]] = {}
    for name, interval in genome.fetches:
        by_genome.setdefault(name, []).append(interval)
    hg38 = sorted(by_genome["hg38"])
    assert len(hg38) == 2 and hg38[0].end <= hg38[1].start  # disjoint: no base fetched twice
    assert len(by_genome["hg19"]) == 1


def test_chunks_keep_alleles_of_a_position_together() -> None:
    lines = ["variant\n"]
    positions = [BRCA1, BRCA1, BRCA1, BRCA1 + 10, BRCA1 + 20, BRCA1 + 20, BRCA1 + 30]
    alts = ["G", "C", "A", "A", "A", "C", "A"]
    lines += [f"chr17:{p}:T:{a}\n" for p, a in zip(positions, alts, strict=True)]
    rows = bulk.read_tsv(lines)
    options = DeltaOptions(genome="hg38", window=WINDOW)
    chunks = bulk.make_chunks(rows, options, chunk_rows=2, max_span=SPAN["max_span"])
    seen = sorted(r.index for c in chunks for r in c.rows)
    assert seen == list(range(len(rows)))
    for chunk in chunks:
        assert chunk.options.genome == "hg38" and chunk.options.window == WINDOW
    # A position's alleles never straddle two chunks.
    owner: dict[int, int] = {}
    for number, chunk in enumerate(chunks):
        for row in chunk.rows:
            assert row.variant is not None
            assert owner.setdefault(row.variant.pos, number) == number
    assert len(chunks[0].rows) == 3  # three alleles at BRCA1 exceed chunk_rows=2 but stay whole


def test_failed_chunk_becomes_error_rows(scorer: KmerScorer) -> None:
    rows = bulk.read_tsv(
        ["variant\n", f"chr17:{BRCA1}:T:G\n", "garbage\n", f"chr17:43060000:{snv('hg38', 43060000)}\n"]
    )
    engine = make_engine(scorer)
    inner = bulk.local_map_fn(engine)

    def flaky(chunks: list[bulk.Chunk]) -> Any:
        outputs = list(inner(chunks))
        outputs[0] = RuntimeError("container lost")
        return outputs

    results = bulk.run_bulk(
        rows, DeltaOptions("hg38", WINDOW), flaky, chunk_rows=1, max_span=SPAN["max_span"], progress=False
    )
    assert len(results) == 3
    failed = [r for r in results if r.values.get("error_type") == "internal_error"]
    assert len(failed) == 1 and "container lost" in failed[0].values["error_message"]
    assert results[1].values["error_type"] == "invalid_variant"

    # A map_fn that stops early (a lost connection) still leaves a row for every input row.
    short = bulk.run_bulk(
        rows,
        DeltaOptions("hg38", WINDOW),
        lambda c: [],
        chunk_rows=1,
        max_span=SPAN["max_span"],
        progress=False,
    )
    assert [r.values["error_type"] for r in short] == ["internal_error", "invalid_variant", "internal_error"]


def test_cli_runs_on_the_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVO2_SERVICE_GENOME_SOURCES", '["bundled"]')
    source = tmp_path / "in.vcf"
    source.write_text(f"#CHROM\tPOS\tID\tREF\tALT\nchr17\t{BRCA1}\t.\tT\tG\nchr17\t{BRCA1}\t.\tT\n")
    out = tmp_path / "out.tsv"
    assert bulk.main([str(source), str(out), "--window", str(WINDOW)]) == 0
    table = read_output(out)
    assert [r["status"] for r in table] == ["ok", "error"]
    assert table[0]["model"].startswith("kmer")


def test_what_bulk_containers_import_needs_no_clients_package() -> None:
    """Modal's containers ship ``service`` alone: scoring a chunk there must not import ``clients``."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import importlib.abc, pickle, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "clients":
                    raise ImportError(f"{name} is not in the container image")
                return None

        sys.meta_path.insert(0, Block())
        from service.jobs.bulk import BulkResult, BulkRow, Chunk, local_map_fn, score_chunk  # noqa: F401
        row = BulkRow(0, 2, "", "chr17:1:A:G", "hg38", None, {"type": "invalid_variant", "message": "x"})
        print(pickle.loads(pickle.dumps(BulkResult(row, {"status": "error"}))).ok)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.usefixtures("bundled_only")
def test_tsv_with_rsids_and_hgvs_is_resolved_offline(scorer: KmerScorer, tmp_path: Path) -> None:
    """Notations people have (ClinVar's, issue 17) in a file: resolved with the bundled BRCA1 records."""
    tsv = tmp_path / "in.tsv"
    tsv.write_text(
        "variant\n"
        "rs80357906\n"
        "NM_007294.4:c.68_69delAG\n"
        "BRCA1:c.181T>G\n"
        "NM_007294.4:c.181A>G\n"  # stated base wrong: ref_mismatch, as the API answers
        "NM_000492.3:c.1521_1523del\n"  # no CFTR model bundled
    )
    table = score_file(tsv, tmp_path / "out.tsv")
    assert [r["variant"] for r in table[:3]] == [
        "chr17:43057062:T:TG",
        "chr17:43124027:ACT:A",
        "chr17:43106487:A:C",
    ]
    assert [r["status"] for r in table[:3]] == ["ok"] * 3
    assert [r["error_type"] for r in table[3:]] == ["ref_mismatch", "unknown_transcript"]
