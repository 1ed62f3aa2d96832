"""The bodies of download_weights, download_genome and smoke, against fakes (issue #10).

* ``fetch_checkpoint`` with a fake hub: an unpinned revision is refused, a wrong MD5 removes the file,
  a file already on the volume is kept (no download).
* ``install_genome`` against a stand-in of UCSC's download server (httpx.MockTransport serving a
  small gzipped genome and its md5sum.txt): bgzip + .fai/.gzi that the service's FASTA source reads,
  a kept install, and refusals (MD5, sizes) that leave nothing in place.
* ``run_smoke`` against the real web tier on a loopback uvicorn server.
* The local entrypoints stop on bad input with one line and a non-zero exit.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.deployment import Deployment

API_KEY = "test-key-0123456789"


@pytest.fixture
def md() -> Any:
    import modal_deploy

    return modal_deploy


# ------------------------------------------------------------------------------------------ weights


class FakeHub:
    """``hf_hub_download`` writing ``content`` where the real one would."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.calls: list[dict[str, Any]] = []

    def __call__(self, repo: str, filename: str, **kwargs: Any) -> str:
        self.calls.append({"repo": repo, "filename": filename, **kwargs})
        path = Path(kwargs["local_dir"]) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.content)
        return str(path)


def deployment(tmp_path: Path, **fields: Any) -> Deployment:
    content_md5 = hashlib.md5(b"weights", usedforsecurity=False).hexdigest()
    return Deployment(weights_mount=str(tmp_path), **{"checkpoint_md5": content_md5, **fields})


def test_fetch_checkpoint_downloads_the_pin_and_checks_md5(md: Any, tmp_path: Path) -> None:
    deploy, hub, commits = deployment(tmp_path), FakeHub(b"weights"), []
    path = md.fetch_checkpoint(deploy, hub, lambda: commits.append(1))
    assert path == deploy.checkpoint_path and Path(path).read_bytes() == b"weights"
    assert hub.calls[0]["revision"] == deploy.model_revision and commits == [1]
    # Already there: kept, nothing downloaded.
    assert md.fetch_checkpoint(deploy, hub, lambda: None) == path and len(hub.calls) == 1


def test_a_wrong_md5_removes_the_file(md: Any, tmp_path: Path) -> None:
    deploy, commits = deployment(tmp_path), []
    with pytest.raises(ValueError, match=r"MD5 .* the file was removed"):
        md.fetch_checkpoint(deploy, FakeHub(b"corrupt"), lambda: commits.append(1))
    assert not Path(deploy.checkpoint_path).exists() and commits == [1]


def test_an_unpinned_revision_is_refused_unless_allowed(md: Any, tmp_path: Path) -> None:
    deploy, hub = deployment(tmp_path, model_revision="main", checkpoint_md5=""), FakeHub(b"w")
    with pytest.raises(ValueError, match="not a 40-hex commit"):
        md.fetch_checkpoint(deploy, hub, lambda: None)
    assert hub.calls == []
    md.fetch_checkpoint(deploy, hub, lambda: None, allow_unpinned=True)
    assert hub.calls[0]["revision"] == "main" and "unpinned" in hub.calls[0]["local_dir"]


