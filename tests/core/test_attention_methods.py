"""The attention, rollout and positional-similarity methods: values from a tiny ViT checked against
attention computed by hand, their parameters, and a clear refusal on models without attention."""
import numpy as np
import pytest
import torch

from tests.core.vit_reference import reference_forward, tiny_vit_handle
from tests.tiny import builtin_registry, picture, tiny_handle
from workbench import api
from workbench.core.hooks import hook_count
from workbench.core.renderers import GRID, IMAGE, layers_for, renderer_for
from workbench.core.results import Heatmap
from workbench.core.results.attention import AttentionHeadGrid, AttentionHeatmap, PositionalSimilarity
from workbench.core.runner import context, run_method

ATTENTION_METHODS = ("attention", "rollout", "positional-similarity")
IMAGE_HW = (24, 32)


@pytest.fixture(scope="module")
def reference():
    handle = tiny_vit_handle()
    with torch.no_grad():
        _, attentions = reference_forward(handle.module, handle.preprocess(picture()))
    return torch.stack([a[0] for a in attentions]).numpy()      # (layers, heads, 17, 17)


def test_every_head_of_the_last_layer_as_a_grid_by_default(reference, tmp_path):
    handle = tiny_vit_handle()
    grid = api.run("attention", handle, picture())
    assert isinstance(grid, AttentionHeadGrid) and renderer_for(grid).view == GRID
    assert grid.titles == ["head 0", "head 1"] and grid.title == "attention layer 1, every head: CLS"
    np.testing.assert_allclose(grid.tiles, reference[1, :, 0, 1:].reshape(2, 4, 4), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grid.weights, reference, rtol=1e-5, atol=1e-7)
    assert grid.layer == "encoder.layers.encoder_layer_1.self_attention"
    head = grid.channel_heatmap(1)                      # a tile laid over the image
    assert isinstance(head, AttentionHeatmap) and head.title == "attention layer 1, head 1: CLS"
    np.testing.assert_allclose(head.attribution, grid.tiles[1])
    np.testing.assert_allclose(head.heatmap, handle.geometry.map_to_image(grid.tiles[1], IMAGE_HW))
    with np.load(grid.save_npz(tmp_path / "g.npz")) as npz:
        assert npz["weights"].shape == (2, 2, 17, 17) and npz["tiles"].shape == (2, 4, 4)
        assert '"grid_hw": [\n  4,\n  4\n ]' in str(npz["params"])
    assert hook_count(handle.module) == 0


@pytest.mark.parametrize("query, token", [("1,2", 7), ("6", 7), (" CLS ", 0), ("15", 16)])
def test_one_head_for_a_query_on_the_image(reference, query, token):
    handle = tiny_vit_handle()
    result = api.run("attention", handle, picture(), layer=0, head=1, query=query)
    assert isinstance(result, AttentionHeatmap) and isinstance(result, Heatmap)
    assert renderer_for(result).view == IMAGE and len(layers_for(result)) == 1
    want = reference[0, 1, token, 1:].reshape(4, 4)
    np.testing.assert_allclose(result.attribution, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.heatmap, handle.geometry.map_to_image(want, IMAGE_HW), rtol=1e-5, atol=1e-7)
    assert (result.layer, result.head, result.query) == (0, 1, token)
    mean = result.at(head=-1, query=0)                   # another view of the same weights, no new run
    np.testing.assert_allclose(mean.attribution, reference[0, :, 0, 1:].mean(0).reshape(4, 4), rtol=1e-5)
    assert mean.title == "attention layer 0, mean of heads: CLS"
    with pytest.raises(IndexError, match="layer 2, head 0"):
        result.at(layer=2, head=0)


@pytest.mark.parametrize("values, message", [
    ({"layer": 2}, r"layer 2: test:tiny-vit has 2 attention layers \(0-1; -1: the last\)"),
    ({"head": 2}, r"head 2: the layers of test:tiny-vit have 2 heads \(0-1; -1: all\)"),
    ({"query": "16"}, r"query '16': there are 16 patches \(0-15, row by row over 4 x 4\)"),
    ({"query": "4,0"}, r"query '4,0': the patch grid is 4 rows x 4 columns"),
    ({"query": "middle"}, r"query 'middle': give a patch index \(0-15\), ROW,COL$"),
    ({"layer": -2}, r"layer: -2 is outside"),
])
def test_bad_parameters_name_themselves(values, message):
    with pytest.raises(ValueError, match=message):
        api.run("attention", tiny_vit_handle(), picture(), **values)


