"""Schemathesis against the app's own OpenAPI document: every operation, with and without an API key.

For generated requests, valid and invalid: no 5xx, status codes, content types, headers and bodies as
the schema declares them (the error envelope included), 405s with an ``Allow`` header. Requests that fit
the schema may still be refused with a 400 (an unknown chromosome, a window out of bounds): the API
validates more than the schema can say, so schemathesis's "schema-valid data is accepted" check is off.
Bounded and derandomised so CI runs are repeatable and quick.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.api.app import create_app
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.scoring.kmer import KmerScorer
from service.settings import Settings

KEY = "fuzz-key-0f3b9a2c7d"
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
RELAXED = [positive_data_acceptance]


def _app(**overrides: Any) -> FastAPI:
    config = Settings(genome_sources=["bundled"], max_variants=50, max_sequences=8, **overrides)
    return create_app(config, scorer=KmerScorer.load(), genome=LayeredGenome([BundledGenome()]))


open_schema = schemathesis.openapi.from_asgi("/openapi.json", _app())
keyed_schema = schemathesis.openapi.from_asgi("/openapi.json", _app(require_api_key=True, api_keys=[KEY]))


@open_schema.parametrize()
@FUZZ
def test_open_app_never_fails_and_answers_as_documented(case: schemathesis.Case) -> None:
    response = case.call_and_validate(excluded_checks=RELAXED)
    assert response.status_code < 500


@keyed_schema.parametrize()
@FUZZ
def test_keyed_app_with_the_key_never_fails_and_answers_as_documented(case: schemathesis.Case) -> None:
    response = case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, excluded_checks=RELAXED)
    assert response.status_code != 401
    assert response.status_code < 500


@keyed_schema.parametrize()
@FUZZ
def test_keyed_app_without_the_key_lets_nothing_through(case: schemathesis.Case) -> None:
    response = case.call_and_validate(excluded_checks=RELAXED)
    assert response.status_code < 500
    if case.path != "/health":
        assert not 200 <= response.status_code < 300, (case.path, response.status_code)
    assert KEY not in response.text