def test_download_weights_refuses_an_unpinned_revision_locally(
    md: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(md, "DEPLOY", deployment(tmp_path, model_revision="main"))
    with pytest.raises(SystemExit, match=r"^error: model_revision 'main' is not a 40-hex commit"):
        md.download_weights.info.raw_f()


# ------------------------------------------------------------------------------------------ genome


def fake_genome() -> tuple[bytes, dict[str, int]]:
    records = {"chr1": "ACGT" * 3000, "chr2": "GGCATT" * 500, "chrM": "ACGTTGCA" * 20}
    text = "".join(
        f">{n}\n" + "\n".join(s[i : i + 50] for i in range(0, len(s), 50)) + "\n" for n, s in records.items()
    )
    return gzip.compress(text.encode()), {n: len(s) for n, s in records.items()}


class UcscDownloads:
    """Stand-in for hgdownload's goldenPath: ``hg38/bigZips/hg38.fa.gz`` and ``md5sum.txt``."""

    def __init__(self, data: bytes, md5: str | None = None) -> None:
        self.data, self.requests = data, []
        self.md5 = md5 or hashlib.md5(data, usedforsecurity=False).hexdigest()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path == "/goldenPath/hg38/bigZips/md5sum.txt":
            return httpx.Response(200, text=f"{self.md5}  hg38.fa.gz\n0123  hg38.2bit\n")
        if request.url.path == "/goldenPath/hg38/bigZips/hg38.fa.gz":
            return httpx.Response(200, content=self.data)
        return httpx.Response(404)


BASE = "https://downloads.test/goldenPath"


def test_install_genome_writes_an_indexed_bgzip_the_service_reads(tmp_path: Path) -> None:
    import anyio

    from service.coords import Interval
    from service.genome.fasta import FastaGenome
    from service.jobs.reference import install_genome

    data, sizes = fake_genome()
    server = UcscDownloads(data)
    report = install_genome(
        "hg38", tmp_path, base_url=BASE, expected_sizes=sizes, transport=httpx.MockTransport(server)
    )
    final = tmp_path / "hg38" / "hg38.fa.gz"
    assert report["status"] == "installed" and report["sequences"] == 3 and report["path"] == str(final)
    assert {p.name for p in final.parent.iterdir()} == {"hg38.fa.gz", "hg38.fa.gz.fai", "hg38.fa.gz.gzi"}
    assert final.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF: gzip with the extra field

    async def read() -> str:
        genome = FastaGenome({"hg38": final})
        try:
            return await genome.fetch("hg38", Interval("chr2", 6, 12))
        finally:
            await genome.aclose()

    assert anyio.run(read) == "GGCATT"
    again = install_genome(
        "hg38", tmp_path, base_url=BASE, expected_sizes=sizes, transport=httpx.MockTransport(server)
    )
    assert again["status"] == "kept" and len(server.requests) == 2  # no second download


@pytest.mark.parametrize(
    ("md5", "sizes", "message"),
    [
        ("0" * 32, None, "MD5"),
        (None, {"chr1": 12000, "chr2": 3001}, "chr2 has 3,000 bp, expected 3,001"),
        (None, {"chr1": 12000, "chrX": 5}, "chrX is missing"),
    ],
)
def test_install_genome_refuses_what_does_not_check_out(
    tmp_path: Path, md5: str | None, sizes: dict[str, int] | None, message: str
) -> None:
    from service.jobs.reference import GenomeInstallError, install_genome

    data, real = fake_genome()
    with pytest.raises(GenomeInstallError, match=message):
        install_genome(
            "hg38",
            tmp_path,
            base_url=BASE,
            expected_sizes=sizes or real,
            transport=httpx.MockTransport(UcscDownloads(data, md5)),
        )
    assert not (tmp_path / "hg38").exists() or not any((tmp_path / "hg38").iterdir())


def test_download_genome_refuses_an_unknown_genome(md: Any) -> None:
    with pytest.raises(SystemExit, match=r"^error: unknown genome 'hg37'"):
        md.download_genome.info.raw_f(genome="hg37")


def test_web_tier_reads_the_installed_fasta(md: Any, tmp_path: Path) -> None:
    deploy = Deployment(genome_mount=str(tmp_path), require_api_key=False)
    assert md.installed_genomes(deploy) == {}
    folder = tmp_path / "hg38"
    folder.mkdir()
    for suffix in ("", ".fai", ".gzi"):
        (folder / f"hg38.fa.gz{suffix}").write_bytes(b"")
    assert md.installed_genomes(deploy) == {"hg38": str(folder / "hg38.fa.gz")}
    settings = md.service_settings(deploy, fastas=md.installed_genomes(deploy))
    assert settings.genome_sources == ["bundled", "fasta", "ucsc"] and str(settings.fasta_hg38).endswith(
        "hg38.fa.gz"
    )


# ------------------------------------------------------------------------------------------- smoke


@pytest.fixture
def live_web(md: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from service.scoring.kmer import KmerScorer
    from tests.support.live_server import LiveServer

    kmer = KmerScorer.load()
    monkeypatch.setenv(md.DEPLOY.api_keys_env, json.dumps([API_KEY]))
    app = md.web_app(lambda seqs: [a.astype("float32") for a in kmer.log_probs(seqs)])
    with LiveServer(app) as server:
        yield server


def test_smoke_records_then_compares(md: Any, live_web: Any, tmp_path: Path) -> None:
    from service.jobs.smoke import run_smoke

    record = tmp_path / "smoke.json"
    args = {"api_key": API_KEY, "model": md.DEPLOY.model, "model_revision": "abc", "record_path": record}
    with httpx.Client(base_url=live_web.url) as client:
        first = run_smoke(client, **args)
        assert first.failures == ["one variant: " + first.checks["one variant"].removeprefix("FAILED: ")]
        assert "run with --record" in first.checks["one variant"]
        assert run_smoke(client, **args, record=True).failures == []
        kept = json.loads(record.read_text())
        assert kept["model_revision"] == "abc" and kept["variant"] == "chr17:43119628:T:G"
        again = run_smoke(client, **args)
        assert again.failures == [] and again.measured["delta_score"] == kept["delta_score"]
        assert set(again.measured) >= {"health_s", "no_key_s", "variant_s"}
        other = run_smoke(client, **{**args, "model_revision": "def"})  # another revision: not comparable
        assert other.failures and "rerun --record" in other.failures[0]
        record.write_text(json.dumps({**kept, "delta_score": kept["delta_score"] + 1}))
        assert run_smoke(client, **args).failures  # a different value fails


def test_smoke_entrypoint_needs_a_key(md: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVO2_API_KEY", raising=False)
    with pytest.raises(SystemExit, match=r"^error: set EVO2_API_KEY"):
        md.smoke.info.raw_f(url="http://127.0.0.1:9")
