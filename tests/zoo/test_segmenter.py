import json

import pytest
import torch
from safetensors.torch import load_file

from workbench.zoo import catalogue
from workbench.zoo import segmentation_data as data
from workbench.zoo.catalogue import ZOO
from workbench.zoo.segmentation_nets import ShapesUNet, encoder_state
from workbench.zoo.shapes import SHAPE_CLASSES
from workbench.zoo.train_segmentation import Recipe, evaluate, train_segmenter

NAME = "shapes-segmenter"
GOAL_MIOU = 0.85
TOLERANCE = 0.03


def _quiet(_msg: str) -> None:
    pass


def test_iou_from_pixel_counts():
    import numpy as np
    true = np.array([[0, 0, 1, 1], [0, 0, 2, 2]])
    pred = np.array([[0, 0, 1, 2], [0, 0, 2, 2]])
    scores = data.iou_scores(data.confusion(pred, true, 4), ["bg", "a", "b", "c"])
    assert scores["per_class_iou"] == {"bg": 1.0, "a": 0.5, "b": round(2 / 3, 4)}  # c absent
    assert scores["miou"] == pytest.approx((1 + 0.5 + 2 / 3) / 3, abs=1e-4)
    assert scores["pixel_accuracy"] == 0.875


def test_dihedral_moves_labels_with_pixels():
    import numpy as np
    images, labels = data.split("val", 4)
    aug_i, aug_l = data.dihedral(images, labels, np.random.default_rng(0))
    for i in range(4):
        matches = [(np.array_equal(t(images[i]), aug_i[i]), np.array_equal(t(labels[i]), aug_l[i]))
                   for k in range(4) for t in (lambda a, k=k: np.rot90(a, k),
                                               lambda a, k=k: np.rot90(a, k)[:, ::-1])]
        assert (True, True) in matches


def test_card_and_weights():
    e = ZOO[NAME]
    c = e.card()
    assert e.task == "segment" and e.labels == ["background", *SHAPE_CLASSES]
    assert c["labels"] == e.labels and tuple(c["input_size"]) == e.input_size
    assert tuple(c["mean"]) == e.mean and tuple(c["std"]) == e.std
    assert c["finished"] and c["steps"] == c["planned_steps"]
    assert c["metrics"]["val_miou"] >= GOAL_MIOU
    assert set(c["per_class_iou"]["val"]) == set(e.labels)
    assert c["train_seconds"] > 0 and c["train_command"] == f"workbench train {NAME}"
    assert c["params"] == sum(p.numel() for p in e.build().parameters())
    assert e.weights_path().stat().st_size <= 20_000_000
    json.dumps(c)


def test_val_subset_reproduces_the_card():
    e = ZOO[NAME]
    c = e.card()
    n = c["check"]["count"]
    scores = evaluate(catalogue.load(NAME), e, *data.split("val", n))
    assert scores["miou"] == pytest.approx(c["check"]["miou"], abs=0.005)
    assert scores["miou"] >= c["metrics"]["val_miou"] - TOLERANCE
    assert scores["pixel_accuracy"] >= 0.97


def test_encoder_starts_from_the_shapes_classifier():
    classifier = load_file(str(ZOO["shapes-cnn"].weights_path()))
    enc = encoder_state(classifier)
    assert enc and set(enc) <= set(ShapesUNet().state_dict())


def test_training_is_seeded_and_writes_weights_and_card(tmp_path):
    recipe = Recipe(steps=2, pool=4, warmup=1, eval_every=2, val_scenes=4, test_scenes=4, check_scenes=2)
    cards = [train_segmenter(tmp_path / d, recipe=recipe, log=_quiet) for d in ("a", "b")]
    first, second = (load_file(str(tmp_path / d / f"{NAME}.safetensors")) for d in ("a", "b"))
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert cards[0]["metrics"] == cards[1]["metrics"]
    assert cards[0]["finished"] and "test_miou" in cards[0]["metrics"]
    assert json.loads((tmp_path / "a" / f"{NAME}.json").read_text())["steps"] == 2
