"""The issue's check: the bundled digits classifier still reads held-out digits whose centred 12x12
hole was filled, at least 90% of them, by the context encoder (the whole test split) and by latent
optimisation on the DCGAN (an evenly spread subset, seconds of CPU), where the hole left empty
reads far worse; the card states what these measure, and the method's defaults are the card's."""
import numpy as np
import pytest
import torch

from workbench.core.methods.inpaint import Params
from workbench.zoo import catalogue, inpaint_eval
from workbench.zoo.digits import load_split
from workbench.zoo.inpaint import ContextEncoder, centre_hole, random_masks
from workbench.zoo.sample_quality import as_batch

GOAL = 0.90


@pytest.fixture(scope="module")
def test_split():
    images, labels = load_split("test")
    return as_batch(images), labels


def test_the_context_encoder_restores_held_out_digits_the_classifier_reads(test_split):
    x, labels = test_split
    net = catalogue.load("digits-inpaint")
    assert isinstance(net, ContextEncoder) and not net.training
    ours = inpaint_eval.score(net.fill, x, labels)
    empty = inpaint_eval.score(inpaint_eval.empty_fill, x, labels)
    mean = inpaint_eval.score(inpaint_eval.mean_fill, x, labels)
    telea = inpaint_eval.score(inpaint_eval.telea_fill, x, labels)
    assert ours["accuracy"] >= GOAL and ours["accuracy"] > empty["accuracy"] + 0.2
    assert ours["accuracy"] >= mean["accuracy"] and ours["hole_mse"] < 0.5 * mean["hole_mse"]
    assert ours["hole_mse"] < telea["hole_mse"]
    card = catalogue.card("digits-inpaint")["metrics"]
    assert card["centre_hole_accuracy"] == pytest.approx(ours["accuracy"], abs=1e-4)
    assert card["centre_hole_mse"] == pytest.approx(ours["hole_mse"], abs=1e-4)
    assert card["baselines"]["empty"] == empty and card["baselines"]["train_mean"] == mean
    with torch.no_grad():
        filled = net.fill(x, inpaint_eval.centre_masks(len(x)))
    known = ~torch.from_numpy(centre_hole()).expand_as(x)
    assert torch.equal(filled[known], x[known]), "known pixels are kept as they were"


def test_latent_optimisation_restores_them_too(test_split):
    x, labels = test_split
    pick = np.linspace(0, len(x) - 1, 30).round().astype(int)
    sub, sub_labels = x[pick], labels[pick]
    assert len(set(sub_labels.tolist())) == 10
    fill = inpaint_eval.latent_filler(catalogue.load("digits-dcgan"), 32, restarts=4, steps=100)
    ours = inpaint_eval.score(fill, sub, sub_labels)
    empty = inpaint_eval.score(inpaint_eval.empty_fill, sub, sub_labels)
    mean = inpaint_eval.score(inpaint_eval.mean_fill, sub, sub_labels)
    assert ours["accuracy"] >= GOAL and ours["accuracy"] > empty["accuracy"]
    assert ours["hole_mse"] < 0.5 * mean["hole_mse"]
    full = catalogue.card("digits-inpaint")["metrics"]["latent_optimisation"]
    assert full["n"] == len(x) and full["accuracy"] >= GOAL and full["model"] == "zoo:digits-dcgan"


def test_the_card_and_the_method_agree_on_the_latent_settings():
    card = catalogue.card("digits-inpaint")
    p = Params()
    settings = {"steps": p.steps, "restarts": p.restarts, "prior_weight": p.prior_weight, "weighted": p.weighted,
                "norm": p.loss, "lr": p.lr, "seed": p.seed}
    assert settings == inpaint_eval.LATENT_SETTINGS
    assert {k: card["metrics"]["latent_optimisation"][k] for k in settings} == settings
    assert card["train_command"] == "workbench train digits-inpaint" and card["threads"] == 1
    assert card["params"] == sum(p.numel() for p in ContextEncoder().parameters())
    assert catalogue.get("digits-inpaint").weights_path().stat().st_size < 3_000_000


def test_training_holes_mix_centred_squares_rectangles_and_strokes():
    masks = random_masks(400, np.random.default_rng(0))
    assert masks.shape == (400, 1, 32, 32) and set(np.unique(masks)) == {0.0, 1.0}
    share = masks.mean(axis=(1, 2, 3))
    assert 0.02 < share.min() and share.max() < 0.5
    centred = [m[0, 15:17, 15:17].all() for m in masks]
    assert 0.35 < np.mean(centred) < 0.75
