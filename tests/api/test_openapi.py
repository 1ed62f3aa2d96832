"""openapi.json at the root is what the app serves: frontends generate their clients from it."""

import json
from pathlib import Path

import pytest

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


async def _send_examples(client, document):
    """Send every request example of ``document`` as it stands; ``(method, path, name, status)``."""
    sent = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            params = [p for p in operation.get("parameters", []) if p.get("required")]
            if params:
                for p in params:
                    assert p.get("examples"), f"{method} {path}: query parameter {p['name']} has no example"
                query = {p["name"]: next(iter(p["examples"].values()))["value"] for p in params}
                response = await client.request(method, path, params=query)
                sent.append((method, path, "query", response.status_code))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            assert body.get("examples"), f"{method} {path} has no request example"
            for name, example in body["examples"].items():
                response = await client.request(method, path, json=example["value"])
                sent.append((method, path, name, response.status_code))
    return sent


@pytest.mark.anyio
async def test_every_request_example_in_the_schema_succeeds_as_it_stands(client):
    """What Swagger UI's "Try it out" sends: the examples of each body and query parameter (before
    they existed, /variant-delta's default body was refused 400, /saturation's 422, /score's 400)."""
    sent = await _send_examples(client, openapi_document())
    bodies = {(m, p) for m, p, name, _ in sent if name != "query"}
    assert {("post", "/variant-delta"), ("post", "/saturation"), ("post", "/score")} <= bodies
    assert ("post", "/analyze_single_variant", "query", 200) in sent
    # /embed needs a model with layers: the k-mer app refuses it (its examples succeed in test_embed.py)
    embed = {(m, p, name, status) for m, p, name, status in sent if p == "/embed"}
    assert embed and {status for *_, status in embed} == {400}
    assert [s for s in sent if s[3] != 200 and s[1] != "/embed"] == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path, body",
    [
        ("/score", {"sequences": ["ACGTTGCAAGGCTTAACG"], "reverse_complement": 0}),
        ("/score", {"sequences": ["ACGTTGCAAGGCTTAACG"], "per_position": "yes"}),
        ("/variant-delta", {"variant": "chr17:43119628:T:G", "reverse_complement": 1}),
        ("/saturation", {"region": "chr17:43119628-43119630", "reverse_complement": "no"}),
    ],
)
async def test_flags_are_json_booleans_as_the_schema_says(client, path, body):
    """Schemathesis, seeded by the request examples, found ``"reverse_complement": 0`` accepted as false."""
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "validation_error"
