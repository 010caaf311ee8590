"""Where box labels go so each stays readable: shared by the canvas and figure export.

Labels are placed highest score first: above the box, else inside its top edge, else below
it, moved sideways to stay within the bounds. A label that would cover an already placed
(higher-scoring) label, or one ``taken`` by another layer, or leave the bounds, is dropped.
Units are the caller's: image pixels on the canvas (labels measured on screen and converted),
figure pixels in an export.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

PLACES = ("above", "inside", "below")
_EPS = 1e-6   # labels that only touch along an edge do not overlap


@dataclass(frozen=True)
class Placement:
    index: int      # the box this label belongs to
    x: float        # top-left corner of the label
    y: float
    w: float
    h: float
    where: str      # one of PLACES

    def overlaps(self, x: float, y: float, w: float, h: float) -> bool:
        return (min(self.x + self.w, x + w) - max(self.x, x) > _EPS
                and min(self.y + self.h, y + h) - max(self.y, y) > _EPS)


def priority(count: int, scores: Sequence[float] | np.ndarray | None = None, first: int | None = None) -> np.ndarray:
    """Box indices, most important first: ``first`` (e.g. the selected box), then by score
    (highest first, ties in list order); without scores, in list order."""
    if scores is not None and len(scores) >= count:
        order = np.argsort(-np.asarray(scores, np.float64)[:count], kind="stable")
    else:
        order = np.arange(count)
    if first is not None and 0 <= first < count:
        order = np.concatenate([[first], order[order != first]])
    return order.astype(np.int64)


def place_labels(boxes: np.ndarray, sizes: np.ndarray, scores: Sequence[float] | np.ndarray | None = None,
                 bounds: tuple[float, float] | None = None, first: int | None = None,
                 taken: Sequence[Placement] = ()) -> list[Placement]:
    """Labels for ``boxes`` (N, 4) xyxy, each ``sizes[i]`` = (width, height); a box whose label
    width is 0 has none. ``bounds``: (width, height) that labels must stay within (None: any).
    ``taken``: labels already placed by layers drawn above, avoided like higher-scoring ones.

    Returns the placed labels in drawing order: lowest priority first, so the highest-scoring
    label is drawn last, on top of any box line it crosses.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    sizes = np.asarray(sizes, np.float64).reshape(-1, 2)
    if len(sizes) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(sizes)} label sizes")
    placed: list[Placement] = []
    for i in priority(len(boxes), scores, first):
        w, h = sizes[i]
        if w <= 0 or h <= 0:
            continue
        x0, y0 = min(boxes[i, 0], boxes[i, 2]), min(boxes[i, 1], boxes[i, 3])
        y1 = max(boxes[i, 1], boxes[i, 3])
        if bounds is not None:
            x0 = min(max(x0, 0.0), max(0.0, bounds[0] - w))
        for where, y in zip(PLACES, (y0 - h, y0, y1)):
            if bounds is not None and (y < -_EPS or y + h > bounds[1] + _EPS):
                continue
            if any(p.overlaps(x0, y, w, h) for p in placed) or any(p.overlaps(x0, y, w, h) for p in taken):
                continue
            placed.append(Placement(int(i), float(x0), float(y), float(w), float(h), where))
            break
    return placed[::-1]
