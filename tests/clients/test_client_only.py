"""The client alone (``pip install evo2-variant-service``, no extras): the CLI scores a file with none
of the server's dependencies importable, and pyproject's base dependencies are what it needs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from tests.support.live_server import LiveServer, bundled_app

ROOT = Path(__file__).resolve().parents[2]
#: Importable in a client-only install: the standard library and these distributions' modules.
BASE = {"httpx": "httpx", "pydantic": "pydantic", "tqdm": "tqdm"}
#: The server's and the extras' modules, none of which the client may need.
BLOCKED = (
    "service", "fastapi", "starlette", "uvicorn", "pydantic_settings", "numpy", "pyfaidx", "Bio",
    "prometheus_client", "cachetools", "pysam", "torch", "evo2", "vortex", "modal", "matplotlib",
)  # fmt: skip

_CLIENT = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed in a client-only install")
            return None

    BLOCKED = set(sys.argv[1].split(","))
    sys.meta_path.insert(0, Block())
    from clients.cli import main

    sys.exit(main(sys.argv[2:]))
    """
)


def test_base_dependencies_are_the_clients() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">=")[0].split("==")[0].strip() for d in project["dependencies"]}
    assert names == set(BASE)
    assert project["scripts"]["evo2-variant"] == "clients.cli:main"


def test_the_cli_scores_a_file_without_the_servers_dependencies(tmp_path: Path) -> None:
    tsv, out = tmp_path / "in.tsv", tmp_path / "out.jsonl"
    tsv.write_text("variant\nchr17:43119628:T:G\nchr17:43119628:A:G\n")
    with LiveServer(bundled_app()) as server:
        args = ["--url", server.url, "variant-delta", "-i", str(tsv), "-o", str(out), "--no-progress"]
        done = subprocess.run(
            [sys.executable, "-c", _CLIENT, ",".join(BLOCKED), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok", "error"] and rows[1]["error_type"] == "ref_mismatch"
    vcf = tmp_path / "in.vcf"
    vcf.write_text("#CHROM\tPOS\tID\tREF\tALT\nchr17\t43119628\t.\tT\tG\n")
    vcf_gz = subprocess.run(  # refused before any request: no server is running
        [sys.executable, "-c", _CLIENT, ",".join(BLOCKED), "variant-delta", "-i", str(vcf), "-o", "x.vcf.gz"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert vcf_gz.returncode == 1
    assert "needs pysam: pip install 'evo2-variant-service[vcf]'" in vcf_gz.stderr
