"""POST /embed with the tiny Evo 2 model: evo2's own hidden states, JSON or .npz / .npy, the limits."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from tests.support.evo2_cpu import build_tiny_model, random_dna, tiny_scorer

pytestmark = pytest.mark.anyio

NPZ = {"accept": "application/x-npz"}


@pytest.fixture
def tiny_app(make_app: Any) -> Any:
    return make_app(scorer=tiny_scorer())


async def post(app: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        return await client.post("/embed", json=body, headers=headers or {})


def evo2_hidden_states(seq: str, layer: str) -> np.ndarray:
    """What evo2's ``Evo2.forward(..., return_embeddings=True, layer_names=[layer])`` gives, (L, width)."""
    from evo2.models import Evo2
    from vortex.model.tokenizer import CharLevelTokenizer

    evo = Evo2.__new__(Evo2)
    evo.model, evo.tokenizer = build_tiny_model(), CharLevelTokenizer(512)
    ids = torch.tensor([list(seq.encode("ascii"))], dtype=torch.long)
    _, embeddings = evo(ids, return_embeddings=True, layer_names=[layer])
    hidden: np.ndarray = embeddings[layer][0].float().numpy()
    return hidden


async def test_mean_pooled_json_equals_evo2s_own_hidden_states(tiny_app):
    seqs = [random_dna(200, 1), random_dna(150, 2)]
    response = await post(tiny_app, {"sequences": seqs})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    [layer] = body["layers"]
    assert layer == "blocks.3.mlp.l3"  # the default: 7/8 of the depth, as evo2's README uses blocks.28
    assert [item["name"] for item in body["items"]] == ["0", "1"]
    for seq, item in zip(seqs, body["items"], strict=True):
        assert item["length"] == len(seq)
        got = np.array(item["embeddings"][layer])
        np.testing.assert_allclose(got, evo2_hidden_states(seq, layer).mean(axis=0), atol=1e-5, rtol=1e-4)


async def test_per_position_npz_holds_every_layer_and_the_metadata(tiny_app):
    seq = random_dna(120, 3)
    layers = ["blocks.0", "blocks.2.filter", "embedding_layer"]
    response = await post(tiny_app, {"sequences": [seq], "layers": layers, "per_position": True}, NPZ)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-npz"
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        arrays = {k: npz[k] for k in npz.files if k != "meta"}
    assert meta["layers"] == layers and meta["per_position"] is True
    assert meta["items"] == [{"name": "0", "length": 120}]
    for layer in layers:
        array = arrays[f"0/{layer}"]
        assert array.dtype == np.float32 and array.shape == (120, 64)
        np.testing.assert_allclose(array, evo2_hidden_states(seq, layer), atol=1e-5, rtol=1e-4)


async def test_a_variants_windows_share_their_hidden_states_before_the_variant(tiny_app):
    body = {"variant": "chr17:43119628:T:G", "window": 256, "layers": ["blocks.1"], "per_position": True}
    response = await post(tiny_app, body, NPZ)
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        ref, alt = npz["ref/blocks.1"], npz["alt/blocks.1"]
    assert meta["variant"] == "chr17:43119628:T:G"
    assert meta["window"] == {"chrom": "chr17", "start": 43119627 - 128, "end": 43119627 + 128}
    assert [i["name"] for i in meta["items"]] == ["ref", "alt"]
    # Causal: positions before the variant (index 128) see the same bases in both windows.
    np.testing.assert_allclose(ref[:128], alt[:128], atol=1e-5)
    assert np.abs(ref[128:] - alt[128:]).max() > 1e-3


async def test_one_array_comes_as_npy_and_several_are_refused_as_npy(tiny_app):
    seq = random_dna(64, 4)
    one = await post(tiny_app, {"sequences": [seq]}, {"accept": "application/x-npy"})
    assert one.status_code == 200 and one.headers["content-type"] == "application/x-npy"
    array = np.load(io.BytesIO(one.content), allow_pickle=False)
    assert array.shape == (64,) and array.dtype == np.float32
    two = await post(tiny_app, {"sequences": [seq, seq]}, {"accept": "application/x-npy"})
    assert two.status_code == 400 and "application/x-npz" in two.json()["error"]["message"]


async def test_limits_layers_and_models_get_typed_errors(make_app, tiny_app):
    seq = random_dna(300, 5)
    small = make_app(scorer=tiny_scorer(), embed_max_json_values=1000, embed_max_layers=2)
    too_big = await post(small, {"sequences": [seq], "per_position": True})  # 300 × 64 numbers
    assert too_big.status_code == 400 and too_big.json()["error"]["type"] == "limit_exceeded"
    assert "application/x-npz" in too_big.json()["error"]["message"]
    assert (await post(small, {"sequences": [seq], "per_position": True}, NPZ)).status_code == 200
    many = await post(small, {"sequences": [seq], "layers": ["blocks.0", "blocks.1", "blocks.2"]})
    assert many.json()["error"]["detail"] == {"layers": 3, "max_layers": 2}
    unknown = await post(tiny_app, {"sequences": [seq], "layers": ["blocks.99"]})
    assert unknown.status_code == 400 and unknown.json()["error"]["type"] == "unknown_layer"
    assert unknown.json()["error"]["detail"]["default"] == "blocks.3.mlp.l3"
    kmer = await post(make_app(), {"sequences": [seq]})
    assert kmer.status_code == 400 and kmer.json()["error"]["type"] == "unsupported_by_model"
    neither = await post(tiny_app, {"layers": ["blocks.0"]})
    assert neither.status_code == 400 and neither.json()["error"]["type"] == "invalid_request"


async def test_info_lists_the_layers_and_the_embed_limits(tiny_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(tiny_app), base_url="http://t") as client:
        info = (await client.get("/info")).json()
    facts = info["model"]["embeddings"]
    assert facts["available"] is True and facts["default_layer"] == "blocks.3.mlp.l3"
    assert facts["layers"]["blocks.3.mlp.l3"] == 64 and facts["layers"]["blocks.1.mlp.l1"] == 128
    assert not any("rotary_emb" in name or "inner_attn" in name for name in facts["layers"])
    assert info["limits"]["embed_max_layers"] == 8


async def test_the_request_examples_succeed_on_an_evo2_model(tiny_app):
    """What Swagger UI's "Try it out" sends to /embed, as it stands."""
    from service.api.examples import EMBED

    for name, example in EMBED.items():
        response = await post(tiny_app, example["value"])
        assert response.status_code == 200, (name, response.text)
        assert response.json()["items"], name


async def test_an_rsid_or_hgvs_is_resolved_and_a_multi_allelic_rsid_is_refused(make_app, tmp_path):
    vcf = tmp_path / "rsids.vcf"
    vcf.write_text("#CHROM\tPOS\tID\tREF\tALT\nchr17\t43106487\trs999999901\tA\tC,G\n")
    app = make_app(scorer=tiny_scorer(), annotation_sources=["bundled", "file"], rsid_vcf_hg38=vcf)
    hgvs = await post(app, {"variant": "NM_007294.4:c.181T>G", "window": 1024})
    assert hgvs.status_code == 200, hgvs.text
    assert hgvs.json()["variant"] == "chr17:43106487:A:C"
    several = await post(app, {"variant": "rs999999901", "window": 1024})
    assert several.status_code == 400
    assert several.json()["error"]["detail"]["alleles"] == ["chr17:43106487:A:C", "chr17:43106487:A:G"]
