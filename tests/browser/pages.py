"""What the browser tests do on the page, in a person's terms (open, type, click, wait, read)."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import console_problems, foreign, requested_urls

TIMEOUT = 60  # the k-mer model on 2 busy cores; a saturation is 63 SNVs


def wait(driver: Any, css: str, timeout: float = TIMEOUT) -> WebElement:
    """The first visible element matching ``css``, once there is one."""
    found: WebElement = WebDriverWait(driver, timeout).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )
    return found


def wait_text(driver: Any, css: str, text: str, timeout: float = TIMEOUT) -> WebElement:
    WebDriverWait(driver, timeout).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return driver.find_element(By.CSS_SELECTOR, css)


def open_page(driver: Any, url: str) -> None:
    """Load the page and wait until it has read /info (the model badge shows)."""
    driver.get(url + "/")
    wait(driver, "#model-badge")


def check(driver: Any, variant: str) -> None:
    box = driver.find_element(By.ID, "variant-input")
    box.clear()
    box.send_keys(variant)
    driver.find_element(By.ID, "check-button").click()


def assert_stayed_home(driver: Any, origin: str, expected_errors: tuple[str, ...] = ()) -> list[str]:
    """No request left ``origin`` and the console has no error; returns the URLs requested."""
    urls = requested_urls(driver)
    assert urls, "the network log is empty: the check would prove nothing"
    assert foreign(urls, origin) == []
    assert console_problems(driver, expected_errors) == []
    return urls


def emulate(driver: Any, width: int, height: int, *, mobile: bool = False) -> None:
    """Make the viewport ``width`` × ``height`` CSS pixels (``mobile``: a phone's, honouring the
    page's viewport meta tag); the ``page`` fixture undoes it."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def screenshot(driver: Any, path: Path, *, until: str | None = None) -> None:
    """A PNG of the viewport, or of the page from its top to the bottom of the element ``until``."""
    params: dict[str, Any] = {"format": "png"}
    if until is not None:
        bottom = driver.execute_script(
            "return document.querySelector(arguments[0]).getBoundingClientRect().bottom + scrollY", until
        )
        width = driver.execute_script("return document.documentElement.clientWidth")
        clip = {"x": 0, "y": 0, "width": width, "height": bottom + 16, "scale": 1}
        params.update(clip=clip, captureBeyondViewport=True)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"]
    path.write_bytes(base64.b64decode(data))


def wait_for_file(folder: Path, suffix: str, timeout: float = 20) -> Path:
    """The finished download named ``*suffix``: Chromium may create it empty before writing it
    (through a ``.crdownload`` file), so wait until it has bytes and nothing is still downloading."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(folder.iterdir())
        done = [p for p in files if p.name.endswith(suffix) and p.stat().st_size > 0]
        if done and not any(p.name.endswith(".crdownload") for p in files):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {folder}: {list(folder.iterdir())}")
