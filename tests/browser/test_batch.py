"""The page's batch mode in headless Chromium against a live uvicorn server, as a lab uses it: paste a
list or choose a VCF (plain, gzip, bgzip) or a TSV, watch it go through in requests the server accepts,
wait out a busy server, download the results. What downloads is what the CLI writes for the same file,
options and server, byte for byte (``evo2-variant variant-delta -i FILE -o out.tsv`` / ``out.vcf``),
and the page's reader gives ``clients.files``' rows for the same text."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from clients import cli
from clients.files import COLUMNS, HEADER_ALIASES, INFO_FIELDS, read_variants, scored_record
from clients.files.formats import TsvFormat
from clients.files.rows import InputRow
from tests.browser.pages import assert_stayed_home, open_page, wait, wait_for_file, wait_text
from tests.support.live_server import LiveServer, RecordingApp, bundled_app

EXAMPLE = "chr17:43119628:T:G"
CALL = (Path(__file__).parent / "scripts" / "module_call.js").read_text()


def module(page: Any, path: str, name: str, *args: Any) -> Any:
    """``name`` of the page's module ``/static/js/<path>`` called with ``args`` (or read), in the browser."""
    answer = page.execute_async_script(CALL, f"/static/js/{path}", name, list(args))
    assert "error" not in answer, answer["error"]
    return answer["value"]


def cli_output(url: str, source: Path, out: Path, *options: str) -> str:
    """What the CLI writes for ``source`` with the page's options (its genome select: hg38)."""
    argv = [
        "--url",
        url,
        "variant-delta",
        "-i",
        str(source),
        "-o",
        str(out),
        "--no-progress",
        "--genome",
        "hg38",
    ]
    assert cli.main([*argv, *options]) == 0
    return out.read_text()


def score_on_page(page: Any, url: str, *, text: str | None = None, file: Path | None = None) -> str:
    """Paste ``text`` or choose ``file``, score it, and return the status line once it is done."""
    open_page(page, url)
    if file is not None:
        page.find_element(By.ID, "batch-file").send_keys(str(file))
        wait_text(page, "#file-name", file.name)
    else:
        assert text is not None
        page.find_element(By.ID, "batch-text").send_keys(text)
    page.find_element(By.ID, "batch-button").click()
    return wait_text(page, "#batch-status", "Done:").text


def download(page: Any, downloads: Path, button: str, suffix: str) -> str:
    page.find_element(By.ID, button).click()
    return wait_for_file(downloads, suffix).read_text()


def preview(page: Any) -> list[list[str]]:
    """The cells of the results table, row by row."""
    return [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in page.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    ]


