"""One input file, the same rows whichever path scores it: the CLI (over HTTP), ``python -m
service.jobs.bulk`` (in this process) and the Modal entrypoint (its local body, Modal's ``.map``
replaced by an in-process one), for every output format; and each path resumes an interrupted run.

All three score with the k-mer model on the bundled BRCA1 slices: no network, no GPU.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from clients.cli import main as cli_main
from clients.files import RunInfo
from service.genome.bundled import BundledGenome
from service.jobs import bulk
from service.scoring.kmer import KmerScorer
from tests.support.live_server import LiveServer, bundled_app
from tests.support.parts import engine_for

WINDOW = "2048"
VCF = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "chr17\t43119628\trs1\tT\tG,C\t.\tPASS\t.\n"  # two alleles
    "chr17\t43119629\tref_free\t.\tA\t.\t.\t.\n"  # no REF: scored on the assumed default build
    "chr17\t43119640\tbad_ref\tA\tG\t.\t.\t.\n"  # the genome has another base
    "chr17\t43119650\tsymbolic\tC\t<DEL>\t.\t.\t.\n"
    "chr17\tabc\tbad_pos\tT\tG\t.\t.\t.\n"
    "chr17\t43119660\n"  # too short
    "chr17\t43120000\tdel\tTG\tT\t.\t.\t.\n"
    "chr99\t1000\tnowhere\tA\tG\t.\t.\t.\n"
)


def read(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt") as handle:
            return handle.read()
    return path.read_text()


def fixed_vcf(tmp_path: Path) -> Path:
    """The VCF above with each REF the genome's base (except the rows meant to fail)."""
    import asyncio

    from service.coords import Interval

    genome = BundledGenome()
    lines = []
    for line in VCF.splitlines():
        cells = line.split("\t")
        if not line.startswith("#") and len(cells) >= 5 and cells[1].isdigit() and cells[2] in ("rs1", "del"):
            start = int(cells[1]) - 1
            cells[3] = asyncio.run(genome.fetch("hg38", Interval("chr17", start, start + len(cells[3]))))
            cells[4] = (
                ",".join(a if a != cells[3] else "A" for a in cells[4].split(","))
                if cells[2] == "rs1"
                else cells[3][0]
            )
        lines.append("\t".join(cells))
    path = tmp_path / "in.vcf"
    path.write_text("\n".join(lines) + "\n")
    return path


class FakeService:
    """``BulkWorker`` with ``score_chunk.map`` run here, over the k-mer engine."""

    engine: Any = None

    class score_chunk:
        @staticmethod
        def map(rows: list[Any], options: list[Any], **kwargs: Any) -> Any:
            chunks = [bulk.Chunk(tuple(r), o) for r, o in zip(rows, options, strict=True)]
            return bulk.local_map_fn(FakeService.engine)(chunks)

    @classmethod
    def with_options(cls, **kwargs: Any) -> Any:
        return cls


@pytest.fixture
def modal_deploy(monkeypatch: pytest.MonkeyPatch) -> Any:
    import modal_deploy as md

    FakeService.engine = engine_for(KmerScorer.load(), BundledGenome())
    monkeypatch.setattr(md, "BulkWorker", FakeService)
    monkeypatch.setattr(md, "deployed", lambda name: None)
    return md


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".vcf", ".vcf.gz"])
def test_cli_bulk_and_modal_write_the_same_rows(
    tmp_path: Path, suffix: str, modal_deploy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if suffix == ".vcf.gz":
        pytest.importorskip("pysam")
    source = fixed_vcf(tmp_path)
    outs = {name: tmp_path / f"{name}{suffix}" for name in ("cli", "bulk", "modal")}
    with LiveServer(bundled_app()) as server:
        command = ["score", "-i", str(source), "-o", str(outs["cli"]), "--window", WINDOW, "--no-progress"]
        assert cli_main([*command, "--url", server.url]) == 0
    monkeypatch.setenv("EVO2_SERVICE_GENOME_SOURCES", '["bundled"]')
    assert bulk.main([str(source), str(outs["bulk"]), "--window", WINDOW, "--no-progress"]) == 0
    modal_deploy.score_variants.info.raw_f(str(source), str(outs["modal"]), window=int(WINDOW))

    cli, local, remote = (read(p) for p in outs.values())
    assert cli == local
    # The Modal run's header names the deployed model (evo2_7b) though this test scores with k-mers.
    assert [x for x in remote.splitlines() if not x.startswith("##evo2_variant_service")] == [
        x for x in cli.splitlines() if not x.startswith("##evo2_variant_service")
    ]
    body = [line for line in cli.splitlines() if not line.startswith("#")]
    if suffix == ".tsv":
        statuses = [line.split("\t")[bulk.COLUMNS.index("status")] for line in body[1:]]
        assert statuses == ["ok", "ok", "ok", "error", "error", "error", "error", "ok", "error"]
        assert "scored on hg38, the default" in body[3]  # the reference-free row's warning
    if suffix.startswith(".vcf"):
        assert len(body) == 6  # not the short line nor POS 'abc': only TSV and JSON Lines hold them


def test_each_path_resumes_an_interrupted_run(tmp_path: Path, modal_deploy: Any) -> None:
    """A run stopped after its first chunk keeps that chunk's rows; the rerun through the Modal
    entrypoint scores only the rest and ends with the rows of an uninterrupted run."""
    scorer = KmerScorer.load()
    scorer.name = modal_deploy.DEPLOY.model  # the model the deployment names, so the rows agree with it
    FakeService.engine = engine_for(scorer, BundledGenome())
    source = fixed_vcf(tmp_path)
    clean = tmp_path / "clean.tsv"
    modal_deploy.score_variants.info.raw_f(str(source), str(clean), genome="hg38", window=2048)

    scored: list[int] = []
    inner = bulk.local_map_fn(FakeService.engine)

    def stops_after_one_chunk(chunks: list[bulk.Chunk]) -> Any:
        for number, output in enumerate(inner(chunks)):
            if number == 1:
                raise KeyboardInterrupt
            scored.extend(r.row.index for r in output)
            yield output

    out = tmp_path / "out.tsv"
    options = FakeService.engine.options(genome="hg38", window=2048)
    job = bulk.BulkJob.open(source, out, options, RunInfo(model=scorer.name))
    with pytest.raises(KeyboardInterrupt):
        job.run(stops_after_one_chunk, chunk_rows=3, max_span=1_000_000, progress=False)
    kept = out.read_text().splitlines()[1:]
    assert 0 < len(kept) < 9 and scored
    assert [line.split("\t")[0] for line in kept] == [str(i) for i in range(1, len(kept) + 1)]

    again = bulk.BulkJob.open(source, out, options, RunInfo(model=scorer.name))
    again.writer.close()
    assert again.done == set(range(len(kept)))  # none of them is scored again
    modal_deploy.score_variants.info.raw_f(str(source), str(out), genome="hg38", window=2048)
    assert out.read_text() == clean.read_text()
