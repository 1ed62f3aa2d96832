"""clients.heatmap: a /saturation response drawn as a PNG."""

from __future__ import annotations

import struct

import pytest

from clients.heatmap import render_saturation_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def small_response(n: int) -> dict:
    ref = ("ACGT" * n)[:n]
    return {
        "model": "kmer-8",
        "genome": "hg38",
        "chrom": "chr17",
        "region": f"chr17:1000-{999 + n}",
        "window": 8192,
        "delta_method": "window",
        "alleles": ["A", "C", "G", "T"],
        "positions": list(range(1000, 1000 + n)),
        "ref": ref,
        "deltas": [[None if a == r else (i - n / 2) * 1e-4 for a in "ACGT"] for i, r in enumerate(ref)],
    }


@pytest.mark.parametrize("n", [1, 12, 200])
def test_a_png_is_written(tmp_path, n):
    out = render_saturation_png(small_response(n), tmp_path / "sat.png")
    width, height = png_size(out.read_bytes())
    assert width > 0 and height > 0


def test_wider_regions_get_wider_images(tmp_path):
    narrow = png_size(render_saturation_png(small_response(20), tmp_path / "a.png").read_bytes())
    wide = png_size(render_saturation_png(small_response(300), tmp_path / "b.png").read_bytes())
    assert wide[0] > narrow[0]


def test_all_zero_or_all_reference_deltas_still_draw(tmp_path):
    response = small_response(4)
    response["deltas"] = [[0.0 if d is not None else None for d in row] for row in response["deltas"]]
    assert png_size(render_saturation_png(response, tmp_path / "zero.png").read_bytes())
    response["ref"] = "NNNN"
    response["deltas"] = [[None] * 4 for _ in range(4)]
    assert png_size(render_saturation_png(response, tmp_path / "none.png").read_bytes())


@pytest.mark.parametrize(
    "broken",
    [{"deltas": []}, {"ref": "A"}, {"deltas": [[0.1, 0.2]] * 12}, {"positions": None}],
)
def test_a_response_that_is_not_a_saturation_is_refused(tmp_path, broken):
    with pytest.raises(ValueError):
        render_saturation_png({**small_response(12), **broken}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.anyio
async def test_the_service_response_renders(client, tmp_path):
    response = await client.post("/saturation", json={"region": "chr17:43119620-43119631"})
    assert response.status_code == 200
    out = render_saturation_png(response.json(), tmp_path / "brca1.png")
    assert png_size(out.read_bytes())[0] > 0


def test_the_client_package_does_not_import_the_service():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("clients", "heatmap.py").read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.split(".")[0] == "service"]