def tsv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_a_pasted_list_is_scored_in_batches_and_downloads_the_clis_tsv(page, server, downloads, tmp_path):
    live, recording = server
    lines = [EXAMPLE, "17:43119628 T>A", "chr17-43119632-A-G", "not a variant", "chr17:43119628:A:G"]
    before = len(recording.variants_sent())
    status = score_on_page(page, live.url, text="\n".join(lines))
    assert status == "Done: 5 rows, 2 with an error."
    progress = page.find_element(By.ID, "batch-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "5"
    # /info's max_variants is 2 on this server: three requests, in order.
    assert recording.variants_sent()[before:] == [2, 2, 1]
    assert not page.find_element(By.ID, "download-vcf").is_displayed()
    # The preview says why there is no label, and shows the server's errors.
    shown = preview(page)
    assert [r[3] for r in shown[:3]] == ["none: model not validated on BRCA1"] * 3
    assert shown[4][4].startswith("ref_mismatch: ") and "the genome has T" in shown[4][4]
    tsv = download(page, downloads, "download-tsv", ".evo2.tsv")
    source = tmp_path / "variants.txt"
    source.write_text("\n".join(lines) + "\n")
    assert tsv == cli_output(live.url, source, tmp_path / "cli.tsv")
    rows = tsv_rows(tsv)
    assert tsv.splitlines()[0] == "\t".join(COLUMNS)
    assert [(r["row"], r["line"]) for r in rows] == [(str(n), str(n)) for n in range(1, 6)]
    assert {r["label"] for r in rows} == {""} and rows[0]["label_reason"] == "model_not_validated"
    assert float(rows[0]["delta_percentile"]) > 0 and rows[0]["source"] == "ucsc:hg38:Dec. 2013 (GRCh38/hg38)"
    assert rows[3]["error_type"] == "invalid_variant" and rows[3]["delta_score"] == ""
    assert rows[4]["error_type"] == "ref_mismatch"
    assert_stayed_home(page, live.url)


VCF = """##fileformat=VCFv4.2
##contig=<ID=chr17>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA1
chr17\t43119628\trs1\tT\tG,A\t.\tPASS\tDP=10\tGT\t0/1
chr17\t43119632\t.\tA\tG\t.\t.\t.\tGT\t1/1
chr17\tx\t.\tA\tG\t.\t.\t.\tGT\t0/1
chr17\t43119640
chr17\t43119628\t.\tA\tG\t.\t.\tEVO2_DELTA=1;DP=3\tGT\t0/1
"""


def write_vcf(path: Path, text: str) -> None:
    """``text`` at ``path``: plain, gzip, BGZF (bgzip's blocks, written by pysam as bcftools would) or
    two gzip members one after the other (``cat a.gz b.gz``), by the name's first word."""
    kind = path.name.split(".")[0]
    if kind == "bgzipped":
        import pysam

        plain = path.with_suffix(".plain")
        plain.write_text(text)
        pysam.tabix_compress(str(plain), str(path), force=True)
    elif kind == "joined":
        half = len(text) // 2
        path.write_bytes(gzip.compress(text[:half].encode()) + gzip.compress(text[half:].encode()))
    else:
        path.write_bytes(gzip.compress(text.encode()) if path.name.endswith(".gz") else text.encode())


@pytest.mark.parametrize("name", ["brca1.vcf", "brca1.vcf.gz", "bgzipped.vcf.gz", "joined.vcf.gz"])
def test_a_chosen_vcf_downloads_the_clis_annotated_vcf_and_tsv(page, server, downloads, tmp_path, name):
    live, _ = server
    vcf = tmp_path / name
    write_vcf(vcf, VCF)
    assert score_on_page(page, live.url, file=vcf) == "Done: 6 rows, 3 with an error."
    annotated = download(page, downloads, "download-vcf", f"{vcf.name.split('.')[0]}.evo2.vcf")
    assert annotated == cli_output(live.url, vcf, tmp_path / "cli.vcf")
    tsv = download(page, downloads, "download-tsv", ".evo2.tsv")
    assert tsv == cli_output(live.url, vcf, tmp_path / "cli.tsv")
    # What a person reading the VCF sees: the input's header and columns, every EVO2_* field declared,
    # one value per ALT, the input's own INFO kept, an old EVO2_DELTA replaced, unreadable lines left out.
    lines = annotated.splitlines()
    assert lines[0] == "##fileformat=VCFv4.2"
    declared = [
        h.split(",")[0].removeprefix("##INFO=<ID=") for h in lines if h.startswith("##INFO=<ID=EVO2_")
    ]
    assert declared == [field[0] for field in INFO_FIELDS]
    assert lines[lines.index(next(h for h in lines if h.startswith("#CHROM"))) - 1].startswith(
        "##evo2_variant_service="
    )
    data = [line.split("\t") for line in lines if not line.startswith("#")]
    assert [d[1] for d in data] == ["43119628", "43119632", "43119628"]
    assert all(d[8:] == ["GT", d[9]] for d in data)
    info = [dict(kv.split("=") for kv in d[7].split(";")) for d in data]
    assert info[0]["DP"] == "10" and info[0]["EVO2_STATUS"] == "ok,ok" and info[0]["EVO2_LABEL"] == ".,."
    assert len(info[0]["EVO2_DELTA"].split(",")) == 2 and info[0]["EVO2_MODEL"] == "kmer-8"
    assert info[2]["DP"] == "3" and info[2]["EVO2_DELTA"] == "." and info[2]["EVO2_ERROR"] == "ref_mismatch"
    rows = tsv_rows(tsv)
    assert [(r["row"], r["line"], r["id"]) for r in rows] == [
        ("1", "5", "rs1"), ("2", "5", "rs1"), ("3", "6", ""), ("4", "7", ""), ("5", "8", ""), ("6", "9", "")
    ]  # fmt: skip
    assert [r["error_type"] for r in rows] == [
        "",
        "",
        "",
        "invalid_variant",
        "invalid_variant",
        "ref_mismatch",
    ]
    assert_stayed_home(page, live.url)


TSV = """# samples of one lab
#id\tchrom\tpos\tref\talt\tgenome
a\tchr17\t43119628\tT\tG\t
b\t17\t41276045\t\tA\tGRCh37
c\tchr17\t43119628\tT\tG\thg99
d\tchr17\tzero\tT\tG\t
e\tNC_000017.11\t43119632\t.\tG\t
"""


def tsv_as_the_cli_writes(
    page: Any, url: str, downloads: Path, source: Path, text: str, counts: tuple[int, int]
) -> list[dict[str, str]]:
    """Choose ``source`` (holding ``text``) on the page, score it (``counts``: rows, errors), download the
    TSV, check it is the CLI's byte for byte, and return its rows."""
    source.write_text(text)
    rows, errors = counts
    assert score_on_page(page, url, file=source) == f"Done: {rows} rows, {errors} with an error."
    tsv = download(page, downloads, "download-tsv", f"{source.name.split('.')[0]}.evo2.tsv")
    assert tsv == cli_output(url, source, source.with_name("cli.tsv"))
    return tsv_rows(tsv)


def test_a_tsv_with_id_and_genome_columns_downloads_the_clis_tsv(page, server, downloads, tmp_path):
    rows = tsv_as_the_cli_writes(page, server[0].url, downloads, tmp_path / "lab.tsv", TSV, (5, 2))
    assert [(r["id"], r["genome"], r["status"]) for r in rows] == [
        ("a", "hg38", "ok"), ("b", "hg19", "ok"), ("c", "hg99", "error"), ("d", "hg38", "error"),
        ("e", "hg38", "ok"),
    ]  # fmt: skip
    assert rows[2]["error_type"] == "unknown_genome" and rows[3]["error_type"] == "invalid_variant"
    assert rows[3]["error_message"] == "line 6: position 'zero' is not a 1-based integer"
    assert not page.find_element(By.ID, "download-vcf").is_displayed()


NOTATIONS = """id\tvariant
a\trs80357906
b\tNM_007294.4:c.181T>G
c\trs999999901
d\tNM_000492.4:c.1521_1523del
e\tBRCA1:c.181T>G
f\trs113993960
"""


def test_rsid_and_hgvs_rows_download_the_clis_tsv(page, server, downloads, tmp_path):
    """A TSV of rsIDs and HGVS (resolved offline: bundled BRCA1 records, conftest.RSIDS's file): the
    resolved variant in each row, the multi-allelic rsID one row as the CLI writes it (its alleles shown
    under it on the page), unknown transcripts and rsIDs with the server's message."""
    live, _ = server
    rows = tsv_as_the_cli_writes(page, live.url, downloads, tmp_path / "notations.tsv", NOTATIONS, (6, 3))
    assert [(r["id"], r["input"], r["variant"], r["status"]) for r in rows] == [
        ("a", "rs80357906", "chr17:43057062:T:TG", "ok"),
        ("b", "NM_007294.4:c.181T>G", "chr17:43106487:A:C", "ok"),
        ("c", "rs999999901", "", "error"),
        ("d", "NM_000492.4:c.1521_1523del", "", "error"),
        ("e", "BRCA1:c.181T>G", "chr17:43106487:A:C", "ok"),
        ("f", "rs113993960", "", "error"),
    ]
    assert [r["error_type"] for r in rows] == [
        "",
        "",
        "multiple_alleles",
        "unknown_transcript",
        "",
        "unknown_rsid",
    ]
    assert rows[2]["error_message"].startswith(
        "rs999999901 has 2 alternate alleles (chr17:43106487:A:C, chr17:43106487:A:G)"
    )
    assert rows[3]["error_message"].startswith("NM_000492.4 is not in the gene models of this deployment")
    shown = preview(page)
    assert [r[:2] for r in shown] == [
        ["1", "rs80357906 → chr17:43057062:T:TG"],
        ["2", "NM_007294.4:c.181T>G → chr17:43106487:A:C"],
        ["3", "rs999999901"],
        ["3.1", "allele 1 of 2 → chr17:43106487:A:C"],
        ["3.2", "allele 2 of 2 → chr17:43106487:A:G"],
        ["4", "NM_000492.4:c.1521_1523del"],
        ["5", "BRCA1:c.181T>G → chr17:43106487:A:C"],
        ["6", "rs113993960"],
    ]
    [entry] = httpx_results(live.url, "rs999999901")
    deltas = [float(shown[i][2].replace("\u2212", "-")) for i in (3, 4)]
    assert deltas == [pytest.approx(a["delta_score"], rel=5e-3) for a in entry["alleles"]]
    assert shown[7][4].startswith("unknown_rsid: rs113993960 is not in the dbSNP records")
    assert_stayed_home(page, live.url)


def httpx_results(url: str, variant: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{url}/variant-delta", json={"variant": variant, "genome": "hg38"}, timeout=60)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_a_request_of_more_alleles_than_the_server_takes_is_split(page, server):
    """Two rows are one request on this server (max_variants 2), but an rsID with two alleles and a
    variant are three: the server refuses the request (limit_exceeded), and the page sends each row alone."""
    live, recording = server
    before = len(recording.variants_sent())
    assert score_on_page(page, live.url, text=f"{EXAMPLE}\nrs999999901") == "Done: 2 rows, 1 with an error."
    assert recording.variants_sent()[before:] == [2, 1, 1]
    shown = preview(page)
    assert [r[0] for r in shown] == ["1", "2", "2.1", "2.2"]
    assert shown[1][4].startswith("multiple_alleles: rs999999901 has 2 alternate alleles")
    assert_stayed_home(page, live.url, expected_errors=("/variant-delta", "400"))


class Statuses:
    """ASGI wrapper that records ``(path, status, Retry-After)`` of every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, int, str | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                retry = headers.get(b"retry-after")
                self.seen.append((scope["path"], message["status"], retry.decode() if retry else None))
            await send(message)

        await self.app(scope, receive, sending if scope["type"] == "http" else send)


#: The most a request may cost: 2 variants × 2 windows × 8,192 bp (one strand). The client's
#: model-token bucket holds that much and refills it in a second.
ONE_REQUEST = 2 * 2 * 8192


def test_a_busy_server_is_waited_for_and_requests_fit_its_token_limits(page, downloads):
    app = Statuses(bundled_app(max_request_tokens=ONE_REQUEST, model_tokens_per_minute=ONE_REQUEST * 60))
    lines = [EXAMPLE, "chr17:43119628:T:A", "chr17:43119628:T:C", "chr17:43119632:A:G", "chr17:43119632:A:C"]
    with LiveServer(app) as live:
        assert score_on_page(page, live.url, text="\n".join(lines)) == "Done: 5 rows, 0 with an error."
        answers = [(status, retry) for path, status, retry in app.seen if path == "/variant-delta"]
        # max_variants is 1,000, but a request may cost only 2 variants' windows: 3 requests succeed, and
        # those the bucket could not pay yet were answered 429 with Retry-After, waited out, sent again.
        assert [s for s, _ in answers].count(200) == 3
        refused = [retry for s, retry in answers if s == 429]
        assert refused and all(retry is not None and int(retry) >= 1 for retry in refused)
        rows = tsv_rows(download(page, downloads, "download-tsv", ".evo2.tsv"))
        assert [r["variant"] for r in rows] == lines and {r["status"] for r in rows} == {"ok"}
        assert_stayed_home(page, live.url, expected_errors=("/variant-delta", "429"))


def test_a_stopped_run_offers_the_rows_scored_before_it_stopped(page, downloads):
    """Stop while the page waits for a slow bucket (a request's worth every 3 s): the TSV holds the rows
    before the first one not scored, in order, as the CLI's output does after an interruption."""
    app = bundled_app(max_request_tokens=ONE_REQUEST, model_tokens_per_minute=ONE_REQUEST * 20)
    lines = [EXAMPLE, "chr17:43119628:T:A", "chr17:43119628:T:C", "chr17:43119632:A:G", "chr17:43119632:A:C"]
    with LiveServer(app) as live:
        open_page(page, live.url)
        page.find_element(By.ID, "batch-text").send_keys("\n".join(lines))
        page.find_element(By.ID, "batch-button").click()
        wait_text(page, "#batch-status", "before trying again")
        page.find_element(By.ID, "batch-stop").click()
        status = wait_text(page, "#batch-status", "Stopped after").text
        stopped = re.fullmatch(r"Stopped after (\d) of 5 rows\.", status)
        assert stopped, status
        done = int(stopped.group(1))
        assert done in (2, 4)  # the stop lands in the first wait, or (on a slow machine) the next
        rows = tsv_rows(download(page, downloads, "download-tsv", ".evo2.tsv"))
        assert [r["variant"] for r in rows] == lines[:done] and {r["status"] for r in rows} == {"ok"}
        assert not page.find_element(By.ID, "batch-stop").is_displayed()
        assert_stayed_home(page, live.url, expected_errors=("/variant-delta", "429"))


def test_the_page_works_under_a_tight_request_quota(page):
    """The page's own files (HTML, CSS, thirteen JavaScript modules, the icon) are not API calls: they do
    not spend the client's request bucket, so a quota sized for API calls leaves the page working."""
    app = RecordingApp(bundled_app(rate_limit_per_minute=6, rate_limit_burst=3))
    with LiveServer(app) as live:
        open_page(page, live.url)
        page.find_element(By.ID, "variant-input").send_keys(EXAMPLE)
        page.find_element(By.ID, "check-button").click()
        wait(page, "#result .card")
        assert_stayed_home(page, live.url)


# --- the page's reader and writer are clients.files' ------------------------------------------------


def python_rows(path: Path) -> dict[str, Any]:
    """``read_variants(path)`` as JSON values, as module_call.js answers for the page's readVariants."""
    try:
        parsed = read_variants(path)
    except ValueError as exc:
        return {"error": str(exc)}
    vcf = dataclasses.asdict(parsed.vcf) if parsed.vcf is not None else None
    return {
        "value": json.loads(json.dumps({"rows": [dataclasses.asdict(r) for r in parsed.rows], "vcf": vcf}))
    }


SPACES = "\xa0\x85\x1c\u3000"
INPUTS = {
    "x.vcf": VCF,
    "pasted VCF": VCF,
    "spaces.txt": "#CHROM POS ID REF ALT\n17  43119628 .  T  G,C\n17 43119632\n",
    "x.tsv": "Chrom\tPos\tRef\tAlt\nchr17\t43119628\tT\tG\n\nchr17\t0\tT\tG\n17\t43119632\t.\tG\nshort\n"
    "chr17\t12345678901\tT\tG\n\tnothing\t\tA\n",
    "lines.txt": "# a comment\n##meta\nchr17:43119628:T:G\r\n\n17:43119628 T>A\textra\n"
    f"{SPACES}rs80357906{SPACES}\n#CHROM\tlater\n",
    "named.tsv": "variant\tnote\nchr17:43119628:T:G\tx\n\tnothing\nNM_007294.4:c.5266dupC\ty\n",
    "aliases.tsv": "#chr\tPosition\trsid\tassembly\talternate\tReference\n17\t43119628\trs1\tGRCh38\tG\tT\n"
    "17\t43119632\t\t\tG\t\n",
    "space header.txt": "chrom pos ref alt\n17 43119628 T G\n17   43119632 A   G extra\n",
    "bad header.tsv": "chrom\tfoo\n17\tbar\n",
    "long.vcf": "##fileformat=VCFv4.2\n" + "\U0001f9ec" * 250 + " x\n",
    "empty.tsv": "\n\n# nothing\n",
}


def test_the_page_reads_files_as_the_cli_does(page, server, tmp_path):
    """The page's reader (js/files/read.js) gives clients.files' rows, line numbers, ids, genomes, error
    messages and VCF records for the same text: VCF, TSV with a header, one variant per line."""
    live, _ = server
    open_page(page, live.url)
    for name, text in INPUTS.items():
        path = tmp_path / ("pasted" if name.startswith("pasted") else name)
        path.write_text(text)
        js_name = "" if name.startswith("pasted") else name
        answer = page.execute_async_script(CALL, "/static/js/files/read.js", "readVariants", [text, js_name])
        assert answer == python_rows(path), name


def test_the_page_writes_cells_and_names_columns_as_the_cli_does(page, server):
    """COLUMNS, INFO_FIELDS and HEADER_ALIASES are clients.files'; a TSV line is the CLI's for values
    JSON cannot tell apart (5 and 5.0), very small and very large floats, lists and white space."""
    live, _ = server
    open_page(page, live.url)
    assert module(page, "files/rows.js", "COLUMNS") == list(COLUMNS)
    assert module(page, "files/vcf.js", "INFO_FIELDS") == [list(f) for f in INFO_FIELDS]
    assert module(page, "files/read.js", "HEADER_ALIASES") == {k: list(v) for k, v in HEADER_ALIASES.items()}
    rng = random.Random(7)
    floats = [
        0.0,
        5.0,
        100.0,
        0.1,
        2 / 3,
        1e-4,
        1e-5,
        1.5e-7,
        5e-324,
        1e15,
        1e16,
        1.5e17,
        1.7976931348623157e308,
    ]
    floats += [rng.uniform(-1, 1) * 10 ** rng.randint(-12, 20) for _ in range(200)]
    shown = page.execute_async_script(
        "const done = arguments[1]; import('/static/js/files/text.js')"
        ".then((m) => done(arguments[0].map(m.pyFloat)));",
        floats,
    )
    assert shown == [repr(x) for x in floats]
    row = InputRow(0, 3, "id 1", "chr17:43119628:T:G", "chr17:43119628:T:G")
    result = {
        "genome": "hg38", "variant": "chr17:43119628:T:G", "chrom": "chr17", "pos": 43119628, "ref": "T",
        "alt": "G", "kind": "snv", "region": "chr17:1-8192", "window_length": 8192, "ref_score": -1.0,
        "alt_score": -1e-05, "delta_score": 1e16, "label": None, "label_reason": "window_has_n",
        "probability_lof": None, "confidence": None, "non_acgt_ref": 3, "non_acgt_alt": 0,
        "source": {"name": "fasta", "assembly": "hg38", "version": "fai-sha256:ab\tcd"},
        "context": {"percentile": 50.0, "lof_fraction": 0.0, "func_fraction": 1.0, "n_lof": 1, "n_func": 1},
        "context_reason": None, "model": "kmer-8",
        "warnings": [{"type": "a", "message": "two\n lines"}, {"type": "b", "message": f"x{SPACES}y"}],
    }  # fmt: skip
    record = scored_record(row, result)
    expected = "\t".join(COLUMNS) + "\n" + TsvFormat([row]).render(0, [record])
    js_row = {
        "index": 0,
        "line": 3,
        "id": "id 1",
        "text": row.text,
        "payload": row.payload,
        "genome": None,
        "error": None,
    }
    got = page.execute_async_script(
        "const done = arguments[2]; import('/static/js/files/rows.js')"
        ".then((m) => done(m.writeTsv([m.scoredRecord(arguments[0], arguments[1])])));",
        js_row,
        result,
    )
    assert got == expected
