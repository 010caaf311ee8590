"""The bundled super-resolvers reproduce their cards on a held-out subset, and the cards show what
the issue asks: the GAN has the lower PSNR and the lower FID, the pixel-loss model beats bicubic."""
import json

import pytest
import torch

from workbench.zoo import catalogue, superres, superres_quality
from workbench.zoo.train_superres import SUBSET_SHAPES

NAMES = ("sr-pixel", "sr-gan")


@pytest.fixture(scope="module")
def models():
    return {"bicubic": None, **{name: catalogue.load(name) for name in NAMES}}


@pytest.fixture(scope="module")
def subset(models):
    torch.set_num_threads(1)
    return superres_quality.evaluate(models, superres.held_out(shapes=SUBSET_SHAPES))


@pytest.mark.parametrize("name", NAMES)
def test_card_and_weights(name):
    c = catalogue.card(name)
    e = catalogue.get(name)
    assert c["name"] == name and c["task"] == e.task == "superres"
    assert c["train_command"] == f"workbench train {name}" and c["train_seconds"] > 0 and c["train_cpu_seconds"] > 0
    assert c["params"] == sum(p.numel() for p in e.build().parameters())
    assert c["labels"] == e.labels and tuple(c["input_size"]) == e.input_size and c["scale"] == 4
    assert e.weights_path().stat().st_size < 1_000_000
    assert c["metrics"]["fid"] == c["metrics"]["held_out"]["shapes"][name]["fid"]
    json.dumps(c)


def test_both_cards_hold_the_same_comparison():
    a, b = (catalogue.card(n)["metrics"] for n in NAMES)
    assert a["held_out"] == b["held_out"] and a["subset"] == b["subset"]
    assert set(a["held_out"]["shapes"]) == {"n", "bicubic", *NAMES}


def test_the_gan_trades_psnr_for_a_lower_fid_on_the_cards_held_out_shapes():
    shapes = catalogue.card("sr-gan")["metrics"]["held_out"]["shapes"]
    assert shapes["sr-gan"]["psnr"] < shapes["sr-pixel"]["psnr"]
    assert shapes["sr-gan"]["fid"] < shapes["sr-pixel"]["fid"]
    assert shapes["sr-pixel"]["psnr"] > shapes["bicubic"]["psnr"] + 0.5
    assert shapes["sr-pixel"]["ssim"] > shapes["bicubic"]["ssim"]


@pytest.mark.parametrize("domain", ["shapes", "digits"])
@pytest.mark.parametrize("name", ["bicubic", *NAMES])
def test_the_subset_metrics_are_the_cards(subset, domain, name):
    card = catalogue.card("sr-gan")["metrics"]["subset"][domain][name]
    ours = subset[domain][name]
    assert ours["psnr"] == pytest.approx(card["psnr"], abs=0.02)
    assert ours["ssim"] == pytest.approx(card["ssim"], abs=0.002)
    assert ours["fid"] == pytest.approx(card["fid"], rel=0.02, abs=1e-3)


def test_on_the_subset_too_the_gan_is_less_faithful_and_more_real(subset):
    shapes = subset["shapes"]
    assert shapes["sr-gan"]["psnr"] < shapes["sr-pixel"]["psnr"]
    assert shapes["sr-gan"]["fid"] < shapes["sr-pixel"]["fid"]


def test_the_gan_is_sharper_where_there_are_edges(models):
    """Mean gradient magnitude of the upscales of the subset's shapes: bicubic < pixel loss < GAN,
    with the GAN nearer the originals' own."""
    hr = superres.to_tensor(superres.held_out(shapes=64, digits=0)["shapes"])
    lr = superres.downsample(hr)

    def sharpness(x):
        g = x.mean(1)
        return float((g[:, 1:, :] - g[:, :-1, :]).abs().mean() + (g[:, :, 1:] - g[:, :, :-1]).abs().mean())
    values = {n: sharpness(superres.upscale(m, lr)) for n, m in models.items()}
    truth = sharpness(hr)
    assert values["bicubic"] < values["sr-pixel"] < values["sr-gan"]
    assert abs(values["sr-gan"] - truth) < abs(values["sr-pixel"] - truth)
