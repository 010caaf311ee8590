"""Shapes scenes for the bundled detectors: seeded splits and torchvision-style targets.

Each split is a disjoint range of ``render_scene`` seeds, so every scene is reproducible from
its split and index. The detectors keep class 0 for background: a scene's label ``k``
(index into ``SHAPE_CLASSES``) becomes ``k + 1`` in targets and predictions.
"""
from __future__ import annotations

import numpy as np
import torch

from workbench.zoo.shapes import SHAPE_CLASSES, Scene, render_scene

SCENE_SIZE = 128
SCENE_SEEDS = {"train": (0, 500_000), "val": (1_000_000, 500), "test": (2_000_000, 500)}
# Training scenes hold up to six shapes (more instances per step); val and test keep the
# generator's default of one to four.
TRAIN_OBJECTS = (1, 6)
EVAL_OBJECTS = (1, 4)
DETECTION_LABELS = ["__background__", *SHAPE_CLASSES]


def split_seeds(split: str, count: int | None = None, offset: int = 0) -> range:
    """The seeds of ``count`` scenes of ``split`` starting at its ``offset``-th scene."""
    first, size = SCENE_SEEDS[split]
    count = size - offset if count is None else count
    if offset < 0 or count < 0 or offset + count > size:
        raise ValueError(f"{split} has {size} scenes; asked for {offset}..{offset + count}")
    return range(first + offset, first + offset + count)


def scenes(split: str, count: int | None = None, offset: int = 0) -> list[Scene]:
    objects = TRAIN_OBJECTS if split == "train" else EVAL_OBJECTS
    return [render_scene(s, SCENE_SIZE, objects) for s in split_seeds(split, count, offset)]


def train_batch_seeds(step: int, batch_size: int) -> range:
    """The training seeds of one step: consecutive, wrapping around the train range."""
    size = SCENE_SEEDS["train"][1]
    offset = (step * batch_size) % size
    return split_seeds("train", min(batch_size, size - offset), offset)


def train_scenes(step: int, batch_size: int) -> list[Scene]:
    return [render_scene(s, SCENE_SIZE, TRAIN_OBJECTS) for s in train_batch_seeds(step, batch_size)]


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 HxWx3 -> float CHW in [0, 1], what torchvision's detectors eat."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)


def to_target(scene: Scene, masks: bool = True) -> dict[str, torch.Tensor]:
    target = {"boxes": torch.from_numpy(scene.boxes.astype(np.float32)).reshape(-1, 4),
              "labels": torch.from_numpy(scene.labels.astype(np.int64)) + 1}
    if masks:
        target["masks"] = torch.from_numpy(scene.masks.astype(np.uint8))
    return target


def as_inputs(batch: list[Scene], masks: bool = True) -> tuple[list[torch.Tensor], list[dict]]:
    return [to_tensor(s.image) for s in batch], [to_target(s, masks) for s in batch]
