"""The variant page in headless Chromium against a live uvicorn server, as a person uses it: check the
BRCA1 example, read why there is (or is not) a label and how the delta compares with BRCA1's, see a
wrong reference refused, look at the saturation heatmap, give the API key. Every test asserts that no
request left the server's origin. (Batch scoring: test_batch.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from service.api.app import create_app
from service.genome.layered import LayeredGenome
from service.settings import Settings
from tests.browser.pages import assert_stayed_home, check, emulate, open_page, screenshot, wait, wait_text
from tests.support.live_server import LiveServer, RecordingApp, bundled_app
from tests.support.synthetic_genome import SyntheticGenome, random_bases

EXAMPLE = "chr17:43119628:T:G"
HERE = Path(__file__).parent / "scripts"
CONTRAST = (HERE / "contrast.js").read_text()
UNLABELLED = (HERE / "unlabelled.js").read_text()


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


def result_of(server: LiveServer, variant: str, **options: Any) -> dict[str, Any]:
    """What the API answers for ``variant`` with the page's default options (genome hg38)."""
    [result] = api(server, "/variant-delta", {"variant": variant, "genome": "hg38", **options})["results"]
    return dict(result)


def context_words(context: dict[str, Any]) -> str:
    """The card's sentence on where a delta falls among the BRCA1 benchmark's deltas."""
    n = context["n_lof"] + context["n_func"]
    return (
        f"{context['percentile']:.1f}% of the {n:,} BRCA1 variants of the benchmark scored at or below this "
        f"delta: {100 * context['lof_fraction']:.1f}% of the {context['n_lof']:,} that broke BRCA1 in the "
        f"experiment, {100 * context['func_fraction']:.1f}% of the {context['n_func']:,} that did not."
    )


def test_the_example_variant_gets_a_card_a_person_can_read(page, server):
    live, _ = server
    open_page(page, live.url)
    page.find_element(By.CSS_SELECTOR, f'button.example[data-variant="{EXAMPLE}"]').click()
    card = wait(page, "#result .card")
    expected = result_of(live, EXAMPLE)
    text = card.text
    assert "chr17:43,119,628 T → G" in text
    assert "single-base change (SNV) on hg38 (GRCh38)" in text
    # The reference and alternate bases with the genome's bases either side.
    lines = [e.text for e in card.find_elements(By.CSS_SELECTOR, ".seq")]
    before, after = expected["context_before"], expected["context_after"]
    assert lines == [f"…{before}T{after}…", f"…{before}G{after}…"]
    # The window as a 1-based region, the sequence it was read from, and the delta with its sign's meaning.
    assert "chr17:43115532-43123723 (1-based, both ends included): 8,192 bp" in text
    assert "Bases from UCSC’s hg38 assembly: Dec. 2013 (GRCh38/hg38)." in text
    delta = card.find_element(By.CSS_SELECTOR, ".delta")
    assert float(delta.get_attribute("data-value")) == pytest.approx(expected["delta_score"])
    assert shown_number(delta.text) == pytest.approx(expected["delta_score"], rel=5e-3)
    assert ("more likely" if expected["delta_score"] > 0 else "less likely") in text
    # Where the delta falls among the BRCA1 benchmark's, said as such and never as a probability.
    assert context_words(expected["context"]) in text
    assert (
        "Relative to BRCA1 SGE variants under this model (Findlay et al. 2018), not a clinical probability."
        in text
    )
    # kmer-8 is below the calibration's AUROC bar: no label, and the card says why, with the number.
    assert expected["label"] is None and expected["label_reason"] == "model_not_validated"
    assert "No label" in text and "measured BRCA1 AUROC is 0.48" in text
    assert "kmer-8" in text and "Measured BRCA1 AUROC 0.48 (95% CI 0.46–0.50; 3,893 SNVs" in text
    assert card.find_elements(By.CSS_SELECTOR, ".notices") == []  # nothing to warn of here
    assert card.find_elements(By.CSS_SELECTOR, ".resolved") == []  # genomic: nothing was resolved
    assert_stayed_home(page, live.url)


# --- rsIDs and HGVS: what they were resolved to ----------------------------------------------------------


