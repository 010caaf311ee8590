"""Crops of scikit-image's bundled photographs, labelled by the photograph they come from.

The photographs ship inside scikit-image (``skimage/data``), so nothing is downloaded. Grey
photographs are repeated over the three channels. Each photograph is cut into two regions by
columns: the left ``1 - TEST_FRACTION`` for training, the rest for testing; a crop lies wholly
inside one region, so no pixel of a test crop is ever in a training crop or a training patch.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

# class name -> file in skimage/data
TEXTURE_SOURCES: dict[str, str] = {
    "astronaut": "astronaut.png", "brick": "brick.png", "chelsea": "chelsea.png",
    "coffee": "coffee.png", "coins": "coins.png", "grass": "grass.png", "gravel": "gravel.png",
    "hubble": "hubble_deep_field.jpg", "moon": "moon.png", "rocket": "rocket.jpg",
}
TEXTURE_CLASSES: tuple[str, ...] = tuple(TEXTURE_SOURCES)
CROP = 64
TEST_FRACTION = 0.25
TEST_SEED = 7
TEST_PER_CLASS = 40


def data_dir() -> Path:
    import skimage.data
    return Path(skimage.data.__file__).resolve().parent


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """The photograph of class ``name`` as (H, W, 3) uint8 RGB (read-only)."""
    from PIL import Image
    if name not in TEXTURE_SOURCES:
        raise KeyError(f"no texture class {name!r}; classes: {', '.join(TEXTURE_CLASSES)}")
    path = data_dir() / TEXTURE_SOURCES[name]
    if not path.is_file():
        raise FileNotFoundError(f"scikit-image's bundled photograph {path} is missing")
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    rgb.flags.writeable = False
    return rgb


def region(name: str, split: str) -> np.ndarray:
    """The training (left) or test (right) columns of a photograph, (H, w, 3) uint8."""
    im = photo(name)
    cut = int(round(im.shape[1] * (1 - TEST_FRACTION)))
    if split == "train":
        return im[:, :cut]
    if split == "test":
        return im[:, cut:]
    raise ValueError(f"split is 'train' or 'test', got {split!r}")


def random_crops(labels: np.ndarray, rng: np.random.Generator, split: str = "train",
                 size: int = CROP) -> np.ndarray:
    """One uniformly placed ``size`` x ``size`` crop of the ``split`` region per label."""
    out = np.empty((len(labels), size, size, 3), dtype=np.uint8)
    for i, c in enumerate(labels):
        im = region(TEXTURE_CLASSES[c], split)
        y = rng.integers(im.shape[0] - size + 1)
        x = rng.integers(im.shape[1] - size + 1)
        out[i] = im[y:y + size, x:x + size]
    return out


def test_split(per_class: int = TEST_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """The fixed test crops (seeded placements in each test region) and their labels; the
    first ``n`` per class are the same whatever ``per_class`` is."""
    labels = np.repeat(np.arange(len(TEXTURE_CLASSES)), per_class)
    images = np.concatenate([
        random_crops(labels[labels == c], np.random.default_rng([TEST_SEED, c]), "test")
        for c in range(len(TEXTURE_CLASSES))])
    return images, labels


def random_patches(n_per_class: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(n_per_class * classes, size, size, 3) uint8 patches from the training regions only."""
    labels = np.repeat(np.arange(len(TEXTURE_CLASSES)), n_per_class)
    return random_crops(labels, rng, "train", size)
