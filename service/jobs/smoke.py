"""End-to-end check of a running service (``modal run modal_deploy.py::smoke``): health, a refusal
without a key, and one variant compared with the value recorded for the same model revision.

The recorded value lives in a small JSON file (``bench/results/smoke-<model>.json``) written by the
first ``--record`` run against a deployment and committed; later runs compare with it. A record is
only used for the model revision, window and variant it was taken with.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: The variant the smoke test scores: the README's BRCA1 example, hg38, the default window.
SMOKE_VARIANT = "chr17:43119628:T:G"
SMOKE_GENOME = "hg38"
SMOKE_WINDOW = 8192
#: bfloat16 forward passes on one GPU type are reproducible to well within this (relative to |delta|,
#: with an absolute floor for deltas near zero).
RELATIVE_TOLERANCE = 0.05
ABSOLUTE_TOLERANCE = 5e-5


@dataclass
class SmokeReport:
    checks: dict[str, str] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = ("ok: " if ok else "FAILED: ") + detail
        if not ok:
            self.failures.append(f"{name}: {detail}")


def _timed(report: SmokeReport, name: str, call: Any) -> httpx.Response:
    started = time.perf_counter()
    response: httpx.Response = call()
    report.measured[f"{name}_s"] = round(time.perf_counter() - started, 3)
    return response


def run_smoke(
    client: httpx.Client,
    *,
    api_key: str,
    model: str,
    model_revision: str,
    record_path: Path,
    record: bool = False,
) -> SmokeReport:
    """Run the checks against ``client``'s base URL; ``record`` keeps this run's delta as the value."""
    report = SmokeReport()
    health = _timed(report, "health", lambda: client.get("/health"))
    body = health.json() if health.status_code == 200 else {}
    report.check(
        "health",
        health.status_code == 200 and body.get("model") == model,
        f"{health.status_code}, model {body.get('model')!r}",
    )
    request = {"variant": SMOKE_VARIANT, "genome": SMOKE_GENOME, "window": SMOKE_WINDOW}
    refused = _timed(report, "no_key", lambda: client.post("/variant-delta", json=request))
    report.check("401 without a key", refused.status_code == 401, f"{refused.status_code}")
    headers = {"Authorization": f"Bearer {api_key}"}
    answer = _timed(report, "variant", lambda: client.post("/variant-delta", json=request, headers=headers))
    if answer.status_code != 200:
        report.check("one variant", False, f"{answer.status_code}: {answer.text[:300]}")
        return report
    delta = float(answer.json()["results"][0]["delta_score"])
    report.measured["delta_score"] = delta
    key = {"model": model, "model_revision": model_revision, "variant": SMOKE_VARIANT, "window": SMOKE_WINDOW}
    if record:
        record_path.parent.mkdir(parents=True, exist_ok=True)
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        record_path.write_text(json.dumps({**key, "delta_score": delta, "recorded": when}, indent=2) + "\n")
        report.check("one variant", True, f"delta {delta:.6g} recorded in {record_path}")
        return report
    compare_with_record(report, delta, key, record_path)
    return report


def compare_with_record(report: SmokeReport, delta: float, key: dict[str, Any], path: Path) -> None:
    if not path.is_file():
        report.check(
            "one variant", False, f"delta {delta:.6g}; no recorded value in {path}: run with --record"
        )
        return
    recorded = json.loads(path.read_text())
    if {k: recorded.get(k) for k in key} != key:
        shown = {k: recorded.get(k) for k in key}
        report.check("one variant", False, f"the record in {path} is for {shown}, not {key}: rerun --record")
        return
    want = float(recorded["delta_score"])
    allowed = max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(want))
    report.measured["recorded_delta_score"] = want
    report.check(
        "one variant",
        abs(delta - want) <= allowed,
        f"delta {delta:.6g}, recorded {want:.6g} (± {allowed:.2g})",
    )