@pytest.mark.parametrize(
    "variant, placed",
    [
        ("rs80357906", "rs80357906 is chr17:43057062:T:TG on hg38 (GRCh38)."),
        (
            "NM_007294.4:c.181T>G",
            "NM_007294.4:c.181T>G (BRCA1, transcript given) is chr17:43106487:A:C on hg38 (GRCh38).",
        ),
        (
            "BRCA1:c.181T>G",
            "BRCA1:c.181T>G on NM_007294.4 (BRCA1's MANE Select transcript) is chr17:43106487:A:C on hg38 "
            "(GRCh38).",
        ),
    ],
)
def test_an_rsid_or_hgvs_card_says_what_it_was_resolved_to(page, server, variant, placed):
    """The bundled BRCA1 records place them offline: rs80357906 is NM_007294.4:c.5266dupC (ClinVar
    17677), c.181T>G is chr17:43,106,487 A>C on the plus strand (BRCA1 is on the minus strand)."""
    live, _ = server
    open_page(page, live.url)
    hint = page.find_element(By.ID, "variant-hint").text
    assert "rs80357906" in hint and "NM_007294.4:c.5266dupC" in hint and "BRCA1:c.181T>G" in hint
    examples = page.find_elements(By.CSS_SELECTOR, f'button.example[data-variant="{variant}"]')
    if variant.startswith("BRCA1"):
        check(page, variant)
    else:  # the rsID and the transcript HGVS are clickable examples
        examples[0].click()
    card = wait(page, "#result .card")
    expected = result_of(live, variant)
    resolution = expected["resolution"]
    said = card.find_element(By.CSS_SELECTOR, ".resolved").text
    assert said.startswith(placed)
    normalised = ", ".join(h for h in (resolution["hgvs_c"], resolution["hgvs_g"]) if h)
    assert f"Normalised: {normalised}. Record from {resolution['record_source']}." in said
    assert resolution["record_source"].startswith("bundled:")
    ref, alt = expected["ref"], expected["alt"]
    assert card.find_element(By.TAG_NAME, "h3").text == f"chr17:{expected['pos']:,} {ref} → {alt}"
    assert float(card.find_element(By.CSS_SELECTOR, ".delta").get_attribute("data-value")) == pytest.approx(
        expected["delta_score"]
    )
    assert_stayed_home(page, live.url)


def test_a_multi_allelic_rsid_shows_each_allele_and_its_error(page, server):
    """rs999999902 (constructed, conftest.RSIDS): allele 1 scores, allele 2's window is too much N."""
    live, _ = server
    open_page(page, live.url)
    check(page, "rs999999902")
    said = wait(page, "#result .alleles-said")
    assert said.text == "rs999999902 has 2 alternate alleles in dbSNP; each is scored."
    [entry] = api(live, "/variant-delta", {"variant": "rs999999902", "genome": "hg38"})["results"]
    first, second = entry["alleles"]
    cards = page.find_elements(By.CSS_SELECTOR, "#result article.card")
    assert len(cards) == 2
    assert cards[0].find_element(By.TAG_NAME, "h3").text == "chr17:43,106,487 A → C"
    assert (
        cards[0]
        .find_element(By.CSS_SELECTOR, ".resolved")
        .text.startswith(
            "rs999999902, dbSNP's alternate allele 1 of 2, is chr17:43106487:A:C on hg38 (GRCh38)."
        )
    )
    assert float(
        cards[0].find_element(By.CSS_SELECTOR, ".delta").get_attribute("data-value")
    ) == pytest.approx(first["delta_score"])
    assert second["error"]["type"] == "ambiguous_window"
    failed = cards[1].text
    assert "Allele 2 of 2: not scored" in failed and second["error"]["message"] in failed
    assert "ambiguous_window" in failed
    # Only the scored allele is offered to the heatmap: no choice to make.
    assert not page.find_element(By.ID, "saturation-allele-box").is_displayed()
    assert wait(page, "#check-status").text == "Scored rs999999902: 1 of 2 alternate alleles scored."
    assert_stayed_home(page, live.url)


def test_the_heatmap_of_a_multi_allelic_rsid_is_around_the_chosen_allele(page, server):
    live, _ = server
    open_page(page, live.url)
    check(page, "rs999999901")
    wait(page, "#result .alleles-said")
    assert len(page.find_elements(By.CSS_SELECTOR, "#result article.card")) == 2
    choice = Select(page.find_element(By.ID, "saturation-allele"))
    assert [o.text for o in choice.options] == [
        "chr17:43106487:A:C (allele 1)",
        "chr17:43106487:A:G (allele 2)",
    ]
    choice.select_by_index(1)
    Select(page.find_element(By.ID, "saturation-width")).select_by_value("5")
    page.find_element(By.ID, "saturation-button").click()
    table = wait(page, "table.heatmap")
    assert len(table.find_elements(By.CSS_SELECTOR, "td[data-i]")) == 11 * 4
    ActionChains(page).move_to_element(table.find_element(By.CSS_SELECTOR, "td.chosen")).perform()
    wait_text(page, ".readout", "chr17:43,106,487 A → G: delta")
    wait_text(page, "#saturation-status", "chr17:43106482-43106492")
    assert_stayed_home(page, live.url)


# --- a calibration that labels: the label where given, and why not elsewhere -----------------------------