def test_positional_similarity_is_the_cosine_of_the_learned_embeddings(tmp_path):
    handle = tiny_vit_handle()
    result = api.run("positional-similarity", handle, picture())
    emb = handle.module.encoder.pos_embedding.detach()[0, 1:].double().numpy()
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    assert isinstance(result, PositionalSimilarity) and result.signed and result.row == 10   # centre: (2, 2)
    np.testing.assert_allclose(result.rows, unit @ unit.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.attribution, (unit @ unit[10]).reshape(4, 4), rtol=1e-5, atol=1e-6)
    assert result.attribution[2, 2] == pytest.approx(1.0) and result.attribution.min() < 0.5
    assert result.title == "positional similarity (encoder.pos_embedding): patch (2, 2)"
    corner = api.run("positional-similarity", handle, picture(), patch="0,3")
    np.testing.assert_allclose(corner.attribution, (unit @ unit[3]).reshape(4, 4), rtol=1e-5, atol=1e-6)
    with np.load(result.save_npz(tmp_path / "p.npz")) as npz:
        assert npz["similarity"].shape == (16, 16)


@pytest.mark.parametrize("name", ATTENTION_METHODS)
def test_on_a_model_without_attention_each_method_says_why(name):
    handle = tiny_handle()
    with pytest.raises(ValueError, match="needs a transformer with nn.MultiheadAttention layers") as caught:
        api.run(name, handle, picture())
    assert "ViT" in str(caught.value)
    assert hook_count(handle.module) == 0 and torch.backends.mha.get_fastpath_enabled()
    assert not [n for n, m in handle.module.named_modules() if "forward" in m.__dict__]


@pytest.mark.parametrize("name", ATTENTION_METHODS)
def test_each_method_is_registered_for_classifiers_and_attention_models(name):
    method = builtin_registry().get(name)
    assert method.tasks == ("classify", "attend") and method.kind == "attention"
    handle = tiny_vit_handle()
    handle.task = "attend"
    result = run_method(method, context(handle, picture()))
    assert renderer_for(result).view in (IMAGE, GRID)
    assert np.isfinite(result.heatmap if isinstance(result, Heatmap) else result.tiles).all()


@pytest.fixture(scope="module")
def vit_b_16():
    return api.load_model("torchvision:vit_b_16?weights=none")


def test_torchvisions_vit_b_16_through_the_api(vit_b_16):
    image = picture(200, 260)
    one = api.run("attention", vit_b_16, image, layer=3, head=2, query="7,7")
    assert one.weights.shape == (12, 12, 197, 197) and one.grid_hw == (14, 14) and one.query == 1 + 7 * 14 + 7
    np.testing.assert_allclose(one.weights.sum(-1), 1.0, rtol=1e-4)
    assert one.heatmap.shape == (200, 260)
    x0, y0, x1, y1 = (int(v) for v in vit_b_16.geometry.crop_box((200, 260)))   # outside the centre crop: 0
    assert not one.heatmap[:, : x0 - 1].any() and not one.heatmap[: y0 - 1].any()
    assert (one.heatmap[y0 + 2: y1 - 2, x0 + 2: x1 - 2] > 0).all()
    roll = api.run("rollout", vit_b_16, image, head_fusion="max", discard_ratio=0.9)
    assert roll.rows.shape == (197, 197) and roll.attribution.shape == (14, 14)
    np.testing.assert_allclose(roll.rows.sum(1), 1.0, rtol=1e-4)
    pos = api.run("positional-similarity", vit_b_16, image, patch="0,0")
    assert pos.rows.shape == (196, 196) and pos.attribution[0, 0] == pytest.approx(1.0)
    assert hook_count(vit_b_16.module) == 0


def test_attention_figures_are_coloured_over_the_patches_not_the_crop_border():
    """Around a centre crop the map on the image is 0 where the model saw nothing; the renderer
    colours the map over the patch values, so the figure is not flattened by those zeros."""
    from tests.core.vit_reference import tiny_vit
    from tests.tiny import picture
    from workbench import api
    from workbench.core.canvas_layers import HeatmapLayer
    from workbench.core.geometry import Geometry
    from workbench.core.handle import ModelHandle, Preprocess
    from workbench.core.renderers import layers_for
    cropped = ModelHandle(id="test:tiny-vit-crop", module=tiny_vit(), task="classify", labels=["a", "b", "c"],
                          preprocess=Preprocess(Geometry((32, 32), "shorter", 32, (32, 32))))
    result = api.run("attention", cropped, picture(24, 48), head=0)   # wide: the crop leaves borders
    assert float(result.heatmap.min()) == 0.0 and float(result.attribution.min()) > 0
    layer = next(l for l in layers_for(result) if isinstance(l, HeatmapLayer))
    assert layer.levels == pytest.approx((float(result.attribution.min()), float(result.attribution.max())))
