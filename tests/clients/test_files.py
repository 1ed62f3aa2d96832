"""clients.files: the one reader and writer of variant files (no server: records are built here)."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, get_args

import pytest

from clients.files import (
    COLUMNS,
    INFO_FIELDS,
    InputFile,
    ResultWriter,
    RunInfo,
    error_record,
    read_error_record,
    read_variants,
    scored_record,
)
from service.api.schemas import LabelName

ROOT = Path(__file__).resolve().parents[2]
RUN = RunInfo(model="kmer-8", revision="r1", genome="hg38", window=8192, version="0.1.0")
VCF = (
    "##fileformat=VCFv4.2\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "chr17\t43119628\trs1\tT\tG,C\t50\tPASS\tDP=7\n"
    "chr17\t43119700\t.\tA\t<DEL>\t.\t.\t.\n"
    "chr17\tshort\n"
    "chr17\t43119800\t.\tG\tA\t.\t.\t.\n"
)


def result(row: Any, delta: float) -> dict[str, Any]:
    """A scored result as the service answers it (the fields clients.files records)."""
    payload = row.payload
    if isinstance(payload, str):
        chrom, pos, ref, alt = payload.split(":")
        payload = {"chrom": chrom, "pos": int(pos), "ref": ref, "alt": alt}
    return {
        "genome": "hg38",
        "variant": f"{payload['chrom']}:{payload['pos']}:{payload.get('ref', 'N')}:{payload['alt']}",
        "chrom": payload["chrom"],
        "pos": payload["pos"],
        "ref": payload.get("ref", "N"),
        "alt": payload["alt"],
        "kind": "snv",
        "region": "chr17:43115532-43123723",
        "window_length": 8192,
        "ref_score": -1.25,
        "alt_score": -1.25 + delta,
        "delta_score": delta,
        "label": "uncalibrated",
        "probability_lof": None,
        "confidence": None,
        "model": "kmer-8",
        "warnings": [],
    }


def records(source: InputFile) -> list[dict[str, Any]]:
    """One record per row: unreadable rows and symbolic alleles as errors, the others scored."""
    out = []
    for row in source.rows:
        if row.payload is None:
            out.append(read_error_record(row, "hg38"))
        elif isinstance(row.payload, dict) and row.payload["alt"].startswith("<"):
            out.append(error_record(row, "hg38", "invalid_variant", "alt allele '<DEL>' must be A, C, G, T"))
        else:
            out.append(scored_record(row, result(row, -1e-4 * (row.index + 1))))
    return out


# --- reading -----------------------------------------------------------------------------------------


def test_vcf_rows_one_per_alt_with_id_and_line(tmp_path: Path) -> None:
    path = tmp_path / "in.vcf.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(VCF)
    source = read_variants(path)
    assert [(r.line, r.id, r.text) for r in source.rows] == [
        (4, "rs1", "chr17:43119628:T:G"),
        (4, "rs1", "chr17:43119628:T:C"),
        (5, "", "chr17:43119700:A:<DEL>"),
        (6, "", "chr17 short"),
        (7, "", "chr17:43119800:G:A"),
    ]
    assert source.rows[0].payload == {"chrom": "chr17", "pos": 43119628, "ref": "T", "alt": "G"}
    assert source.rows[3].payload is None and "needs CHROM, POS, ID, REF and ALT" in str(source.rows[3].error)
    assert source.vcf is not None and [r.rows for r in source.vcf.records] == [(0, 1), (2,), (4,)]


@pytest.mark.parametrize(
    "header",
    [
        "chrom\tpos\tref\talt",
        "#CHROM\tPOS\tREF\tALT",
        "contig\tstart\tref\talt",
        "Chromosome\tPosition\tReference\tAlternate",
    ],
)
def test_tsv_header_aliases(tmp_path: Path, header: str) -> None:
    path = tmp_path / "in.tsv"
    path.write_text(f"{header}\nchr17\t43119628\tT\tG\nchr17\t43119628\t.\tC\nchr17\tx\tT\tG\n")
    rows = read_variants(path).rows
    assert [r.payload for r in rows[:2]] == [
        {"chrom": "chr17", "pos": 43119628, "ref": "T", "alt": "G"},
        {"chrom": "chr17", "pos": 43119628, "alt": "C"},
    ]
    assert rows[2].payload is None and "position 'x' is not a 1-based integer" in str(rows[2].error)


def test_variant_column_id_genome_and_plain_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("id\tvariant\tgenome\na\tchr17:43119628:T:G\tGRCh37\nb\t17-43119628-T-C\n")
    rows = read_variants(path).rows
    assert [(r.id, r.payload, r.genome) for r in rows] == [
        ("a", "chr17:43119628:T:G", "GRCh37"),
        ("b", "17-43119628-T-C", None),  # a trailing empty cell dropped by an editor: still read
    ]
    plain = tmp_path / "p.txt"
    plain.write_text("# my variants\nchr17:43119628:T:G\n17:43119628 T>A\tcomment\n")
    assert [(r.line, r.payload) for r in read_variants(plain).rows] == [
        (2, "chr17:43119628:T:G"),
        (3, "17:43119628 T>A"),
    ]
    bad = tmp_path / "bad.tsv"
    bad.write_text("chrom\tscore\nchr17\t1\n")
    with pytest.raises(ValueError, match="needs a 'variant' column or 'chrom', 'pos', 'ref' and 'alt'"):
        read_variants(bad)


# --- writing -----------------------------------------------------------------------------------------


def vcf_source(tmp_path: Path) -> InputFile:
    path = tmp_path / "in.vcf"
    path.write_text(VCF)
    return read_variants(path)


def read_text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt") as handle:
            return handle.read()
    return path.read_text()


def write_all(path: Path, source: InputFile, order: list[int] | None = None) -> set[int]:
    writer = ResultWriter(path, source, RUN)
    done = writer.open()
    try:
        todo = [r for r in records(source) if r["row"] - 1 not in done]
        for index in order or range(len(todo)):
            writer.put([todo[index]])
    finally:
        writer.close()
    return done


def test_the_label_field_names_the_labels_the_service_gives() -> None:
    """EVO2_LABEL's description in the VCF header names the service's labels and what '.' means; no
    label value the service does not give (outside its calibration a label is null, with a reason)."""
    description = next(field[3] for field in INFO_FIELDS if field[0] == "EVO2_LABEL")
    assert set(re.findall(r"\b[a-z]+_[a-z_]+\b|uncalibrated", description)) == set(get_args(LabelName)) | {
        "label_reason"
    }
    assert ". where it gives none" in description


def test_rows_are_written_in_input_order_whatever_order_they_finish(tmp_path: Path) -> None:
    source = vcf_source(tmp_path)
    out = tmp_path / "out.tsv"
    writer = ResultWriter(out, source, RUN)
    assert writer.open() == set()
    done = records(source)
    writer.put([done[2], done[4]])
    assert out.read_text().count("\n") == 1  # the header: row 1 is not in yet
    writer.put([done[0]])
    assert out.read_text().count("\n") == 2  # row 1 written; row 2 still missing
    writer.put([done[1], done[3]])
    writer.close()
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == list(COLUMNS)
    assert [line.split("\t")[0] for line in lines[1:]] == ["1", "2", "3", "4", "5"]
    jsonl = tmp_path / "out.jsonl"
    write_all(jsonl, source)
    parsed = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [p["status"] for p in parsed] == ["ok", "ok", "error", "error", "ok"]
    assert parsed[0]["delta_score"] == -1e-4 and parsed[3]["error_type"] == "invalid_variant"


def test_annotated_vcf_carries_the_scores_and_reads_back_with_pysam(tmp_path: Path) -> None:
    pysam = pytest.importorskip("pysam")
    source = vcf_source(tmp_path)
    for name in ("out.vcf", "out.vcf.gz"):
        out = tmp_path / name
        write_all(out, source)
        text = read_text(out)
        assert (
            '##evo2_variant_service=<ID=scores,Model="kmer-8",Revision="r1",Genome="hg38",Window=8192' in text
        )
        assert "##INFO=<ID=EVO2_DELTA,Number=A,Type=Float" in text and "##INFO=<ID=DP," in text
        with pysam.VariantFile(str(out)) as vcf:
            got = [
                (r.pos, r.alts, r.info["EVO2_STATUS"], r.info["EVO2_DELTA"], r.info.get("DP")) for r in vcf
            ]
        assert [g[:3] for g in got] == [
            (43119628, ("G", "C"), ("ok", "ok")),
            (43119700, ("<DEL>",), ("error",)),
            (43119800, ("A",), ("ok",)),
        ]
        assert got[0][3] == pytest.approx((-1e-4, -2e-4)) and got[0][4] == 7  # the input's INFO kept
        assert got[1][3] == (None,)
    assert (tmp_path / "out.vcf.gz.tbi").is_file() and not (tmp_path / "out.vcf.gz.partial").exists()
    with pysam.VariantFile(str(tmp_path / "out.vcf.gz")) as vcf:
        assert [r.pos for r in vcf.fetch("chr17", 43119699, 43119800)] == [43119700, 43119800]


def test_vcf_gz_needs_sorted_records_and_pysam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unsorted = tmp_path / "in.vcf"
    unsorted.write_text("#CHROM\tPOS\tID\tREF\tALT\nchr17\t200\t.\tA\tG\nchr17\t100\t.\tA\tG\n")
    source = read_variants(unsorted)
    with pytest.raises(ValueError, match=r"needs records sorted by position: line 3 .* sort the input"):
        ResultWriter(tmp_path / "out.vcf.gz", source, RUN)
    monkeypatch.setitem(sys.modules, "pysam", None)  # as if pysam were not installed
    with pytest.raises(ImportError, match=r"needs pysam: pip install 'evo2-variant-service\[vcf\]'"):
        ResultWriter(tmp_path / "out.vcf.gz", source, RUN)
    plain = ResultWriter(tmp_path / "out.vcf", source, RUN)  # a plain VCF needs no pysam
    plain.open()
    plain.close()


@pytest.mark.parametrize("name", ["out.tsv", "out.jsonl", "out.vcf", "out.vcf.gz"])
def test_a_rerun_resumes_without_duplicates_or_gaps(tmp_path: Path, name: str) -> None:
    if name.endswith(".gz"):
        pytest.importorskip("pysam")
    source = vcf_source(tmp_path)
    complete = tmp_path / f"complete-{name}"
    write_all(complete, source)
    out = tmp_path / name
    writer = ResultWriter(out, source, RUN)
    writer.open()
    writer.put(records(source)[:2])  # stopped after the first record's two alleles
    writer.close()
    assert write_all(out, source) == {0, 1}
    assert read_text(out) == read_text(complete)
    assert write_all(out, source) == set(range(5)) - ({3} if "vcf" in name else set())  # nothing left


def test_transient_errors_are_rescored_in_place_and_foreign_outputs_refused(tmp_path: Path) -> None:
    source = vcf_source(tmp_path)
    out = tmp_path / "out.tsv"
    writer = ResultWriter(out, source, RUN)
    writer.open()
    first = records(source)
    first[1] = error_record(source.rows[1], "hg38", "upstream_unavailable", "UCSC is failing")
    writer.put(first)
    writer.close()
    assert write_all(out, source) == {0, 2, 3, 4}  # row 2 is scored again
    lines = out.read_text().splitlines()
    assert [line.split("\t")[COLUMNS.index("status")] for line in lines[1:]] == [
        "ok",
        "ok",
        "error",
        "error",
        "ok",
    ]
    before = out.read_text()
    other_model = RunInfo(model="evo2_7b")
    with pytest.raises(ValueError, match="holds scores of model kmer-8, and this run uses evo2_7b"):
        ResultWriter(out, source, other_model).open()
    other = tmp_path / "other.tsv"
    other.write_text("variant\nchr1:100:A:G\n")
    with pytest.raises(ValueError, match="holds results for another input"):
        ResultWriter(out, read_variants(other), RUN).open()
    assert out.read_text() == before


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[3])
    from clients.files import ResultWriter, RunInfo, read_variants
    from tests.clients.test_files import RUN, records

    source = read_variants(sys.argv[1])
    writer = ResultWriter(__import__("pathlib").Path(sys.argv[2]), source, RUN)
    writer.open()
    print("open", flush=True)
    for record in records(source):
        writer.put([record])
        time.sleep(0.05)
    time.sleep(60)
    """
)


def test_a_killed_writer_leaves_whole_rows_and_the_rerun_completes_them(tmp_path: Path) -> None:
    source_path = tmp_path / "in.tsv"
    source_path.write_text("variant\n" + "".join(f"chr17:{43119000 + i}:A:G\n" for i in range(400)))
    source = read_variants(source_path)
    expected = tmp_path / "expected.jsonl"
    write_all(expected, source)
    out = tmp_path / "out.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(source_path), str(out), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "open"
    deadline = time.monotonic() + 60
    while out.read_text().count("\n") < 20 and time.monotonic() < deadline:  # some rows, not all
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    partial = out.read_text().splitlines()
    assert 0 < len(partial) < 400
    assert [json.loads(line)["row"] for line in partial] == list(range(1, len(partial) + 1))
    done = write_all(out, source)
    assert len(done) == len(partial) and out.read_text() == expected.read_text()
