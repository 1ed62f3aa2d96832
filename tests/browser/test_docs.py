"""/docs (Swagger UI) and /redoc from the vendored files, in headless Chromium: every operation is
rendered, "Try it out" then "Execute" succeeds with the schema's examples as they stand, and neither
page asks anything of another origin."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import assert_stayed_home, wait, wait_text

#: Swagger UI's element ids of the operations that take input, by tag and operation id.
TRY = [
    "scoring-variant_delta_variant_delta_post",
    "scoring-saturation_saturation_post",
    "scoring-score_score_post",
    "compatibility-analyze_single_variant_analyze_single_variant_post",
]


def operation_ids(url: str) -> set[str]:
    document = httpx.get(url + "/openapi.json").json()
    return {
        f"operations-{op['tags'][0]}-{op['operationId']}"
        for methods in document["paths"].values()
        for op in methods.values()
    }


def test_swagger_ui_renders_every_operation_offline(page, server):
    live, _ = server
    page.get(live.url + "/docs")
    wait(page, ".opblock")
    shown = {e.get_attribute("id") for e in page.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert shown == operation_ids(live.url)
    assert "Evo 2 variant-effect service" in page.find_element(By.CSS_SELECTOR, ".info").text
    assert_stayed_home(page, live.url)


@pytest.mark.parametrize("operation", TRY)
def test_try_it_out_succeeds_with_the_examples_as_they_stand(page, server, operation):
    live, _ = server
    page.get(live.url + "/docs")
    block = wait(page, f"#operations-{operation}")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()  # open it
    block.find_element(By.CSS_SELECTOR, "button.try-out__btn").click()
    wait(page, f"#operations-{operation} button.execute").click()
    status = wait_text(
        page, f"#operations-{operation} .live-responses-table tr.response .response-col_status", "200"
    )
    assert status.text.strip().startswith("200")
    assert_stayed_home(page, live.url)


def test_redoc_renders_every_operation_offline(page, server):
    live, _ = server
    page.get(live.url + "/redoc")
    wait_text(page, "body", "Evo 2 variant-effect service")
    document = httpx.get(live.url + "/openapi.json").json()
    text = page.find_element(By.TAG_NAME, "body").text
    for path, methods in document["paths"].items():
        for op in methods.values():
            assert op["summary"] in text, (path, op["summary"])
    assert_stayed_home(page, live.url)
