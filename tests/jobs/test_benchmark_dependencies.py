"""scikit-learn is a benchmark dependency (extras `bench`, `dev`): the served app must not import it."""

from __future__ import annotations

import subprocess
import sys

SERVE_AND_LABEL = """
import sys
from fastapi.testclient import TestClient
from service.api.app import create_app
from service.genome.bundled import BundledGenome
from service.genome.layered import LayeredGenome
from service.jobs import bulk
from service.settings import Settings

app = create_app(Settings(genome_sources=["bundled"]), genome=LayeredGenome([BundledGenome()]))
with TestClient(app) as client:
    assert client.get("/info").status_code == 200
    response = client.post("/variant-delta", json={"variant": "chr17:43119628:T:G", "genome": "hg38"})
    assert response.status_code == 200, response.text
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "sklearn")
assert not loaded, loaded
"""


def test_the_served_app_never_imports_scikit_learn():
    result = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LABEL], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
