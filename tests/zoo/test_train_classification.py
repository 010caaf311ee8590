import json

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from workbench.zoo.catalogue import ZOO
from workbench.zoo.digits import load_split
from workbench.zoo.train_classification import Recipe, flip_rotate, jitter_affine, run_recipe, train_shapes_cnn


def quiet(_msg: str) -> None:
    pass


def small_digits():
    splits = [load_split(s) for s in ("train", "val", "test")]
    return tuple((x[:n], y[:n]) for (x, y), n in zip(splits, (256, 64, 64)))


def test_training_is_reproducible_and_writes_weights_and_card(tmp_path):
    threads = torch.get_num_threads()
    entry = ZOO["digits-cnn"]
    recipe = Recipe(epochs=1, batch_size=64, lr=3e-3, weight_decay=1e-3, threads=1,
                    augment=jitter_affine)
    cards = [run_recipe(entry, tmp_path / d, recipe, data={"subset": True}, load=small_digits,
                        log=quiet) for d in "ab"]
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()
    wa = load_file(str(tmp_path / "a" / "digits-cnn.safetensors"))
    wb = load_file(str(tmp_path / "b" / "digits-cnn.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert cards[0]["metrics"] == cards[1]["metrics"]
    card = json.loads((tmp_path / "a" / "digits-cnn.json").read_text())
    assert card == cards[0] and card["epochs"] == 1 and card["train_seconds"] > 0
    assert card["optimizer"]["augment"] == "jitter_affine" and card["train_threads"] == 1
    model = entry.load(tmp_path / "a")
    assert not model.training
    with safe_open(str(tmp_path / "a" / "digits-cnn.safetensors"), "pt") as f:
        assert f.metadata()["architecture"] == "DigitsCNN"


def test_shapes_training_runs_on_a_small_budget(tmp_path):
    card = train_shapes_cnn(tmp_path, epochs=1, n_train=64, n_eval=16, log=quiet)
    assert card["data"]["splits"]["train"] == {"first_seed": 0, "count": 64}
    assert card["data"]["splits"]["test"] == {"first_seed": 2_000_000, "count": 16}
    assert 0.0 <= card["metrics"]["test_accuracy"] <= 1.0
    assert ZOO["shapes-cnn"].load(tmp_path).fc.out_features == 6


def test_augmentations_keep_shape_and_are_seeded():
    batch = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    a = flip_rotate(batch, np.random.default_rng(1))
    np.testing.assert_array_equal(a, flip_rotate(batch, np.random.default_rng(1)))
    assert a.shape == batch.shape
    np.testing.assert_array_equal(np.sort(a.reshape(8, -1), 1), np.sort(batch.reshape(8, -1), 1))
    gray = batch[..., 0][:, :32, :32]
    b = jitter_affine(gray, np.random.default_rng(2))
    assert b.shape == gray.shape and b.dtype == np.uint8
    np.testing.assert_array_equal(b, jitter_affine(gray, np.random.default_rng(2)))
