"""Style transfer (Gatys et al.): the Gram matrix against its closed form, the losses falling as
they should, texture mode matching the style, transfer keeping the content, clear messages for bad
input, the extractor chosen by default, and no hooks left behind."""
import numpy as np
import pytest
import torch

from tests.tiny import tiny_handle
from workbench import api
from workbench.core.hooks import hook_count
from workbench.core.methods.style import layer_features
from workbench.core.optimize.parametrisation import ModelInput
from workbench.core.optimize.settings import image_tensor
from workbench.core.optimize.ssim import ssim
from workbench.core.samples import sample_image
from workbench.core.sources import load_model
from workbench.core.style import extractor as E
from workbench.core.style.images import load_style, style_names, style_path
from workbench.core.style.layers import (VGG_CONTENT, VGG_STYLE, default_content_layer, default_style_layers,
                                         parse_weights)
from workbench.core.style.losses import gram, relative_error, style_loss

FAST = {"size": 64, "steps": 60, "preview_every": 20}


@pytest.fixture(scope="module")
def extractor():
    return load_model("zoo:shapes-cnn?weights=none")      # random weights: layers named features.relu1, ...


@pytest.fixture(scope="module")
def content():
    return sample_image("scene-1")


def test_gram_matrix_is_the_channels_co_activations_over_positions():
    f = torch.tensor([[1.0, 2.0, 0.0], [3.0, 4.0, -1.0]]).reshape(1, 2, 1, 3)
    expected = torch.tensor([[1 + 4 + 0, 3 + 8 + 0], [3 + 8 + 0, 9 + 16 + 1]]) / 3.0
    torch.testing.assert_close(gram(f)[0], expected)
    g = torch.randn(2, 5, 4, 6, generator=torch.Generator().manual_seed(0))
    flat = g.numpy().reshape(2, 5, 24)
    torch.testing.assert_close(gram(g), torch.from_numpy(np.einsum("nci,ndi->ncd", flat, flat) / 24))
    assert float(relative_error(gram(g), gram(g)).max()) == 0.0
    one = g[:1]       # layer b's features doubled: its Gram is 4 G, its loss (4G - G)^2 / G^2 = 9
    loss = style_loss({"a": one, "b": 2 * one}, {"a": gram(one), "b": gram(one)}, {"a": 1.0, "b": 3.0})
    torch.testing.assert_close(loss, torch.tensor([(1 * 0 + 3 * 9.0) / 4]))


def test_texture_mode_lowers_the_gram_loss_steadily_and_matches_the_style_better_than_the_content(
        extractor, content):
    r = api.run("style", extractor, content, mode="texture", style="brick", **FAST)
    curve = np.asarray(r.style_curve, np.float64)
    assert len(curve) == FAST["steps"] and r.content is None and len(r.content_curve) == 0
    assert curve[-1] < 0.3 * curve[0], (curve[0], curve[-1])
    smooth = np.convolve(curve, np.ones(5) / 5, mode="valid")
    assert np.mean(np.diff(smooth) <= 0) >= 0.8
    # the result against the content image, judged by the extractor's own Gram matrices of the style
    weights = default_style_layers(extractor)
    to_input = ModelInput(extractor.preprocess)
    style = image_tensor(load_style("brick"), "cpu", (64, 64))
    grams = {n: gram(f) for n, f in layer_features(extractor.module, list(weights), to_input(style)).items()}

    def style_distance(rgb01):
        x = to_input(torch.from_numpy(np.ascontiguousarray(rgb01)).permute(2, 0, 1)[None].float())
        return float(style_loss(layer_features(extractor.module, list(weights), x), grams, weights)[0])
    made = style_distance(r.image)
    assert made < 0.2 * style_distance(content[::2, ::2].astype(np.float32) / 255), made


def test_transfer_keeps_the_content_that_texture_synthesis_does_not(extractor, content):
    transfer = api.run("style", extractor, content, style="waves", **FAST)
    texture = api.run("style", extractor, content, style="waves", mode="texture", **FAST)
    original = transfer.content
    assert original.shape == transfer.image.shape == texture.image.shape == (64, 64, 3)
    kept, lost = ssim(transfer.image, original), ssim(texture.image, original)
    assert kept > 3 * lost and kept > lost + 0.1, (kept, lost)
    # the content weight trades style for content
    loose, faithful = (api.run("style", extractor, content, style="waves", content_layer="relu2",
                               content_weight=w, **FAST) for w in (1.0, 20.0))
    assert ssim(faithful.image, original) > ssim(loose.image, original) + 0.04
    assert faithful.content_curve[-1] < 0.5 * loose.content_curve[-1]
    assert transfer.style_curve[-1] < 0.5 * transfer.style_curve[0]
    assert transfer.content_curve[0] == pytest.approx(0.0, abs=1e-6)    # it starts from the content


