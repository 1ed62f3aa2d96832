"""Browser tests: headless Chromium against a live uvicorn server (the web page and the API docs).

They run wherever Chromium and chromedriver are installed. Where they are not, each test is skipped
with the reason and the run ends with a banner saying so; with ``CI`` set a missing browser fails the
tests instead (``.ci/run`` installs it). Once the browser is there, nothing is skipped: a browser that
does not start is an error. Screenshots go to ``$EVO2_SCREENSHOTS`` (``make screenshots``:
docs/img/), else to pytest's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import HINT, chromium_paths, start_chromium
from tests.support.live_server import LiveServer, RecordingApp, bundled_app

PATHS = chromium_paths()
pytest.register_assert_rewrite("tests.browser.pages")  # its assertions explain themselves too


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's very last line says so when the browser tests were skipped for want of Chromium."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if PATHS is not None or reporter is None:
        return
    skipped = [r for r in reporter.stats.get("skipped", []) if "tests/browser/" in r.nodeid]
    if skipped:
        message = f"{len(skipped)} BROWSER TESTS SKIPPED: no Chromium/chromedriver ({HINT})"
        reporter.write_sep("!", message, yellow=True, bold=True)


@pytest.fixture(scope="session")
def chromium_bin() -> tuple[str, str]:
    if PATHS is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Chromium is missing: {HINT}")
        pytest.skip(f"Chromium not installed: {HINT}")
    return PATHS


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(chromium_bin: tuple[str, str], downloads: Path) -> Iterator[Any]:
    driver = start_chromium(chromium_bin, downloads)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: Any, downloads: Path) -> Iterator[Any]:
    """The browser with its logs drained and downloads emptied; emulations undone afterwards."""
    for f in downloads.iterdir():
        f.unlink()
    browser.get("about:blank")
    browser.get_log("performance")
    browser.get_log("browser")
    yield browser
    if browser.current_url.startswith("http"):
        browser.execute_script("sessionStorage.clear()")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("EVO2_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


#: A local rsID VCF (the ``file`` annotation source) of constructed records, not dbSNP's: BRCA1 c.181
#: (plus-strand A at chr17:43,106,487) with two alternates that score, and with one that scores and
#: one whose window is too much N to score (ambiguous_window).
RSIDS = (
    "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"
    "chr17\t43106487\trs999999901\tA\tC,G\n"
    f"chr17\t43106487\trs999999902\tA\tC,A{'N' * 100}\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, RecordingApp]]:
    """The real app (k-mer model, bundled BRCA1 slices and transcript and rsID records, the rsIDs of
    RSIDS from a local file) at most 2 variants a request (so a short batch takes several), on loopback."""
    rsids = tmp_path_factory.mktemp("rsids") / "rsids_hg38.vcf"
    rsids.write_text(RSIDS)
    app = RecordingApp(
        bundled_app(max_variants=2, annotation_sources=["bundled", "file"], rsid_vcf_hg38=rsids)
    )
    with LiveServer(app) as live:
        yield live, app
