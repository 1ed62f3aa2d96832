"""``evo2-variant`` end to end: CLI → HTTP (uvicorn on 127.0.0.1) → app → stand-in UCSC → kmer scorer."""

from __future__ import annotations

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
from clients.files import COLUMNS
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


#: Rows that cannot be scored, with the error type their output row must carry.
BAD_ROWS = [
    ("ref_mismatch", "chr17\t43119628\tbad1\tA\tG"),  # the genome has T
    ("unknown_chromosome", "chrZ\t1000\tbad2\tA\tG"),
    ("invalid_variant", "chr17\t43119628\tbad3\tT\t<DEL>"),
    ("invalid_variant", "chr17\tabc\tbad4\tT\tG"),  # not sent: the position is not a number
]


def write_vcf(path: Path, n: int = 500, seed: int = 7) -> dict[str, str]:
    """``n`` SNVs and deletions with the right reference bases, the BAD_ROWS and a short line, as a
    VCF; returns the expected ``row number → error type`` ('' for rows that score)."""
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
    for offset, (kind, line) in zip((13, 170, 333, 481), BAD_ROWS, strict=True):
        body.insert(offset, (line, kind))
    body.append(("chr17\t43119628\tshort", "invalid_variant"))  # not sent: too few fields
    header = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    path.write_text("\n".join(header + [line for line, _ in body]) + "\n")
    return {str(i + 1): kind for i, (_, kind) in enumerate(body)}


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
    assert [r["line"] for r in rows] == [str(i + 3) for i in range(505)]  # the VCF's line numbers
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
    unread = {"480", "505"}  # the rows with a position that is not a number and the short line
    assert sum(n or 0 for n in sent) == sum(1 for key in missing if key not in unread)
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
    out = tmp_path / "scores.jsonl"
    assert main(["score", "-i", str(tsv), "-o", str(out), "--url", url, "--window", "1024"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["row"], r["line"]) for r in records] == [(1, 2), (2, 4), (3, 5)]
    assert list(records[0]) == list(COLUMNS)
    assert records[0]["window_length"] == 1024 and records[0]["variant"] == "chr17:43119628:T:G"
    assert records[1]["alt"] == "A" and records[2]["error_type"] == "invalid_variant"

    # A row that failed because the service was overloaded is scored again on the next run, in place.
    records[1].update(status="error", delta_score=None, error_type="overloaded", error_message="busy")
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    start = len(recorder.variants_sent())
    assert main(["score", "-i", str(tsv), "-o", str(out), "--url", url, "--window", "1024"]) == 0
    assert recorder.variants_sent()[start:] == [1]
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in again] == [1, 2, 3] and again[1]["alt"] == "A" and again[1]["status"] == "ok"


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
    assert table[0].split() == ["variant", "genome", "delta_score", "label", "probability_lof", "note"]
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
    assert "unknown genome 'hg37'; supported: hg38 (GRCh38) and hg19 (GRCh37)" in err
    assert "HTTP 400, unknown_genome" in err
    assert main(["health", "--url", "http://127.0.0.1:9", "--retries", "0"]) == 1
    assert "cannot reach the service" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["score", "--url", url])
    assert usage.value.code == 2


