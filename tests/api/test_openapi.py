"""openapi.json at the root is what the app serves: frontends generate their clients from it."""

import json
from pathlib import Path

from scripts.export_openapi import openapi_document

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_schema_declares_how_to_send_a_key_and_whether_one_is_needed():
    from service.api.app import create_app
    from service.settings import Settings

    open_doc = openapi_document()
    keyed_doc = create_app(
        Settings(genome_sources=["bundled"], require_api_key=True, api_keys=["k"])
    ).openapi()
    schemes = open_doc["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"] == {**schemes["APIKeyHeader"], "in": "header", "name": "X-API-Key"}
    for doc, optional in ((open_doc, True), (keyed_doc, False)):
        operation = doc["paths"]["/variant-delta"]["post"]
        assert ({} in operation["security"]) is optional
        assert {"HTTPBearer": []} in operation["security"]
        assert "security" not in doc["paths"]["/health"]["get"]
