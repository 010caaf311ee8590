import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torchvision.models import VisionTransformer

from workbench.core.sources import load_model
from workbench.zoo.catalogue import ZOO, card
from workbench.zoo.shapes import render_shape, render_shape_with_mask
from workbench.zoo.train_classification import accuracy
from workbench.zoo.train_vit import (attention_on_shape, attention_split, patch_coverage, token_targets,
                                     train_shapes_vit)
from workbench.zoo.vit import SHAPES_VIT, STEM_CHANNELS, cls_attention, encode

NAME = "shapes-vit"
TOLERANCE = 0.04


@pytest.fixture(scope="module")
def bundled():
    return load_model(f"zoo:{NAME}"), card(NAME)


@pytest.fixture(scope="module")
def held_out():
    return attention_split(200)


def test_the_bundled_vit_is_torchvisions_with_the_cards_shape(bundled):
    handle, c = bundled
    model = handle.module
    assert isinstance(model, VisionTransformer) and not model.training
    config = c["architecture"]["config"]
    assert config == SHAPES_VIT
    assert len(model.encoder.layers) == config["num_layers"]
    assert all(b.self_attention.num_heads == config["num_heads"] for b in model.encoder.layers)
    assert model.patch_size == config["patch_size"] and model.image_size == config["image_size"]
    assert model.heads.head.out_features == len(c["labels"]) == 6
    assert c["architecture"]["conv_stem"] == list(STEM_CHANNELS)
    assert model.encoder.pos_embedding.shape == (1, 1 + (64 // 8) ** 2, config["hidden_dim"])
    assert c["params"] == sum(p.numel() for p in model.parameters())
    assert ZOO[NAME].weights_path().stat().st_size < 2_000_000
    assert c["train_command"] == f"workbench train {NAME}" and c["seed"] == 0
    assert handle.labels == c["labels"] and handle.task == "classify"


def test_held_out_accuracy_matches_the_card(bundled, held_out):
    handle, c = bundled
    images, labels, _ = held_out
    with torch.inference_mode():
        acc = accuracy(handle.module, ZOO[NAME], images, labels)
    assert c["metrics"]["test_accuracy"] >= 0.9
    assert acc >= c["metrics"]["test_accuracy"] - TOLERANCE
    one = handle.preprocess(images[0])  # the workbench's own preprocessing feeds it the same
    torch.testing.assert_close(one, ZOO[NAME].to_input(images[:1]))


def test_the_class_token_looks_at_the_shape(bundled, held_out):
    handle, c = bundled
    images, _, alpha = held_out
    looks = attention_on_shape(handle.module, images, alpha)
    assert looks["inside_share"] > 1.5 * looks["area_share"]
    assert looks["inside_share"] == pytest.approx(c["metrics"]["cls_attention_inside_share"], abs=0.05)
    assert looks["area_share"] == pytest.approx(c["metrics"]["shape_area_share"], abs=0.03)


def test_cls_attention_is_the_attention_the_forward_pass_uses(bundled, held_out):
    model = bundled[0].module
    x = ZOO[NAME].to_input(held_out[0][:4])
    seen = []
    block = model.encoder.layers[-1]
    hook = block.ln_1.register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        with torch.no_grad():
            model(x)
    finally:
        hook.remove()
    q = seen[0]
    attn = block.self_attention
    w_q, w_k, _ = attn.in_proj_weight.chunk(3)
    b_q, b_k, _ = attn.in_proj_bias.chunk(3)
    heads, d = attn.num_heads, attn.head_dim
    queries = (q @ w_q.T + b_q).view(4, -1, heads, d).transpose(1, 2)
    keys = (q @ w_k.T + b_k).view(4, -1, heads, d).transpose(1, 2)
    reference = torch.softmax(queries @ keys.transpose(-1, -2) / d ** 0.5, -1).mean(1)[:, 0, 1:]
    torch.testing.assert_close(cls_attention(model, x), reference, atol=1e-5, rtol=1e-4)


def test_masks_replay_the_rendered_shapes():
    for seed in (0, 7, 2_000_003):
        image, label, alpha = render_shape_with_mask(seed)
        expected_image, expected_label = render_shape(seed)
        np.testing.assert_array_equal(image, expected_image)
        assert label == expected_label and alpha.shape == (64, 64) and alpha.max() == 1.0
        cover = patch_coverage(alpha[None], 8)
        assert cover.shape == (1, 64)
        assert cover.mean() == pytest.approx(alpha.mean())
    corner = np.zeros((1, 64, 64), np.float32)
    corner[0, :8, 56:] = 1.0
    np.testing.assert_array_equal(np.flatnonzero(patch_coverage(corner, 8)), [7])
    corner[0, 8:12, :8] = 1.0  # half of patch 8 counts as the shape; a quarter of patch 16 does not
    corner[0, 16:18, :8] = 1.0
    targets = token_targets((corner * 255).astype(np.uint8), np.array([3]), 8)
    np.testing.assert_array_equal(np.flatnonzero(targets[0]), [7, 8])
    assert targets[0, 7] == targets[0, 8] == 4


def test_encode_gives_the_tokens_the_forward_pass_classifies():
    model = ZOO[NAME].build().eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tokens = encode(model, x)
        assert tokens.shape == (2, 65, SHAPES_VIT["hidden_dim"])
        torch.testing.assert_close(model.heads(tokens[:, 0]), model(x))


def test_training_is_seeded_and_writes_the_card(tmp_path):
    cards = [train_shapes_vit(tmp_path / d, epochs=1, n_train=64, n_eval=16, log=lambda _m: None)
             for d in "ab"]
    assert cards[0]["metrics"] == cards[1]["metrics"]
    first, second = (load_file(str(tmp_path / d / f"{NAME}.safetensors")) for d in "ab")
    assert first.keys() == second.keys()
    for key in first:  # MKL's sgemm may round differently with buffer alignment: not bitwise
        torch.testing.assert_close(first[key], second[key], atol=1e-6, rtol=1e-5, msg=key)
    c = cards[0]
    assert c["data"]["splits"]["train"] == {"first_seed": 0, "count": 64}
    assert {"test_accuracy", "cls_attention_inside_share", "shape_area_share"} <= set(c["metrics"])
    assert c["train_threads"] == 1 and c["epochs"] == 1
    assert isinstance(ZOO[NAME].load(tmp_path / "a"), VisionTransformer)
