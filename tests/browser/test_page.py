"""The variant page in headless Chromium against a live uvicorn server, as a person uses it: check the
BRCA1 example, see a wrong reference refused, look at the saturation heatmap, score a pasted list and
a VCF and download the results. Every test asserts that no request left the server's origin."""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from clients.io import COLUMNS, read_tsv, read_vcf
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.pages import (
    assert_stayed_home,
    check,
    emulate,
    open_page,
    screenshot,
    wait,
    wait_for_file,
    wait_text,
)
from tests.support.live_server import LiveServer, RecordingApp, bundled_app

EXAMPLE = "chr17:43119628:T:G"
HERE = Path(__file__).parent / "scripts"


def shown_number(text: str) -> float:
    """A signed number as the page writes it ("−0.000224", "+0.0012") as a float."""
    match = re.search(r"([+\u2212-])([\d.,]+)", text)
    assert match, text
    value = float(match.group(2).replace(",", ""))
    return -value if match.group(1) in "\u2212-" else value


def api(server: LiveServer, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(server.url + path, json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def scored(server: LiveServer, variants: list[str]) -> list[dict[str, Any]]:
    """What the API answers for each variant on its own."""
    return [api(server, "/variant-delta", {"variant": v})["results"][0] for v in variants]


def test_the_example_variant_gets_a_card_a_person_can_read(page, server):
    live, _ = server
    open_page(page, live.url)
    page.find_element(By.CSS_SELECTOR, f'button.example[data-variant="{EXAMPLE}"]').click()
    card = wait(page, "#result .card")
    [expected] = api(live, "/variant-delta", {"variant": EXAMPLE})["results"]
    text = card.text
    assert "chr17:43,119,628 T → G" in text
    assert "single-base change (SNV) on hg38 (GRCh38)" in text
    # The reference and alternate bases with the genome's bases either side.
    lines = [e.text for e in card.find_elements(By.CSS_SELECTOR, ".seq")]
    before, after = expected["context_before"], expected["context_after"]
    assert lines == [f"…{before}T{after}…", f"…{before}G{after}…"]
    # The window as a 1-based region, and the delta with what its sign means.
    assert "chr17:43115532-43123723 (1-based, both ends included): 8,192 bp" in text
    delta = card.find_element(By.CSS_SELECTOR, ".delta")
    assert float(delta.get_attribute("data-value")) == pytest.approx(expected["delta_score"])
    assert shown_number(delta.text) == pytest.approx(expected["delta_score"], rel=5e-3)
    assert ("more likely" if expected["delta_score"] > 0 else "less likely") in text
    # kmer-8 is below the calibration's AUROC bar: no label, and the card says why, with the number.
    assert expected["label"] == "uncalibrated"
    assert "No label" in text and "measured BRCA1 AUROC is 0.48" in text
    assert "kmer-8" in text and "Measured BRCA1 AUROC 0.48 (95% CI 0.46–0.50; 3,893 SNVs" in text
    assert_stayed_home(page, live.url)


@pytest.mark.parametrize(
    "variant, title, message",
    [
        (
            "chr17:43119628:A:G",
            "The reference base does not match the genome",
            "the request says A, the genome has T (wrong genome build or strand?)",
        ),
        ("chr99:100:A:G", "Unknown chromosome", "chr99 is not a chromosome of hg38"),
        ("chr1:1000000:A:G", "This region is not available here", "no genome source of this deployment"),
    ],
)
def test_a_refused_variant_shows_the_servers_own_message(page, server, variant, title, message):
    live, _ = server
    open_page(page, live.url)
    box = page.find_element(By.ID, "variant-input")
    box.send_keys(variant, Keys.ENTER)  # the keyboard alone
    error = wait(page, "#check-error")
    assert error.get_attribute("role") == "alert"
    assert title in error.text and message in error.text
    assert page.find_elements(By.CSS_SELECTOR, "#result .card") == []
    assert_stayed_home(page, live.url, expected_errors=("/variant-delta", "400"))


def test_the_saturation_heatmap_shows_every_change_and_its_value(page, server, screenshots):
    live, _ = server
    open_page(page, live.url)
    check(page, EXAMPLE)
    wait(page, "#result .card")
    page.find_element(By.ID, "saturation-button").click()
    table = wait(page, "table.heatmap")
    expected = api(live, "/saturation", {"region": "chr17:43119618-43119638"})
    cells = table.find_elements(By.CSS_SELECTOR, "td[data-i]")
    assert len(cells) == 21 * 4
    # The reference base is marked in each column, and every other cell carries the server's delta.
    refs = [c for c in cells if "ref" in c.get_attribute("class").split()]
    assert len(refs) == 21
    for c in cells:
        i, j = int(c.get_attribute("data-i")), int(c.get_attribute("data-j"))
        value = expected["deltas"][i][j]
        if value is None:
            assert c in refs and c.text == expected["ref"][i]
        else:
            assert float(c.get_attribute("data-value")) == pytest.approx(value)
    legend = page.find_element(By.CSS_SELECTOR, ".legend").text
    assert "less likely under the model" in legend and "reference base" in legend
    # Hovering shows a cell's value in words; so do the arrow keys.
    chosen = table.find_element(By.CSS_SELECTOR, "td.chosen")
    ActionChains(page).move_to_element(chosen).perform()
    readout = wait_text(page, ".readout", "chr17:43,119,628 T → G: delta")
    assert shown_number(readout.text.split("delta")[1]) == pytest.approx(expected["deltas"][10][2], rel=5e-3)
    chosen.click()
    chosen.send_keys(Keys.ARROW_DOWN)
    wait_text(page, ".readout", "chr17:43,119,628: T is the reference base")
    screenshot(page, screenshots / "page.png", until="#saturation-panel")
    # A cell's change can be checked in the card.
    cell = table.find_element(By.CSS_SELECTOR, 'td[data-i="11"][data-j="0"]')  # 43119629 G → A
    cell.click()
    # Pointing at other squares on the way to the button changes the words, not the selection.
    ActionChains(page).move_to_element(
        table.find_element(By.CSS_SELECTOR, 'td[data-i="3"][data-j="3"]')
    ).perform()
    wait_text(page, ".readout", "chr17:43,119,621 C → T")
    button = page.find_element(By.CSS_SELECTOR, ".readout button")
    assert button.text == "Check chr17:43119629:G:A"
    button.click()
    wait_text(page, "#result .card h3", "chr17:43,119,629 G → A")
    assert_stayed_home(page, live.url)


def test_a_pasted_list_is_scored_in_batches_and_downloads_as_tsv(page, server, downloads):
    live, recording = server
    open_page(page, live.url)
    lines = [EXAMPLE, "17:43119628 T>A", "chr17-43119632-A-G", "not a variant", "chr17:43119628:A:G"]
    page.find_element(By.ID, "batch-text").send_keys("\n".join(lines))
    before = len(recording.variants_sent())
    page.find_element(By.ID, "batch-button").click()
    wait_text(page, "#batch-status", "Done: 5 rows, 2 with an error.")
    progress = page.find_element(By.ID, "batch-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "5"
    # /info's max_variants is 2 on this server: three requests, in order.
    assert recording.variants_sent()[before:] == [2, 2, 1]
    page.find_element(By.ID, "download-tsv").click()
    assert not page.find_element(By.ID, "download-vcf").is_displayed()
    path = wait_for_file(downloads, ".evo2.tsv")
    rows = list(csv.DictReader(io.StringIO(path.read_text()), delimiter="\t"))
    assert path.read_text().splitlines()[0] == "\t".join(COLUMNS)  # the CLI's columns
    assert [r["row"] for r in rows] == [r.key for r in read_tsv(lines)] == ["1", "2", "3", "4", "5"]
    expected = scored(live, lines[:3])
    for row, result in zip(rows, expected, strict=False):
        assert float(row["delta_score"]) == pytest.approx(result["delta_score"])
        assert row["region"] == result["region"] and row["label"] == "uncalibrated"
    assert rows[3]["error_type"] == "invalid_variant" and rows[3]["delta_score"] == ""
    assert rows[4]["error_type"] == "ref_mismatch" and "the genome has T" in rows[4]["error_message"]
    assert_stayed_home(page, live.url)


VCF = """##fileformat=VCFv4.2
##contig=<ID=chr17>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
chr17\t43119628\trs1\tT\tG,A\t.\tPASS\tDP=10
chr17\t43119632\t.\tA\tG\t.\t.\t.
chr17\tx\t.\tA\tG\t.\t.\t.
"""


@pytest.mark.parametrize("name", ["brca1.vcf", "brca1.vcf.gz"])
def test_a_chosen_vcf_downloads_annotated(page, server, downloads, tmp_path, name):
    live, _ = server
    vcf = tmp_path / name
    vcf.write_bytes(gzip.compress(VCF.encode()) if name.endswith(".gz") else VCF.encode())
    open_page(page, live.url)
    page.find_element(By.ID, "batch-file").send_keys(str(vcf))
    wait_text(page, "#file-name", name)
    page.find_element(By.ID, "batch-button").click()
    wait_text(page, "#batch-status", "Done: 4 rows, 1 with an error.")
    page.find_element(By.ID, "download-vcf").click()
    annotated = wait_for_file(downloads, "brca1.evo2.vcf").read_text().splitlines()
    assert annotated[0] == "##fileformat=VCFv4.2"
    described = [h for h in annotated if h.startswith("##INFO=<ID=EVO2_")]
    assert [h.split(",")[:2] for h in described] == [
        ["##INFO=<ID=EVO2_DELTA", "Number=A"],
        ["##INFO=<ID=EVO2_LABEL", "Number=A"],
        ["##INFO=<ID=EVO2_ERROR", "Number=A"],
    ]
    assert annotated.index(described[-1]) + 1 == annotated.index(
        next(h for h in annotated if h.startswith("#CHROM"))
    )
    data = [line.split("\t") for line in annotated if not line.startswith("#")]
    expected = scored(live, ["chr17:43119628:T:G", "chr17:43119628:T:A", "chr17:43119632:A:G"])
    deltas = [r["delta_score"] for r in expected]
    info = dict(kv.split("=") for kv in data[0][7].split(";"))
    assert info["DP"] == "10"
    assert [float(x) for x in info["EVO2_DELTA"].split(",")] == pytest.approx(deltas[:2])
    assert info["EVO2_LABEL"] == "uncalibrated,uncalibrated"
    assert float(data[1][7].split(";")[0].removeprefix("EVO2_DELTA=")) == pytest.approx(deltas[2])
    assert data[2][7] == "EVO2_DELTA=.;EVO2_LABEL=.;EVO2_ERROR=invalid_input"  # never sent
    page.find_element(By.ID, "download-tsv").click()
    rows = list(
        csv.DictReader(io.StringIO(wait_for_file(downloads, ".evo2.tsv").read_text()), delimiter="\t")
    )
    assert [r["row"] for r in rows] == [r.key for r in read_vcf(VCF.splitlines())] == ["4.1", "4.2", "5", "6"]
    assert rows[3]["error_type"] == "invalid_input"
    assert_stayed_home(page, live.url)


def test_the_key_is_asked_for_and_kept_only_in_the_tab(page):
    app = RecordingApp(bundled_app(require_api_key=True, api_keys=["right-key"]))
    with LiveServer(app) as live:
        page.get(live.url + "/")
        key = wait(page, "#key-input")  # /info answered 401
        key.send_keys("wrong-key", Keys.ENTER)
        wait_text(page, "#key-message", "refused this key")
        wait(page, "#key-input").send_keys("right-key", Keys.ENTER)
        wait(page, "#model-badge")
        check(page, EXAMPLE)
        wait(page, "#result .card")
        stored = page.execute_script("return [sessionStorage.length, localStorage.length, document.cookie]")
        assert stored == [1, 0, ""]
        assert_stayed_home(page, live.url, expected_errors=("/info", "401"))


def test_the_page_works_at_mobile_width(page, server, screenshots):
    live, _ = server
    emulate(page, 390, 844, mobile=True)
    open_page(page, live.url)
    check(page, EXAMPLE)
    card = wait(page, "#result .card")
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways at 390 px"
    page.execute_script("arguments[0].scrollIntoView({block: 'start'})", card)
    screenshot(page, screenshots / "page-mobile.png")
    page.execute_script("window.scrollTo(0, 0)")
    screenshot(page, screenshots / "page-mobile-top.png")
    # The heatmap scrolls inside its own box; the page still does not.
    page.find_element(By.ID, "saturation-button").click()
    heatmap = wait(page, ".saturation")
    assert page.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.execute_script("arguments[0].scrollIntoView({block: 'start'})", heatmap)
    screenshot(page, screenshots / "page-mobile-heatmap.png")
    assert_stayed_home(page, live.url)


CONTRAST = (HERE / "contrast.js").read_text()

UNLABELLED = (HERE / "unlabelled.js").read_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_controls_are_labelled_and_text_has_contrast(page, server, scheme, screenshots):
    live, _ = server
    page.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )
    open_page(page, live.url)
    check(page, "chr17:43119628:A:G")
    wait(page, "#check-error")
    check(page, EXAMPLE)
    wait(page, "#result .card")
    page.find_element(By.ID, "saturation-button").click()
    wait(page, "table.heatmap")
    assert page.execute_script(UNLABELLED) == []
    assert page.execute_script(CONTRAST) == []
    if scheme == "dark":
        screenshot(page, screenshots / "page-dark.png", until="#saturation-panel")


FORMATS = (HERE / "parse_inputs.js").read_text()


def test_the_page_reads_files_as_the_cli_does(page, server):
    """The browser's parser (formats.js) gives the CLI's rows (clients/io.py) for the same files."""
    live, _ = server
    open_page(page, live.url)
    tsv = "Chrom\tPos\tRef\tAlt\nchr17\t43119628\tT\tG\n\nchr17\t0\tT\tG\n17\t43119632\t.\tG\nshort\n"
    variants = "# a comment\nchr17:43119628:T:G\n\n17:43119628 T>A\textra\n"
    named = "variant\tnote\nchr17:43119628:T:G\tx\n\tnothing\n"
    inputs = [[VCF, "x.vcf"], [tsv, "x.tsv"], [variants, ""], [named, "x.tsv"], [VCF, "pasted"]]
    parsed = page.execute_async_script(FORMATS, inputs)
    for (text, _), got in zip(inputs, parsed, strict=True):
        lines = text.splitlines()
        want = read_vcf(lines) if got["format"] == "vcf" else read_tsv(lines)
        assert [(r["key"], r["text"], r["payload"], r["error"] is not None) for r in got["rows"]] == [
            (r.key, r.text, r.payload, r.error is not None) for r in want
        ]
    assert [p["format"] for p in parsed] == ["vcf", "tsv", "tsv", "tsv", "vcf"]
