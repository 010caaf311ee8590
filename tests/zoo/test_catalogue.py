import json

import numpy as np
import pytest
import torch

from workbench.core.registry import TASKS
from workbench.zoo import catalogue
from workbench.zoo.catalogue import MODELS_DIR, ZOO, card, get
from workbench.zoo.digits import load_split
from workbench.zoo.train_classification import accuracy, shapes_split

GOALS = {"shapes-cnn": 0.95, "digits-cnn": 0.97}
TOLERANCE = 0.03
CARD_KEYS = {"name", "task", "architecture", "data", "seed", "train_command", "train_seconds",
             "epochs", "metrics", "labels", "input_size", "mean", "std", "grayscale", "params"}


def held_out(name: str):
    if name == "shapes-cnn":
        return shapes_split("test", 300)
    return load_split("test")


def test_entries_are_complete():
    assert {"shapes-cnn", "digits-cnn"} <= set(ZOO)
    for name, e in ZOO.items():
        assert e.name == name and e.task in TASKS
        assert len(e.mean) == len(e.std) == e.channels
        assert e.weights_path() == MODELS_DIR / f"{name}.safetensors"
        assert e.card_path() == MODELS_DIR / f"{name}.json"
        assert MODELS_DIR.parts[-3:] == ("workbench", "resources", "models")
    assert ZOO["digits-cnn"].grayscale and not ZOO["shapes-cnn"].grayscale
    assert get("zoo:shapes-cnn") is ZOO["shapes-cnn"]
    with pytest.raises(KeyError, match="shapes-cnn"):
        get("nope")


def test_missing_weights_name_the_path_and_the_command(tmp_path):
    e = ZOO["shapes-cnn"]
    with pytest.raises(FileNotFoundError, match="workbench train shapes-cnn") as info:
        e.load(tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError):
        e.card(tmp_path)


def test_to_input_normalises_and_converts_to_gray():
    e = ZOO["digits-cnn"]
    gray = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    x = e.to_input(gray)
    assert x.shape == (2, 1, 32, 32)
    torch.testing.assert_close(x, (torch.from_numpy(gray).float()[:, None] / 255 - e.mean[0]) / e.std[0])
    rgb = np.repeat(gray[..., None], 3, axis=3)
    torch.testing.assert_close(e.to_input(rgb), x, atol=1e-5, rtol=0)
    s = ZOO["shapes-cnn"]
    assert s.to_input(np.zeros((1, 64, 64, 3), np.uint8)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError):
        s.to_input(np.zeros((1, 32, 32, 3), np.uint8))


@pytest.mark.parametrize("name", sorted(GOALS))
def test_bundled_model_card(name):
    c = card(name)
    assert CARD_KEYS <= set(c)
    e = ZOO[name]
    assert c["name"] == name and c["train_command"] == f"workbench train {name}"
    assert c["labels"] == e.labels and tuple(c["input_size"]) == e.input_size
    assert tuple(c["mean"]) == e.mean and c["grayscale"] == e.grayscale
    assert c["metrics"]["test_accuracy"] >= GOALS[name]
    assert c["params"] == sum(p.numel() for p in e.build().parameters())
    assert e.weights_path().stat().st_size < 3_000_000
    json.dumps(c)


@pytest.mark.parametrize("name", sorted(GOALS))
def test_bundled_model_accuracy_on_held_out_images(name):
    e = ZOO[name]
    model = catalogue.load(name)
    assert not model.training
    images, labels = held_out(name)
    with torch.inference_mode():
        acc = accuracy(model, e, images, labels)
    assert acc >= card(name)["metrics"]["test_accuracy"] - TOLERANCE
    assert acc >= GOALS[name] - TOLERANCE
    rgb = images if images.ndim == 4 else np.repeat(images[..., None], 3, axis=3)
    assert accuracy(model, e, rgb[:100], labels[:100]) >= GOALS[name] - 0.05
