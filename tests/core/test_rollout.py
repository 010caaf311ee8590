"""Attention rollout (Abnar & Zuidema 2020) against the formula worked by hand, and on a tiny ViT
against an independent numpy rollout of attention computed by hand."""
import numpy as np
import pytest
import torch

from tests.core.vit_reference import reference_forward, tiny_vit_handle
from tests.tiny import picture
from workbench import api
from workbench.core.attention import discard_lowest, fuse_heads, rollout
from workbench.core.hooks import hook_count
from workbench.core.results.attention import RolloutHeatmap

T = torch.tensor


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-12, atol=1e-12)


# two layers of two heads over two tokens (CLS, one patch); the head means are
# layer 1: [[.5, .5], [.2, .8]]   layer 2: [[.9, .1], [.3, .7]]
LAYER_1 = T([[[0.6, 0.4], [0.1, 0.9]], [[0.4, 0.6], [0.3, 0.7]]], dtype=torch.float64)
LAYER_2 = T([[[1.0, 0.0], [0.2, 0.8]], [[0.8, 0.2], [0.4, 0.6]]], dtype=torch.float64)


def test_mean_fusion_adds_the_identity_renormalises_and_multiplies_last_layer_on_the_left():
    # (A1 + I) row-normalised: [[.75, .25], [.1, .9]];  (A2 + I): [[.95, .05], [.15, .85]]
    close(rollout([LAYER_1]), [[0.75, 0.25], [0.1, 0.9]])
    # A2^ A1^ = [[.95*.75 + .05*.1, .95*.25 + .05*.9], [.15*.75 + .85*.1, .15*.25 + .85*.9]]
    close(rollout([LAYER_1, LAYER_2]), [[0.7175, 0.2825], [0.1975, 0.8025]])
    close(rollout([LAYER_2, LAYER_1]), [[0.75 * 0.95 + 0.25 * 0.15, 0.75 * 0.05 + 0.25 * 0.85],
                                        [0.1 * 0.95 + 0.9 * 0.15, 0.1 * 0.05 + 0.9 * 0.85]])


def test_min_and_max_fusion():
    close(fuse_heads(LAYER_1, "min"), [[0.4, 0.4], [0.1, 0.7]])
    close(fuse_heads(LAYER_1, "max"), [[0.6, 0.6], [0.3, 0.9]])
    close(rollout([LAYER_1], "min"), [[1.4 / 1.8, 0.4 / 1.8], [0.1 / 1.8, 1.7 / 1.8]])
    close(rollout([LAYER_1], "max"), [[1.6 / 2.2, 0.6 / 2.2], [0.3 / 2.2, 1.9 / 2.2]])
    with pytest.raises(ValueError, match="head_fusion 'median': choose one of mean, min, max"):
        rollout([LAYER_1], "median")


# distinct entries; the CLS token's own 0.10 is the third lowest
ONE_HEAD = T([[[0.10, 0.50, 0.40], [0.30, 0.05, 0.65], [0.20, 0.72, 0.08]]], dtype=torch.float64)


def test_discard_zeroes_the_lowest_share_but_never_the_cls_tokens_own_attention():
    # 8 entries besides [0, 0]; half of them, the four lowest (.05, .08, .20, .30), become 0
    kept = [[0.10, 0.50, 0.40], [0.0, 0.0, 0.65], [0.0, 0.72, 0.0]]
    close(discard_lowest(ONE_HEAD[0], 0.5), kept)
    close(ONE_HEAD[0, 1, 1], 0.05)                      # the input is left as it was
    close(rollout([ONE_HEAD], "mean", 0.5), [[1.1 / 2.0, 0.5 / 2.0, 0.4 / 2.0],
                                             [0.0, 1.0 / 1.65, 0.65 / 1.65],
                                             [0.0, 0.72 / 1.72, 1.0 / 1.72]])
    close(discard_lowest(ONE_HEAD[0], 0.0), ONE_HEAD[0])
    close(discard_lowest(ONE_HEAD[0], 0.1), ONE_HEAD[0])    # int(0.1 * 8) = 0 entries
    with pytest.raises(ValueError, match=r"discard_ratio 1.0: give a share in \[0, 1\)"):
        discard_lowest(ONE_HEAD[0], 1.0)


