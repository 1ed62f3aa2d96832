"""``evo2-variant`` end to end: CLI → HTTP (uvicorn on 127.0.0.1) → app → stand-in UCSC → kmer scorer."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients import _base
from clients.cli import main
from clients.io import COLUMNS, read_variants
from service.api.app import create_app
from service.settings import Settings
from tests.support.live_server import LiveServer, RecordingApp, bundled_app
from tests.support.ucsc_server import UcscServer

ROOT = Path(__file__).resolve().parents[2]
SLICE = ROOT / "service/data/genome/hg38_chr17_43040000-43130000.fa"
SLICE_START = 43_040_000  # 1-based position of the slice's first base


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, RecordingApp]]:
    with UcscServer() as ucsc:
        recorder = RecordingApp(create_app(Settings(genome_sources=["ucsc"], ucsc_base_url=ucsc.url)))
        with LiveServer(recorder) as server:
            yield server.url, recorder


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_base.URL_ENV, raising=False)
    monkeypatch.delenv(_base.API_KEY_ENV, raising=False)


def hg38_slice() -> str:
    lines = SLICE.read_text().splitlines()
    return "".join(lines[1:]).upper()


#: Rows that cannot be scored, by the error type their output row must carry.
BAD_ROWS = {
    "ref_mismatch": "chr17\t43119628\tbad1\tA\tG",  # the genome has T
    "unknown_chromosome": "chrZ\t1000\tbad2\tA\tG",
    "invalid_variant": "chr17\t43119628\tbad3\tT\t<DEL>",
    "invalid_input": "chr17\tabc\tbad4\tT\tG",  # not sent: the position is not a number
}


def write_vcf(path: Path, n: int = 500, seed: int = 7) -> dict[str, str]:
    """``n`` SNVs and deletions with the right reference bases, the BAD_ROWS and a short line, as a
    VCF; returns the expected ``row key → error type`` ('' for rows that score)."""
    seq = hg38_slice()
    rng = random.Random(seed)
    positions = sorted(rng.sample(range(43_045_000, 43_125_000), n))
    body: list[tuple[str, str]] = []
    for i, pos in enumerate(positions):
        ref = seq[pos - SLICE_START]
        if i % 25 == 0:  # a 2-bp deletion now and then
            ref2 = seq[pos - SLICE_START : pos - SLICE_START + 2]
            body.append((f"chr17\t{pos}\tv{i}\t{ref2}\t{ref}\t.\tPASS\t.", ""))
        else:
            alt = "ACGT"[("ACGT".index(ref) + 1 + i % 3) % 4]
            body.append((f"chr17\t{pos}\tv{i}\t{ref}\t{alt}\t.\tPASS\t.", ""))
    for offset, (kind, line) in zip((13, 170, 333, 481), BAD_ROWS.items(), strict=True):
        body.insert(offset, (line, kind))
    body.append(("chr17\t43119628\tshort", "invalid_input"))
    header = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    path.write_text("\n".join(header + [line for line, _ in body]) + "\n")
    return {str(len(header) + i + 1): kind for i, (_, kind) in enumerate(body)}


def read_tsv_output(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == list(COLUMNS)
    return [dict(zip(COLUMNS, line.split("\t"), strict=True)) for line in lines[1:]]


def test_batch_vcf_is_complete_and_resumes_after_an_interruption(
    tmp_path: Path, service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, recorder = service
    vcf, out = tmp_path / "variants.vcf", tmp_path / "scores.tsv"
    expected = write_vcf(vcf)
    assert len(expected) == 505
    command = ["score", "--input", str(vcf), "--output", str(out), "--url", url, "--batch-size", "100"]

    start = len(recorder.variants_sent())
    assert main(command) == 0
    rows = read_tsv_output(out)
    assert [r["row"] for r in rows] == list(expected)  # every input row once, in input order
    assert {r["row"]: r["error_type"] for r in rows} == expected
    for row in rows:
        if not row["error_type"]:
            assert float(row["delta_score"]) == pytest.approx(
                float(row["alt_score"]) - float(row["ref_score"])
            )
            assert row["genome"] == "hg38" and row["model"] == "kmer-8"
    sent = recorder.variants_sent()[start:]
    assert len(sent) == 6 and sum(n or 0 for n in sent) == 505 - 2  # the two unreadable rows are not sent
    assert "500 scored, 5 errors, 0 already done" in capsys.readouterr().err
    complete = out.read_text()

    # Interrupted while writing row 231: 230 rows and a torn line are on disk.
    lines = complete.splitlines(keepends=True)
    out.write_text("".join(lines[:231]) + lines[231][:20])
    start = len(recorder.variants_sent())
    assert main(command) == 0
    assert out.read_text() == complete  # the same rows, each once, in order
    missing = list(expected)[230:]
    sent = recorder.variants_sent()[start:]
    assert sum(n or 0 for n in sent) == sum(1 for key in missing if expected[key] != "invalid_input")
    assert len(sent) == 3  # 275 rows left, 100 per request
    assert "230 already done" in capsys.readouterr().err

    start = len(recorder.variants_sent())
    assert main(command) == 0
    assert recorder.variants_sent()[start:] == [] and out.read_text() == complete


class FailingApp:
    """Answers /variant-delta with 503 overloaded once ``fail_after`` requests have been served."""

    def __init__(self, app: Any, fail_after: int | None) -> None:
        self.app = app
        self.fail_after = fail_after
        self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/variant-delta":
            if self.fail_after is not None and self.served >= self.fail_after:
                body = b'{"error": {"type": "overloaded", "message": "model queue full", "detail": {}}}'
                headers = [(b"content-type", b"application/json"), (b"retry-after", b"5")]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            self.served += 1
        await self.app(scope, receive, send)


def test_a_run_stopped_by_a_server_error_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf, out, clean = tmp_path / "v.vcf", tmp_path / "out.tsv", tmp_path / "clean.tsv"
    expected = write_vcf(vcf, n=45)
    flaky = FailingApp(bundled_app(), fail_after=2)
    with LiveServer(flaky) as server:
        command = ["score", "-i", str(vcf), "--url", server.url, "--batch-size", "10", "--retries", "0"]
        assert main([*command, "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert "model queue full" in err and "HTTP 503, overloaded" in err
        assert [r["row"] for r in read_tsv_output(out)] == list(expected)[:20]  # two batches on disk
        flaky.fail_after = None
        assert main([*command, "-o", str(out)]) == 0
        assert main([*command, "-o", str(clean)]) == 0
    assert out.read_text() == clean.read_text()


def test_json_lines_output_rescoring_transient_failures(
    tmp_path: Path, service: tuple[str, RecordingApp]
) -> None:
    url, recorder = service
    tsv = tmp_path / "in.tsv"
    tsv.write_text(
        "variant\tnote\nchr17:43119628:T:G\tfirst\n\n17:43119628 T>A\tsecond\nchr17-43119629-N-A\tbad\n"
    )
    out = tmp_path / "scores.json"
    assert main(["score", "-i", str(tsv), "-o", str(out), "--url", url, "--window", "1024"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in records] == ["2", "4", "5"]
    assert records[0]["window_length"] == 1024 and records[0]["variant"] == "chr17:43119628:T:G"
    assert records[1]["alt"] == "A" and records[2]["error"]["type"] == "invalid_variant"

    # A row that failed because the service was overloaded is scored again on the next run.
    records[1] = {"row": "4", "input": "17:43119628 T>A", "error": {"type": "overloaded", "message": "busy"}}
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    start = len(recorder.variants_sent())
    assert main(["score", "-i", str(tsv), "-o", str(out), "--url", url, "--window", "1024"]) == 0
    assert recorder.variants_sent()[start:] == [1]
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in again] == ["2", "5", "4"] and again[2]["alt"] == "A" and "error" not in again[2]


def test_an_output_from_another_input_is_refused(
    tmp_path: Path, service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    first, second, out = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "out.tsv"
    first.write_text("chr17:43119628:T:G\n")
    second.write_text("chr17:43119628:T:C\n")
    assert main(["score", "-i", str(first), "-o", str(out), "--url", url]) == 0
    before = out.read_text()
    assert main(["score", "-i", str(second), "-o", str(out), "--url", url]) == 1
    assert "holds results for another input" in capsys.readouterr().err
    assert out.read_text() == before


def test_score_variants_as_a_table_or_json(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    assert main(["score", "chr17:43119628:T:G", "17:43119628 T>A", "--url", url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["variant", "genome", "delta_score", "label", "p_lof", "note"]
    assert (
        table[1].startswith("chr17:43119628:T:G")
        and "+0.000224" in table[1]
        and "model_not_validated" in table[1]
    )
    assert "BRCA1 percentile" in table[1]  # the k-mer model gets no label but its delta has context
    assert "as chr17:43119628:T:A" in table[2]

    assert main(["score", "chr17:43119628:T:G", "chr17:43119628:C:G", "--json", "--url", url]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["results"][0]["delta_score"] == pytest.approx(0.000224, abs=1e-6)
    assert answer["results"][1]["error"]["type"] == "ref_mismatch"


def test_service_errors_exit_non_zero_with_the_servers_message(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = service
    assert main(["score", "chr17:43119628:T:G", "--window", "8191", "--url", url]) == 1
    err = capsys.readouterr().err
    assert "window must be an even number of bp" in err and "HTTP 400, limit_exceeded" in err
    monkeypatch.setenv(_base.URL_ENV, url)  # the URL from the environment
    assert main(["score", "chr17:43119628:T:G", "--genome", "hg37"]) == 1
    err = capsys.readouterr().err
    assert "does not match the schema" in err and "body.genome" in err
    assert main(["health", "--url", "http://127.0.0.1:9", "--retries", "0"]) == 1
    assert "cannot reach the service" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["score", "--url", url])
    assert usage.value.code == 2


def test_api_key_option(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with LiveServer(bundled_app(require_api_key=True, api_keys=["k-123"])) as server:
        assert main(["info", "--url", server.url]) == 1
        assert "a valid API key is required" in capsys.readouterr().err
        assert main(["info", "--url", server.url, "--api-key", "k-123"]) == 0
        assert json.loads(capsys.readouterr().out)["auth"]["api_key_required"] is True
        monkeypatch.setenv(_base.API_KEY_ENV, "k-123")
        assert main(["score", "chr17:43119628:T:G", "--url", server.url]) == 0


def test_entry_point_runs_as_a_module(service: tuple[str, RecordingApp]) -> None:
    url, _ = service
    done = subprocess.run(
        [sys.executable, "-m", "clients.cli", "health", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok (model kmer-8)"


def test_saturation_prints_a_summary_and_draws_the_heatmap(
    tmp_path: Path, service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    png = tmp_path / "sat.png"
    region = "chr17:43119600-43119611"
    code = main(["saturation", region, "--url", url, "--window", "1024", "--png", str(png)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"{region} (hg38): 12 positions, 36 SNVs scored by kmer-8")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_saturation_json_has_a_cell_per_position_and_allele(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    assert main(["saturation", "chr17:43119628-43119629", "--url", url, "--window", "1024", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["positions"] == [43119628, 43119629] and body["ref"][0] == "T"
    assert [cell is None for cell in body["deltas"][0]] == [False, False, False, True]  # A C G T: ref T


# --- input formats ------------------------------------------------------------------------------------


def test_reads_vcf_gz_with_multiple_alternates(tmp_path: Path) -> None:
    path = tmp_path / "x.vcf.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr17\t43119628\t.\tT\tA,G\n17\t5\t.\tC\tT\n"
        )
    rows = read_variants(path)
    assert [(r.key, r.text) for r in rows] == [
        ("3.1", "chr17:43119628:T:A"),
        ("3.2", "chr17:43119628:T:G"),
        ("4", "17:5:C:T"),
    ]
    assert rows[0].payload == {"chrom": "chr17", "pos": 43119628, "ref": "T", "alt": "A"}


def test_reads_tsv_columns_or_plain_lines(tmp_path: Path) -> None:
    columns = tmp_path / "c.tsv"
    columns.write_text(
        "#Chrom\tPosition\tRef\tAlt\nchr17\t43119628\tT\tG\nchr17\t43119628\t\tC\nchr17\tx\tT\tG\n"
    )
    rows = read_variants(columns)
    assert [r.payload for r in rows[:2]] == [
        {"chrom": "chr17", "pos": 43119628, "ref": "T", "alt": "G"},
        {"chrom": "chr17", "pos": 43119628, "alt": "C"},
    ]
    assert rows[2].payload is None and rows[2].error is not None and rows[2].key == "4"
    plain = tmp_path / "p.txt"
    plain.write_text("# my variants\nchr17:43119628:T:G\n17:43119628 T>A\tcomment\n")
    assert [(r.key, r.payload) for r in read_variants(plain)] == [
        ("2", "chr17:43119628:T:G"),
        ("3", "17:43119628 T>A"),
    ]
