"""scikit-learn's bundled 8x8 handwritten digits, upsampled to 32x32, with a fixed split.

The 1,797 images ship inside scikit-learn, so nothing is downloaded. The split is
stratified by class and the same on every machine (70 / 15 / 15, seed ``SPLIT_SEED``).
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

DIGIT_CLASSES: tuple[str, ...] = tuple(str(i) for i in range(10))
SIZE = 32
SPLIT_SEED = 0
SPLITS = ("train", "val", "test")
FRACTIONS = (0.70, 0.15, 0.15)


def upsample(images8: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(N, 8, 8) values 0-16 -> (N, size, size) uint8 0-255, bilinear."""
    x = np.asarray(images8, dtype=np.float32) * (255.0 / 16.0)
    out = [cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in x]
    return np.clip(np.round(np.stack(out)), 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    d = load_digits()
    images = upsample(d.images)
    labels = d.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@lru_cache(maxsize=1)
def split_indices() -> dict[str, np.ndarray]:
    """Indices into the full 1,797-image set for each split, stratified per class."""
    _, labels = _raw()
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_train = int(round(FRACTIONS[0] * len(idx)))
        n_val = int(round(FRACTIONS[1] * len(idx)))
        parts["train"].append(idx[:n_train])
        parts["val"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
    out = {}
    for s in SPLITS:
        idx = np.sort(np.concatenate(parts[s]))
        idx.flags.writeable = False
        out[s] = idx
    return out


def load_split(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32) uint8 grayscale, labels (N,) int64) of one split."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    images, labels = _raw()
    idx = split_indices()[split]
    return images[idx].copy(), labels[idx].copy()


def to_rgb(image: np.ndarray, size: int = 128) -> np.ndarray:
    """A 32x32 grayscale digit as RGB uint8 (size x size), nearest-neighbour so that an
    area resize back to 32x32 gives the original pixels."""
    big = cv2.resize(np.asarray(image, np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    return np.repeat(big[..., None], 3, axis=2)


def find_class(digit: int, split: str = "test", nth: int = 0) -> int:
    """Index within ``split`` of the ``nth`` image of class ``digit``."""
    _, labels = load_split(split)
    hits = np.flatnonzero(labels == int(digit))
    if not 0 <= nth < len(hits):
        raise IndexError(f"split {split!r} has {len(hits)} images of digit {digit}")
    return int(hits[nth])


def digit_image(index_or_class: int | str, split: str = "test", size: int = 128) -> np.ndarray:
    """A sample digit as RGB uint8 HxWx3, white on black.

    An int is an index into ``split``; a string ("7" or "digit-7") is the first image of that
    class in ``split``.
    """
    images, _ = load_split(split)
    if isinstance(index_or_class, str):
        index = find_class(int(index_or_class.rsplit("-", 1)[-1]), split)
    else:
        index = int(index_or_class)
        if not -len(images) <= index < len(images):
            raise IndexError(f"split {split!r} has {len(images)} images, no index {index}")
    return to_rgb(images[index], size)
