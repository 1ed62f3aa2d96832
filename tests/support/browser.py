"""Headless Chromium for the browser tests (tests/browser): find it, start it, read its logs.

Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them when missing);
``CHROMIUM`` and ``CHROMEDRIVER`` override where they are. Selenium is given both paths, so Selenium
Manager never tries to download a browser or a driver.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

HINT = "apt-get install chromium chromium-driver (Debian), or set CHROMIUM and CHROMEDRIVER"


def chromium_paths() -> tuple[str, str] | None:
    """``(browser, driver)`` executables, or ``None`` when either is missing."""
    browser = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(paths: tuple[str, str], downloads: Path, size: tuple[int, int] = (1280, 900)) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={size[0]},{size[1]}",
        "--force-device-scale-factor=1",
        "--lang=en-US",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (Chromium's network log, failed ones too)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str], origin: str) -> list[str]:
    """The URLs of ``urls`` that leave ``origin`` (``data:`` and this origin's ``blob:`` stay home)."""
    home = (f"{origin}/", f"blob:{origin}/", "data:")
    return [u for u in urls if not u.startswith(home)]


def console_problems(driver: Any, expected: tuple[str, ...] = ()) -> list[str]:
    """Errors the page logged since the last call (JavaScript errors, CSP refusals, failed loads),
    less those naming one of ``expected`` (e.g. the 400 a ref-mismatch test provokes)."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return [m for m in errors if not any(x in m for x in expected)]