def test_api_key_option(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with LiveServer(bundled_app(require_api_key=True, api_keys=["k-123"])) as server:
        assert main(["info", "--url", server.url]) == 1
        assert "a valid API key is required" in capsys.readouterr().err
        assert main(["info", "--json", "--url", server.url, "--api-key", "k-123"]) == 0
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


# --- names, help, info ----------------------------------------------------------------------------


def test_service_options_go_before_or_after_the_command(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    assert main(["--url", url, "health"]) == 0
    assert capsys.readouterr().out.strip() == "ok (model kmer-8)"
    assert main(["--url", "http://127.0.0.1:9", "--retries", "0", "health", "--url", url]) == 0
    assert main(["--url", url, "variant-delta", "chr17:43119628:T:G"]) == 0  # the endpoint's name
    assert "chr17:43119628:T:G" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", ["health", "info", "variant-delta", "score", "score-sequences", "saturation"]
)
def test_every_command_has_an_example_in_its_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and "\n  evo2-variant " in text


def test_info_prints_a_summary_and_json_on_request(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    assert main(["info", "--url", url]) == 0
    summary = capsys.readouterr().out
    assert summary.splitlines()[0] == f"evo2-variant-service 0.1.0 at {url}"
    assert "model       kmer-8" in summary and "no labels (uncalibrated)" in summary
    assert "defaults    genome hg38, window 8192 bp, delta_method window" in summary
    assert "1000 variants per request" in summary and len(summary.splitlines()) <= 8
    assert main(["info", "--json", "--url", url]) == 0
    assert json.loads(capsys.readouterr().out)["defaults"]["genome"] == "hg38"


def test_score_sequences_mirrors_the_score_endpoint(
    service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = service
    assert main(["score-sequences", "ACGTTGCAAGGCTTAACG", "--json", "--url", url]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["model"] == "kmer-8" and body["scores"][0]["length"] == 18
    assert main(["score-sequences", "ACGTTGCAAGGCTTAACG", "--url", url]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "18"


def test_unknown_output_extensions_and_vcf_from_a_tsv_are_refused(
    tmp_path: Path, service: tuple[str, RecordingApp], capsys: pytest.CaptureFixture[str]
) -> None:
    url, recorder = service
    tsv = tmp_path / "in.tsv"
    tsv.write_text("variant\nchr17:43119628:T:G\n")
    start = len(recorder.variants_sent())
    assert main(["score", "-i", str(tsv), "-o", str(tmp_path / "out.csv"), "--url", url]) == 1
    assert "cannot tell the output format of 'out.csv'" in capsys.readouterr().err
    assert main(["score", "-i", str(tsv), "-o", str(tmp_path / "out.vcf"), "--url", url]) == 1
    assert "an annotated VCF output needs a VCF input" in capsys.readouterr().err
    assert recorder.variants_sent()[start:] == [] and not (tmp_path / "out.vcf").exists()


def test_a_tsv_with_contig_and_start_columns_is_one_variant_per_row(
    tmp_path: Path, service: tuple[str, RecordingApp]
) -> None:
    url, _ = service
    tsv = tmp_path / "in.tsv"
    tsv.write_text("contig\tstart\tref\talt\nchr17\t43119628\tT\tG\n")
    out = tmp_path / "out.tsv"
    assert main(["score", "-i", str(tsv), "-o", str(out), "--url", url]) == 0
    [row] = read_tsv_output(out)
    assert (row["input"], row["status"], row["variant"]) == ("chr17:43119628:T:G", "ok", "chr17:43119628:T:G")


def test_rows_follow_their_own_genome_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tsv = tmp_path / "in.tsv"
    tsv.write_text(
        "id\tvariant\tgenome\n"
        "a\tchr17:43119628:T:G\tGRCh38\n"
        "b\tchr17:41276135:T:G\thg19\n"  # BRCA1's hg19 position of the same base
        "c\tchr17:43119628:T:G\thg99\n"
        "d\tchr17:43119628:T:G\t\n"
    )
    out = tmp_path / "out.tsv"
    with LiveServer(bundled_app()) as server:
        assert main(["score", "-i", str(tsv), "-o", str(out), "--url", server.url]) == 0
    rows = read_tsv_output(out)
    assert [(r["id"], r["genome"], r["status"]) for r in rows] == [
        ("a", "hg38", "ok"),
        ("b", "hg19", "ok"),
        ("c", "hg99", "error"),
        ("d", "hg38", "ok"),
    ]
    assert rows[2]["error_type"] == "unknown_genome" and "hg38 (GRCh38)" in rows[2]["error_message"]


def test_a_batch_whose_rsids_mean_more_variants_than_a_request_takes_is_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request counts each allele of an rsID against max_variants: three rows of two-allele rsIDs
    are six variants, over a server limit of four. The CLI splits the batch instead of stopping (a
    constructed rsID file; each row is answered multiple_alleles, as the CLI answers such rsIDs)."""
    rsids = tmp_path / "rsids.vcf"
    rsids.write_text(
        "#CHROM\tPOS\tID\tREF\tALT\n"
        + "".join(
            f"chr17\t{43106487 + i}\trs99999991{i}\t{b}\t{alts}\n"
            for i, (b, alts) in enumerate([("A", "G,T"), ("C", "G,T"), ("T", "A,G")])
        )
    )
    app = bundled_app(annotation_sources=["bundled", "file"], rsid_vcf_hg38=rsids, max_variants=4)
    source = tmp_path / "in.tsv"
    source.write_text("variant\nrs999999910\nrs999999911\nrs999999912\nchr17:43119628:T:G\n")
    out = tmp_path / "out.tsv"
    with LiveServer(app) as server:
        code = main(["--url", server.url, "variant-delta", "--input", str(source), "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = read_tsv_output(out)
    assert [r["status"] for r in rows] == ["error", "error", "error", "ok"]
    assert {r["error_type"] for r in rows[:3]} == {"multiple_alleles"}