def test_gradient_weighting_keeps_relu_of_gradient_times_attention():
    grads = T([[[1.0, -1.0], [2.0, 0.5]], [[-1.0, 3.0], [1.0, 1.0]]], dtype=torch.float64)
    attn = T([[[0.5, 0.5], [0.2, 0.8]], [[0.6, 0.4], [0.1, 0.9]]], dtype=torch.float64)
    # relu(G*A): head 0 [[.5, 0], [.4, .4]], head 1 [[0, 1.2], [.1, .9]]; mean [[.25, .6], [.25, .65]]
    close(rollout([attn], gradients=[grads]), [[1.25 / 1.85, 0.6 / 1.85], [0.25 / 1.9, 1.65 / 1.9]])
    with pytest.raises(ValueError, match="1 gradients for 2 attention layers"):
        rollout([attn, attn], gradients=[grads])


def test_layers_of_another_size_are_refused():
    with pytest.raises(ValueError, match="layer 1 has attention of shape"):
        rollout([LAYER_1, ONE_HEAD])


# --- on the tiny ViT, against numpy ------------------------------------------------------------

def numpy_rollout(attentions, fusion, ratio, gradients=None):
    n = attentions[0].shape[-1]
    joint = np.eye(n)
    for i, a in enumerate(attentions):
        a = np.asarray(a, np.float64)
        if gradients is not None:
            a = np.maximum(np.asarray(gradients[i], np.float64) * a, 0)
        fused = {"mean": a.mean(0), "min": a.min(0), "max": a.max(0)}[fusion].ravel().copy()
        ranked = fused.copy()
        ranked[0] = np.inf
        fused[np.argsort(ranked, kind="stable")[:int(ratio * (n * n - 1))]] = 0
        fused = fused.reshape(n, n) + np.eye(n)
        joint = (fused / fused.sum(1, keepdims=True)) @ joint
    return joint


def vit_input(handle, image):
    return handle.preprocess(image)


@pytest.mark.parametrize("fusion", ["mean", "min", "max"])
@pytest.mark.parametrize("ratio", [0.0, 0.6])
def test_rollout_method_on_a_tiny_vit_matches_numpy(fusion, ratio):
    handle, image = tiny_vit_handle(), picture()
    result = api.run("rollout", handle, image, head_fusion=fusion, discard_ratio=ratio)
    with torch.no_grad():
        _, attentions = reference_forward(handle.module, vit_input(handle, image))
    want = numpy_rollout([a[0].numpy() for a in attentions], fusion, ratio)
    assert isinstance(result, RolloutHeatmap) and result.target is None
    np.testing.assert_allclose(result.rows, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.rows.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(result.attribution, want[0, 1:].reshape(4, 4), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.heatmap, handle.geometry.map_to_image(result.attribution, (24, 32)))
    assert result.title == f"rollout ({fusion} of heads, discard {ratio:g}): CLS"
    assert hook_count(handle.module) == 0


def test_gradient_rollout_uses_the_gradients_of_the_chosen_class():
    handle, image = tiny_vit_handle(), picture()
    x = vit_input(handle, image)
    maps = {}
    for target in (0, 2):
        result = api.run("rollout", handle, image, target=target, gradient=True, discard_ratio=0.0)
        logits, attentions = reference_forward(handle.module, x)
        grads = torch.autograd.grad(logits[0, target], attentions)
        want = numpy_rollout([a[0].detach().numpy() for a in attentions], "mean", 0.0,
                             [g[0].numpy() for g in grads])
        np.testing.assert_allclose(result.rows, want, rtol=1e-4, atol=1e-7)
        assert result.target == target and result.target_label == "abc"[target]
        assert result.title.startswith("gradient rollout (mean of heads, discard 0)")
        maps[target] = result.attribution
    assert not np.allclose(maps[0], maps[2])
    assert hook_count(handle.module) == 0


def test_another_query_row_of_the_rollout_needs_no_new_run(tmp_path):
    handle, image = tiny_vit_handle(), picture()
    result = api.run("rollout", handle, image, discard_ratio=0.0)
    patch = result.at(1 + 6)
    np.testing.assert_allclose(patch.attribution, result.rows[7, 1:].reshape(4, 4))
    assert patch.title.endswith(": patch (1, 2)") and patch.row == 7
    with np.load(result.save_npz(tmp_path / "r.npz")) as npz:
        np.testing.assert_allclose(npz["rollout"], result.rows)
        assert npz["heatmap"].shape == (24, 32) and npz["attribution"].shape == (4, 4)


def test_a_zero_head_says_why_its_gradient_rollout_is_empty():
    handle = tiny_vit_handle()
    torch.nn.init.zeros_(handle.module.heads.head.weight)     # as torchvision initialises it
    result = api.run("rollout", handle, picture(), gradient=True, target=1)
    assert not result.attribution.any()
    assert result.title.endswith("all-zero map: zero gradient at this input")
    assert result.at(5).title.endswith("all-zero map: zero gradient at this input")
    assert "all-zero" not in api.run("rollout", tiny_vit_handle(), picture(), gradient=True, target=1).title
