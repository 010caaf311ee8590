import json

import numpy as np
import pytest
import torch

from tests.tiny import tiny_handle
from workbench.core.hooks import hook_count
from workbench.core.methods import activations, filters
from workbench.core.runner import context, run_method


def test_filters_first_layer_are_normalised_rgb_kernels():
    h = tiny_handle()
    grid = run_method(filters.METHOD, context(h, None))
    w = h.module.conv1.weight.detach().numpy()
    assert grid.tiles.shape == (4, 3, 3, 3)  # N, kh, kw, RGB
    k = w[2]
    expected = 0.5 + 0.5 * k / np.abs(k).max()
    np.testing.assert_allclose(grid.tiles[2], expected.transpose(1, 2, 0), atol=1e-6)
    assert grid.tiles.min() >= 0 and grid.tiles.max() <= 1


def test_filters_of_a_deeper_layer_are_grey_tiles_per_input_channel():
    h = tiny_handle()
    grid = run_method(filters.METHOD, context(h, None), {"layer": "conv2"})
    assert grid.tiles.shape == (6 * 4, 3, 3)
    w = h.module.conv2.weight.detach().numpy()
    np.testing.assert_allclose(grid.tiles[5], 0.5 + 0.5 * w[1, 1] / np.abs(w[1, 1]).max(), atol=1e-6)
    assert grid.titles[5] == "1, in 1"


def test_filters_rejects_a_layer_that_is_not_conv():
    with pytest.raises(ValueError, match="not a conv layer"):
        run_method(filters.METHOD, context(tiny_handle(), None), {"layer": "fc"})


def test_activations_match_the_layer_output_and_map_back_to_image_pixels():
    h = tiny_handle()
    image = np.random.RandomState(1).randint(0, 255, (40, 24, 3), dtype=np.uint8)
    grid = run_method(activations.METHOD, context(h, image), {"layer": "act1"})
    x = h.preprocess(image)
    with torch.no_grad():
        expected = h.module.act1(h.module.conv1(x))[0].numpy()
    np.testing.assert_allclose(grid.tiles, expected, atol=1e-6)
    np.testing.assert_allclose(grid.input, x.numpy())
    hm = grid.channel_heatmap(3)
    assert hm.heatmap.shape == (40, 24)
    assert hm.heatmap.max() == pytest.approx(expected[3].max(), rel=0.05)
    assert hook_count(h.module) == 0


def test_activations_default_to_last_conv_layer():
    h = tiny_handle()
    image = np.zeros((16, 16, 3), np.uint8)
    grid = run_method(activations.METHOD, context(h, image))
    assert grid.layer == "conv2" and grid.tiles.shape == (6, 8, 8)


def test_activation_npz_holds_input_params_and_tiles(tmp_path):
    h = tiny_handle()
    image = np.full((16, 16, 3), 128, np.uint8)
    grid = run_method(activations.METHOD, context(h, image), {"layer": "conv1"})
    path = grid.save_npz(tmp_path / "a.npz")
    data = np.load(path)
    assert set(data.files) >= {"input", "params", "tiles"}
    meta = json.loads(str(data["params"]))
    assert meta["method"] == "activations" and meta["params"]["layer"] == "conv1"
    assert data["input"].shape == (1, 3, 16, 16)
    np.testing.assert_allclose(data["tiles"], grid.tiles)


def test_a_method_that_needs_an_image_says_so():
    with pytest.raises(ValueError, match="needs an image"):
        run_method(activations.METHOD, context(tiny_handle(), None))
