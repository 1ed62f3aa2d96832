"""openapi.json at the root is what the app serves: frontends generate their clients from it."""

import json
from pathlib import Path

from scripts.export_openapi import openapi_document

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_json_matches_the_app():
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert committed == openapi_document(), "openapi.json drifted: run `make openapi`"


def test_every_route_declares_its_error_responses():
    document = openapi_document()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path == "/health":
                continue
            for status in ("400", "401", "422", "502", "503", "504"):
                assert status in operation["responses"], (method, path, status)