def test_bad_style_and_bad_layers_say_what_is_wrong(extractor, content, tmp_path):
    with pytest.raises(ValueError, match="neither a bundled style .*brick.* nor an image file"):
        api.run("style", extractor, content, style=str(tmp_path / "nope.png"), **FAST)
    (tmp_path / "bad.png").write_text("not a picture")
    with pytest.raises(ValueError, match="style: .*bad.png"):
        api.run("style", extractor, content, style=str(tmp_path / "bad.png"), **FAST)
    with pytest.raises(ValueError, match="style layers: no layer 'conv9'.*features.relu1"):
        api.run("style", extractor, content, style_layers="conv1:1, conv9:1", **FAST)
    with pytest.raises(ValueError, match="the weight of 'relu2' is 'lots', not a number"):
        api.run("style", extractor, content, style_layers="relu1:1, relu2:lots", **FAST)
    with pytest.raises(ValueError, match="at least one layer a weight above 0"):
        api.run("style", extractor, content, style_layers="relu1:0", **FAST)
    with pytest.raises(ValueError, match="content layer: no layer 'deep'"):
        api.run("style", extractor, content, content_layer="deep", **FAST)
    with pytest.raises(ValueError, match="needs a content image"):
        api.run("style", extractor, None, **FAST)


def test_layer_weights_read_short_names_and_default_to_each_stage(extractor):
    assert parse_weights("conv1:2, relu2, features.relu3:0.5", extractor) == {
        "features.conv1": 2.0, "features.relu2": 1.0, "features.relu3": 0.5}
    assert default_style_layers(extractor) == {f"features.relu{i}": 1.0 for i in range(1, 5)}
    assert default_content_layer(extractor) == "features.relu3"
    tiny = tiny_handle()
    assert default_style_layers(tiny) == {"act1": 1.0, "act2": 1.0} and default_content_layer(tiny) == "act1"


def test_the_vgg_layers_are_gatys_relus_and_the_first_of_each_block():
    from torchvision.models.vgg import cfgs, make_layers
    for name, cfg in (("vgg16", "D"), ("vgg19", "E")):
        layers = make_layers(cfgs[cfg])
        relus = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.ReLU)]
        firsts = [relus[0]] + [i + 2 for i, m in enumerate(layers) if isinstance(m, torch.nn.MaxPool2d)][:4]
        assert [f"features.{i}" for i in firsts] == list(VGG_STYLE[name])
        block4 = [i for i in relus if firsts[3] <= i < firsts[4]]
        assert VGG_CONTENT[name] == f"features.{block4[1]}"


def test_the_default_extractor_is_a_local_vgg_then_the_first_bundled_one(monkeypatch, tmp_path):
    from workbench.core import sources
    monkeypatch.setattr(sources, "hub_weights_path", lambda name: tmp_path / f"{name}.pth")
    assert E.vgg_available() == ""
    assert E.default_extractor() == next(m for m in E.BUNDLED_EXTRACTORS if E.bundled_available(m))
    assert E.bundled_available(E.MULTISCALE) and E.bundled_available("zoo:shapes-cnn?weights=none")
    assert not E.bundled_available("zoo:nothing") and not E.bundled_available("torchvision:vgg16")
    choices = E.extractor_choices()
    assert choices[0] == E.default_extractor() and len(choices) == len(set(choices)) >= 3
    assert "zoo:shapes-cnn" in choices and not any(c.startswith("torchvision:") for c in choices)
    (tmp_path / "vgg16.pth").write_bytes(b"")
    assert E.default_extractor() == "torchvision:vgg16"
    (tmp_path / "vgg19.pth").write_bytes(b"")
    assert E.default_extractor() == "torchvision:vgg19"
    assert E.extractor_choices()[0] == "torchvision:vgg19"


def test_style_runs_on_its_default_extractor_and_leaves_no_hooks(content):
    r = api.run("style", None, content, style="mosaic", size=32, steps=3)
    assert r.model == E.default_extractor() and r.image.shape == (32, 32, 3)
    assert hook_count(E.load_extractor(r.model).module) == 0 and E.load_extractor() is E.default_handle()
    assert r.params["style_layers"] and r.params["content_layer"]
    with pytest.raises(ValueError, match="needs a model"):
        api.run("saliency", None, content)


def test_the_multiscale_net_is_seeded_and_transfers_keeping_its_coarse_layout(content):
    from workbench.core.style.multiscale import multiscale_extractor
    handle = multiscale_extractor(E.MULTISCALE)
    assert handle.id == E.MULTISCALE
    torch.testing.assert_close(handle.module.scales[2][0].weight,
                               multiscale_extractor(E.MULTISCALE).module.scales[2][0].weight)
    assert default_style_layers(handle) == {f"scales.{i}.1": 1.0 for i in range(5)}
    assert default_content_layer(handle) == "scales.3.1"
    transfer = api.run("style", handle, content, style="gravel", **FAST)
    texture = api.run("style", handle, None, mode="texture", style="gravel", **FAST)
    assert texture.image.shape == (64, 64, 3) and texture.style_curve[-1] < 0.3 * texture.style_curve[0]
    assert transfer.style_curve[-1] < 0.3 * transfer.style_curve[0]
    assert ssim(transfer.image, transfer.content) > 2 * ssim(texture.image, transfer.content)
    assert hook_count(handle.module) == 0


def test_the_bundled_styles_are_small_images():
    names = style_names()
    assert {"brick", "gravel", "grass", "mosaic"} <= set(names)
    for name in names:
        rgb = load_style(name)
        assert rgb.dtype == np.uint8 and rgb.shape[2] == 3 and 128 <= min(rgb.shape[:2]) <= 256
    assert sum(style_path(name).stat().st_size for name in names) < 300_000
