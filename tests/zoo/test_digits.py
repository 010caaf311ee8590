import cv2
import numpy as np
import pytest

from workbench.zoo import digits
from workbench.zoo.digits import SPLITS, digit_image, find_class, load_split, split_indices


def test_splits_are_disjoint_and_cover_everything():
    idx = split_indices()
    all_idx = np.concatenate([idx[s] for s in SPLITS])
    assert len(all_idx) == 1797 and len(np.unique(all_idx)) == 1797
    assert [len(idx[s]) for s in SPLITS] == [1258, 269, 270]


def test_splits_are_stratified():
    _, train = load_split("train")
    totals = np.bincount(np.concatenate([load_split(s)[1] for s in SPLITS]), minlength=10)
    for split, frac in zip(SPLITS, digits.FRACTIONS):
        counts = np.bincount(load_split(split)[1], minlength=10)
        assert np.all(np.abs(counts - frac * totals) <= 1.0), (split, counts)
    assert len(train) == 1258


def test_split_is_deterministic():
    digits.split_indices.cache_clear()
    digits._raw.cache_clear()
    a = {s: v.copy() for s, v in split_indices().items()}
    digits.split_indices.cache_clear()
    for s in SPLITS:
        np.testing.assert_array_equal(a[s], split_indices()[s])


def test_images_are_upsampled_uint8():
    images, labels = load_split("test")
    assert images.shape == (270, 32, 32) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and set(labels) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    from sklearn.datasets import load_digits
    raw = load_digits().images[split_indices()["test"][0]]
    small = cv2.resize(images[0].astype(np.float32), (8, 8), interpolation=cv2.INTER_AREA)
    assert np.corrcoef(small.ravel(), raw.ravel())[0, 1] > 0.95


def test_load_split_returns_copies():
    a, _ = load_split("val")
    a[:] = 0
    assert load_split("val")[0].max() > 0
    with pytest.raises(ValueError):
        load_split("nope")


def test_digit_image_is_white_on_black_rgb():
    images, labels = load_split("test")
    im = digit_image(5)
    assert im.shape == (128, 128, 3) and im.dtype == np.uint8
    assert (im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all()
    assert im[0, 0, 0] == 0 and im.max() > 200
    back = cv2.resize(im, (32, 32), interpolation=cv2.INTER_AREA)[..., 0]
    np.testing.assert_array_equal(back, images[5])


def test_digit_image_by_class():
    _, labels = load_split("test")
    for d in range(10):
        i = find_class(d)
        assert labels[i] == d
        np.testing.assert_array_equal(digit_image(str(d)), digit_image(i))
    np.testing.assert_array_equal(digit_image("digit-3", split="train"),
                                  digit_image(find_class(3, "train"), split="train"))
    assert digit_image(0, size=64).shape == (64, 64, 3)
    with pytest.raises(IndexError):
        digit_image(10_000)
