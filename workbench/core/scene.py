"""What the canvas shows, as plain data: an image and overlay layers.

The canvas draws these with pyqtgraph; figure export draws the same objects with QPainter,
so what is exported is what is on screen. ``layers_for(result)`` is the one place that knows
how each Result type is shown.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from workbench.core import colormaps
from workbench.core.results import Detections, Heatmap, Points2D, Result, SegMask

_ids = itertools.count(1)


@dataclass
class Layer:
    name: str
    visible: bool = True
    opacity: float = 1.0
    id: int = field(default_factory=lambda: next(_ids))
    kind = "layer"


@dataclass
class ImageLayer(Layer):
    image: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 3), np.uint8))  # RGB uint8
    kind = "image"


@dataclass
class HeatmapLayer(Layer):
    data: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.float32))  # image pixels
    colormap: str = colormaps.UNSIGNED_DEFAULT
    levels: tuple[float, float] = (0.0, 1.0)
    signed: bool = False
    show_colorbar: bool = True
    opacity: float = 0.6
    kind = "heatmap"

    @classmethod
    def auto(cls, name: str, data: np.ndarray, signed: bool | None = None, clip_percentile: float = 100.0,
             **kw) -> "HeatmapLayer":
        """A layer with colormap and levels chosen for the data (symmetric about 0 if signed)."""
        data = np.asarray(data, np.float32)
        finite = data[np.isfinite(data)]
        signed = bool(finite.size and finite.min() < 0) if signed is None else signed
        if signed:
            m = float(np.percentile(np.abs(finite), clip_percentile)) if finite.size else 1.0
            levels = (-m, m) if m > 0 else (-1.0, 1.0)
        else:
            lo = float(finite.min()) if finite.size else 0.0
            hi = float(np.percentile(finite, clip_percentile)) if finite.size else 1.0
            levels = (lo, hi) if hi > lo else (lo, lo + 1.0)
        cmap = colormaps.SIGNED_DEFAULT if signed else colormaps.UNSIGNED_DEFAULT
        return cls(name=name, data=data, colormap=kw.pop("colormap", cmap), levels=levels, signed=signed, **kw)


@dataclass
class BoxesLayer(Layer):
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # xyxy image px
    texts: list[str] = field(default_factory=list)
    colors: list[tuple[int, int, int]] = field(default_factory=list)  # one RGB per box
    line_width: float = 2.0
    kind = "boxes"


@dataclass
class MaskLayer(Layer):
    masks: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), bool))  # (N, H, W)
    colors: list[tuple[int, int, int]] = field(default_factory=list)
    opacity: float = 0.5
    kind = "masks"

    def rgba(self) -> np.ndarray:
        """(H, W, 4) uint8 overlay, later masks drawn over earlier ones."""
        n, h, w = self.masks.shape
        out = np.zeros((h, w, 4), np.uint8)
        for i in range(n):
            m = self.masks[i] > 0.5 if self.masks.dtype != bool else self.masks[i]
            out[m, :3] = self.colors[i % len(self.colors)] if self.colors else PALETTE[i % len(PALETTE)]
            out[m, 3] = int(round(255 * self.opacity))
        return out


@dataclass
class PointsLayer(Layer):
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # x, y image px
    colors: list[tuple[int, int, int]] = field(default_factory=list)
    size: float = 6.0
    kind = "points"


PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255)]


def layers_for(result: Result) -> list[Layer]:
    """The overlay layers that show a result over its image (empty for grid-like results)."""
    name = result.title or result.method
    if isinstance(result, Heatmap):
        return [HeatmapLayer.auto(name, result.heatmap, signed=result.signed)]
    if isinstance(result, Detections):
        colors = [PALETTE[int(l) % len(PALETTE)] for l in result.labels]
        texts = [f"{_label(result.label_names, l)} {s:.2f}" for l, s in zip(result.labels, result.scores)]
        out: list[Layer] = []
        if result.masks is not None and len(result.masks):
            out.append(MaskLayer(name=f"{name} masks", masks=np.asarray(result.masks), colors=colors))
        out.append(BoxesLayer(name=f"{name} boxes", boxes=np.asarray(result.boxes), texts=texts, colors=colors))
        return out
    if isinstance(result, SegMask):
        classes = [c for c in np.unique(result.mask) if c != 0]
        masks = np.stack([result.mask == c for c in classes]) if classes else np.zeros((0, *result.mask.shape), bool)
        return [MaskLayer(name=name, masks=masks, colors=[PALETTE[int(c) % len(PALETTE)] for c in classes])]
    if isinstance(result, Points2D):
        return [PointsLayer(name=name, points=np.asarray(result.points))]
    return []


def _label(names: list[str], index: int) -> str:
    return names[int(index)] if 0 <= int(index) < len(names) else str(int(index))
