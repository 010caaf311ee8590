"""The bundled textures-cnn: its first layer is mostly Gabor-like, its card's accuracy holds on
the held-out regions, and it loads and shows its filters like any other model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.zoo import textures
from workbench.zoo.catalogue import get
from workbench.zoo.filter_shape import gabor_share
from workbench.zoo.train_classification import accuracy

NAME = "textures-cnn"


@pytest.fixture(scope="module")
def model():
    return get(NAME).load()


@pytest.fixture(scope="module")
def card():
    return get(NAME).card()


def test_most_first_layer_filters_are_oriented_gabors(model, card):
    weights = model.features.conv1.weight.detach().numpy()
    assert weights.shape[1:] == (3, 11, 11) and weights.shape[0] >= 32
    share = gabor_share(weights, r2=card["gabor_share"]["r2_min"], osi=card["gabor_share"]["osi_min"])
    torch.manual_seed(0)
    control = gabor_share(torch.nn.Conv2d(3, 16, 11).weight.detach().numpy())
    print(f"\n{NAME} conv1: Gabor share {share:.3f} ({weights.shape[0]} filters, R^2 >= 0.7 and "
          f"OSI >= 0.3); random init {control:.3f}")
    assert share >= 0.5
    assert share == pytest.approx(card["gabor_share"]["value"], abs=1e-3)
    assert control == 0.0


def test_the_cards_test_accuracy_holds_on_the_held_out_regions(model, card):
    per_class = 12                          # the first 12 of the card's 40 crops per class
    images, labels = textures.test_split(per_class)
    acc = accuracy(model, get(NAME), images, labels)
    print(f"\n{NAME}: test accuracy {acc:.3f} on {len(labels)} crops, card {card['metrics']['test_accuracy']}")
    assert acc == pytest.approx(card["metrics"]["test_accuracy"], abs=0.08)
    assert acc > 0.5                        # ten classes: chance is 0.1


def test_test_crops_never_touch_the_training_columns():
    for name in textures.TEXTURE_CLASSES:
        train, test = textures.region(name, "train"), textures.region(name, "test")
        whole = textures.photo(name)
        assert train.shape[1] + test.shape[1] == whole.shape[1]
        np.testing.assert_array_equal(test, whole[:, train.shape[1]:])
    images, labels = textures.test_split(2)
    for image, label in zip(images, labels):
        test = textures.region(textures.TEXTURE_CLASSES[label], "test")
        rows = np.lib.stride_tricks.sliding_window_view(test, image.shape[1:], axis=(1, 2))
        rows = rows[:len(test) - len(image) + 1, :, 0]
        found = [(y, x) for y, x in zip(*np.nonzero((rows == image[0]).all(axis=(-2, -1))))
                 if (test[y:y + len(image), x:x + len(image)] == image).all()]
        assert found, "a test crop is not a window of its photograph's test region"


def test_it_loads_through_the_catalogue_and_the_filters_method_shows_conv1(model):
    from workbench.core.methods import filters
    from workbench.core.runner import context, run_method
    from workbench.core.sources import load_model
    handle = load_model(f"zoo:{NAME}")
    assert handle.task == "classify" and handle.labels == list(textures.TEXTURE_CLASSES)
    assert handle.conv_layers()[:4] == ["features.conv1", "features.conv2", "features.conv3", "features.conv4"]
    grid = run_method(filters.METHOD, context(handle, None))
    w = model.features.conv1.weight.detach().numpy()
    assert grid.params["layer"] == "features.conv1"
    assert grid.tiles.shape == (w.shape[0], 11, 11, 3)
    np.testing.assert_allclose(grid.tiles[5], (0.5 + 0.5 * w[5] / np.abs(w[5]).max()).transpose(1, 2, 0),
                               atol=1e-6)


def test_the_card_describes_the_bundled_model(card):
    entry = get(NAME)
    assert card["name"] == NAME and card["train_command"] == f"workbench train {NAME}"
    assert card["labels"] == entry.labels == list(textures.TEXTURE_CLASSES)
    assert tuple(card["input_size"]) == entry.input_size and tuple(card["mean"]) == entry.mean
    assert tuple(card["std"]) == entry.std and not card["grayscale"]
    assert card["params"] == sum(p.numel() for p in entry.build().parameters())
    assert card["gabor_share"]["r2_min"] == 0.7 and card["gabor_share"]["osi_min"] == 0.3
    assert card["metrics"]["test_count"] == len(textures.TEXTURE_CLASSES) * textures.TEST_PER_CLASS
    assert card["train_threads"] == 1 and card["first_layer"]["frozen"]
    assert entry.weights_path().stat().st_size < 3_000_000
