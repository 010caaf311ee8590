"""Shapes scenes as captioning data: the detection splits' seeds, token targets, and which
object each word of a caption names.

The caption of a scene (``shapes.make_caption``) names its largest visible object first and
the second largest after the relation; ``mentioned`` gives those two in that order.
"""
from __future__ import annotations

import numpy as np

from workbench.zoo.captioner import MAX_WORDS, encode_caption
from workbench.zoo.detection_data import EVAL_OBJECTS, SCENE_SIZE, split_seeds
from workbench.zoo.shapes import COLOR_NAMES, SHAPE_CLASSES, Scene, render_scene

GRID = 16
CELL = SCENE_SIZE // GRID
# Every split draws one to four shapes, as the detectors' val and test scenes do.
CAPTION_OBJECTS = EVAL_OBJECTS
RELATIONS = ("left", "right", "above", "below")
FLIPPED_WORDS = {1: {"left": "right", "right": "left"}, 0: {"above": "below", "below": "above"}}


def caption_scenes(split: str, count: int | None = None, offset: int = 0) -> list[Scene]:
    return [render_scene(s, SCENE_SIZE, CAPTION_OBJECTS) for s in split_seeds(split, count, offset)]


def mentioned(scene: Scene) -> list[int]:
    """Indices of the objects the caption names, in caption order (largest first)."""
    order = sorted(range(len(scene.labels)), key=lambda i: (-int(scene.masks[i].sum()), i))
    return order[:2]


def cells_touched(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (GRID, GRID) bool: the grid cells holding any pixel of the mask."""
    return mask.reshape(GRID, CELL, GRID, CELL).any(axis=(1, 3))


def word_objects(words: list[str]) -> list[int]:
    """For each word: 0 or 1 when it is the colour or shape of the first or second noun phrase
    of the caption, 1 for the relation word (it says where the second object is), -1 otherwise
    (articles, "of")."""
    out, noun = [], 0
    for w in words:
        if w in SHAPE_CLASSES:
            out.append(noun)
            noun += 1
        else:
            out.append(noun if w in COLOR_NAMES or w in RELATIONS else -1)
    return out


def flip_caption(caption: str, axis: int) -> str:
    """The caption of the scene mirrored along image ``axis`` (1: left-right, 0: up-down)."""
    swap = FLIPPED_WORDS[axis]
    return " ".join(swap.get(w, w) for w in caption.split())


def training_arrays(scenes: list[Scene]) -> dict[str, np.ndarray]:
    """Images (N, 128, 128, 3) uint8, tokens (N, MAX_WORDS + 2) int64, and per word the cells
    of the object it names, (N, MAX_WORDS + 1, GRID, GRID) bool (all False: names none)."""
    n = len(scenes)
    tokens = np.zeros((n, MAX_WORDS + 2), np.int64)
    cells = np.zeros((n, MAX_WORDS + 1, GRID, GRID), bool)
    for k, scene in enumerate(scenes):
        tokens[k] = encode_caption(scene.caption)
        objects = mentioned(scene)
        for t, role in enumerate(word_objects(scene.caption.split())):
            if role >= 0:
                cells[k, t] = cells_touched(scene.masks[objects[role]])
    return {"images": np.stack([s.image for s in scenes]), "tokens": tokens, "cells": cells}


def flip_batch(images: np.ndarray, tokens: np.ndarray, cells: np.ndarray,
               rng: np.random.Generator, vocabulary: tuple[str, ...]):
    """Mirror each scene left-right and/or up-down at random, with the caption's relation
    words swapped to match (the caption's object order depends only on areas)."""
    images, tokens, cells = images.copy(), tokens.copy(), cells.copy()
    index = {w: i for i, w in enumerate(vocabulary)}
    for axis, image_axis in ((1, 2), (0, 1)):
        flip = rng.random(len(images)) < 0.5
        images[flip] = np.flip(images[flip], image_axis)
        cells[flip] = np.flip(cells[flip], image_axis + 1)
        swapped = tokens[flip]
        for a, b in FLIPPED_WORDS[axis].items():
            swapped = np.where(tokens[flip] == index[a], index[b], swapped)
        tokens[flip] = swapped
    return images, tokens, cells