#: chrT (30,000 bp, made up): random bases with ten N at 20,001-20,010 (1-based).
CHROM_T = "".join(b if not 20_000 <= i < 20_010 else "N" for i, b in enumerate(random_bases(30_000, 5)))


def snv(pos: int) -> str:
    ref = CHROM_T[pos - 1]
    return f"chrT:{pos}:{ref}:{'A' if ref != 'A' else 'C'}"


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose calibration labels kmer-8's deltas: the packaged kmer-8.json (its threshold,
    logistic fit and BRCA1 benchmark deltas) with its AUROC raised to 0.9, as if kmer-8 had passed; the
    genome is chrT alone."""
    directory = tmp_path_factory.mktemp("calibration")
    packaged = resources.files("service") / "data" / "calibration" / "kmer-8.json"
    record = json.loads(packaged.read_text())
    record["auroc"]["overall"].update(value=0.9, ci95=[0.88, 0.92])
    (directory / "kmer-8.json").write_text(json.dumps(record))
    genome = LayeredGenome([SyntheticGenome({"chrT": CHROM_T})])
    with LiveServer(create_app(Settings(calibration_dir=directory), genome=genome)) as live:
        yield live


def test_a_label_is_shown_where_the_calibration_gives_one(page, labelled):
    open_page(page, labelled.url)
    check(page, snv(10_000))
    card = wait(page, "#result .card")
    expected = result_of(labelled, snv(10_000))
    assert expected["label"] in ("likely_pathogenic", "likely_benign") and expected["label_reason"] is None
    label = card.find_element(By.CSS_SELECTOR, f"strong.label.{expected['label']}")
    assert (
        label.text
        == {"likely_pathogenic": "Likely pathogenic", "likely_benign": "Likely benign"}[expected["label"]]
    )
    text = card.text
    assert f"probability of loss of function {expected['probability_lof']:.2f}" in text
    assert f"confidence {expected['confidence']:.2f}" in text
    assert "A research score, not a clinical call." in text and "No label" not in text
    assert context_words(expected["context"]) in text
    assert "Bases from synthetic, hg38 (v1)." in text
    assert_stayed_home(page, labelled.url)


@pytest.mark.parametrize(
    "variant, options, reason, words",
    [
        (
            snv(17_000),
            {},
            "window_has_n",
            "A window with unknown bases gets no label: the calibration was fitted on windows without any.",
        ),
        (
            f"chrT:12000:{CHROM_T[11_999:12_001]}:{CHROM_T[11_999]}",
            {},
            "kind_outside_calibration",
            "The BRCA1 calibration was fitted on single-base changes (SNVs) only; a deletion is outside "
            "what it has seen, so there is no label.",
        ),
        (
            snv(100),
            {},
            "window_length_outside_calibration",
            "(shortened at a chromosome end); the calibration was fitted on 8,192-bp windows only",
        ),
        (
            snv(10_000),
            {"window": 4096},
            "options_outside_calibration",
            "The calibration was fitted with 8,192-bp windows; deltas with other options are on another "
            "scale. Set the options back to get a label.",
        ),
    ],
    ids=["N in the window", "a deletion", "a window cut short", "another window"],
)
def test_the_card_says_in_words_why_there_is_no_label(page, labelled, variant, options, reason, words):
    expected = result_of(labelled, variant, **options)
    assert expected["label"] is None and expected["label_reason"] == reason
    open_page(page, labelled.url)
    if "window" in options:
        Select(page.find_element(By.ID, "window-select")).select_by_value(str(options["window"]))
    check(page, variant)
    card = wait(page, "#result .card")
    text = card.text
    assert "No label" in text and words in text
    assert "probability of loss of function" not in text
    notices = card.find_elements(By.CSS_SELECTOR, ".notices li")
    if reason == "window_has_n":
        # Unknown bases are said first, before anything is read, and the card keeps its contrast.
        assert [n.text for n in notices] == [
            "The window holds 10 bases that are not A, C, G or T (N marks unknown sequence): the delta says "
            "less than it would over known DNA."
        ]
        assert page.execute_script(CONTRAST) == []
    else:
        assert notices == []
    if expected["context"] is None:
        assert expected["context_reason"] in (
            "options_outside_calibration",
            "window_length_outside_calibration",
        )
        assert "this delta is on another scale" in text or "windows of another length than this" in text
    assert_stayed_home(page, labelled.url)


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
        (
            "NM_000492.4:c.1521_1523del",
            "Unknown transcript or gene",
            "NM_000492.4 is not in the gene models of this deployment for hg38",
        ),
        (
            "rs113993960",
            "Unknown rsID",
            "rs113993960 is not in the dbSNP records of this deployment for hg38",
        ),
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
