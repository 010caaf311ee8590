"""Shapes scenes for the bundled semantic segmenter: seeded splits, per-pixel labels, IoU.

The splits are the detectors' (``detection_data.SCENE_SEEDS``), so the same scene seed is
the same picture for every bundled scene model. Pixel label 0 is background and ``k + 1`` is
``SHAPE_CLASSES[k]``: exactly ``Scene.semantic``.
"""
from __future__ import annotations

import numpy as np

from workbench.zoo import detection_data
from workbench.zoo.shapes import SHAPE_CLASSES

SEGMENTATION_LABELS = ["background", *SHAPE_CLASSES]
SCENE_SIZE = detection_data.SCENE_SIZE


def split(name: str, count: int | None = None, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) uint8 images and (N, H, W) uint8 label maps of a split's scenes."""
    scenes = detection_data.scenes(name, count, offset)
    return (np.stack([s.image for s in scenes]),
            np.stack([s.semantic for s in scenes]).astype(np.uint8))


def dihedral(images: np.ndarray, labels: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each (image, label map) pair under one of the 8 flips and quarter turns; every shape
    class is closed under them, so the labels stay right."""
    out_i, out_l = np.empty_like(images), np.empty_like(labels)
    for i, (k, flip) in enumerate(zip(rng.integers(4, size=len(images)),
                                      rng.integers(2, size=len(images)))):
        im, lab = np.rot90(images[i], k), np.rot90(labels[i], k)
        out_i[i], out_l[i] = (im[:, ::-1], lab[:, ::-1]) if flip else (im, lab)
    return out_i, out_l


def confusion(pred: np.ndarray, true: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) pixel counts: row = true class, column = predicted class."""
    idx = true.astype(np.int64).ravel() * num_classes + pred.astype(np.int64).ravel()
    return np.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def iou_scores(conf: np.ndarray, names: list[str]) -> dict:
    """Per-class IoU and their mean over the classes present in truth or prediction;
    also pixel accuracy."""
    tp = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - tp
    per_class = {n: round(float(t / u), 4) for n, t, u in zip(names, tp, union) if u > 0}
    return {"miou": round(float(np.mean(list(per_class.values()))), 4),
            "pixel_accuracy": round(float(tp.sum() / max(1, conf.sum())), 4),
            "per_class_iou": per_class}
