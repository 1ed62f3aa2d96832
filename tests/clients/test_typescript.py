"""The TypeScript client (clients/typescript): its node tests against a real uvicorn server, and the
check that src/schema.d.ts was generated from the current openapi.json. Needs node ≥ 20 and npm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer, bundled_app

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "typescript"
NPM = shutil.which("npm")

pytestmark = [
    pytest.mark.slow,  # tsc and npm: several seconds
    pytest.mark.skipif(
        NPM is None or shutil.which("node") is None, reason="node and npm are not installed (CI has node 20)"
    ),
]


def npm(
    *args: str, cwd: Path = PACKAGE, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    return subprocess.run(
        [NPM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if not (PACKAGE / "node_modules").is_dir():
        done = npm("ci", "--no-audit", "--no-fund")
        assert done.returncode == 0, done.stdout + done.stderr
    return PACKAGE / "node_modules"


def test_typescript_client_against_a_live_server(node_modules: Path) -> None:
    with LiveServer(bundled_app(require_api_key=True, api_keys=["ts-key"])) as server:
        env = {**os.environ, "EVO2_SERVICE_URL": server.url, "EVO2_SERVICE_API_KEY": "ts-key"}
        done = npm("test", env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "src/schema.d.ts matches openapi.json" in output
    assert "# fail 0" in output and "# pass 8" in output


def test_schema_drift_is_detected(tmp_path: Path, node_modules: Path) -> None:
    copy = tmp_path / "clients" / "typescript"
    for part in ("scripts", "src"):
        shutil.copytree(PACKAGE / part, copy / part)
    shutil.copy(PACKAGE / "package.json", copy / "package.json")
    (copy / "node_modules").symlink_to(node_modules, target_is_directory=True)
    spec = json.loads((ROOT / "openapi.json").read_text())
    spec["components"]["schemas"]["VariantResult"]["properties"]["new_field"] = {"type": "string"}
    (tmp_path / "openapi.json").write_text(json.dumps(spec))

    stale = npm("run", "check-types", cwd=copy)
    assert stale.returncode != 0
    assert "out of date with openapi.json" in stale.stderr
    assert npm("run", "types", cwd=copy).returncode == 0
    assert "new_field" in (copy / "src" / "schema.d.ts").read_text()
    assert npm("run", "check-types", cwd=copy).returncode == 0
