"""What the canvas shows, as plain data: an image and overlay layers.

The canvas draws these with pyqtgraph; figure export draws the same objects with QPainter,
so what is exported is what is on screen. Which of these functions draws a result is the
renderer registry's business (``workbench.core.renderers.layers_for``).
"""
from __future__ import annotations

import colorsys
import itertools
from dataclasses import dataclass, field, replace

import numpy as np

from workbench.core import colormaps
from workbench.core.results.base import Detections, Heatmap, Points2D, SegMask
from workbench.core.results.roi import RoiPooling

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
    # share (0..1) by which the image under the map is washed out toward the map's neutral colour,
    # so a saturated image does not read as attribution; None: DIM_SIGNED for signed maps, else 0
    dim_image: float | None = None
    colorbar_label: str = ""
    kind = "heatmap"

    def __post_init__(self) -> None:
        if self.dim_image is None:
            self.dim_image = DIM_SIGNED if self.signed else 0.0
        if not 0.0 <= float(self.dim_image) <= 1.0:
            raise ValueError(f"dim_image must be between 0 and 1, not {self.dim_image}")
        self.dim_image = float(self.dim_image)

    def wash_color(self) -> tuple[int, int, int]:
        """What the image is dimmed toward: the colour of 0 for a signed map, of the low end otherwise."""
        lut = colormaps.lut(self.colormap)
        lo, hi = float(self.levels[0]), float(self.levels[1])
        at = 0.0 if self.signed and lo < 0 < hi else lo
        i = int(round(255 * (at - lo) / (hi - lo))) if hi > lo else 0
        return tuple(int(c) for c in lut[min(255, max(0, i))][:3])

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
    scores: list[float] = field(default_factory=list)   # label priority (highest on top); none: list order
    dashed: bool = False                                # e.g. candidates before NMS, drawn as context
    # when the colours encode a value (proposals by objectness): its colormap and range, for a colorbar
    colormap: str = ""
    levels: tuple[float, float] = (0.0, 1.0)
    show_colorbar: bool = False
    colorbar_label: str = ""
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
class SegmentationLayer(Layer):
    """A class map (H, W) of class ids in image pixels, drawn in class colours.

    Classes in ``hidden`` are clear; background (class 0) starts hidden so the image shows.
    """
    mask: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.int64))
    label_names: list[str] = field(default_factory=list)
    hidden: set[int] = field(default_factory=lambda: {0})
    opacity: float = 0.5
    kind = "segmentation"

    def class_name(self, c: int) -> str:
        return _label(self.label_names, c)

    def fractions(self) -> dict[int, float]:
        """Share of the pixels of each class present, by class id (ascending)."""
        counts = np.bincount(np.asarray(self.mask, np.int64).ravel())
        return {int(c): float(counts[c]) / max(1, self.mask.size) for c in np.flatnonzero(counts)}

    def legend(self) -> list[tuple[int, str, tuple[int, int, int], float]]:
        """(class id, name, colour, pixel fraction) of each shown class present."""
        return [(c, self.class_name(c), class_color(c), f) for c, f in self.fractions().items()
                if c not in self.hidden]

    def rgba(self) -> np.ndarray:
        """(H, W, 4) uint8 overlay: class colour at ``opacity``, hidden classes clear."""
        mask = np.asarray(self.mask, np.int64)
        n = int(mask.max()) + 1 if mask.size else 1
        lut = np.zeros((n, 4), np.uint8)
        for c in range(n):
            lut[c, :3] = class_color(c)
            lut[c, 3] = 0 if c in self.hidden else int(round(255 * self.opacity))
        return lut[mask]


@dataclass
class PointsLayer(Layer):
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # x, y image px
    colors: list[tuple[int, int, int]] = field(default_factory=list)
    size: float = 6.0
    kind = "points"


@dataclass
class LinesLayer(Layer):
    """Line segments (N, 2, 2), each [[x0, y0], [x1, y1]] in image pixels (e.g. a skeleton)."""
    segments: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 2), np.float32))
    colors: list[tuple[int, int, int]] = field(default_factory=list)  # one RGB per segment
    line_width: float = 2.0
    kind = "lines"


DIM_SIGNED = 0.5      # a diverging map dims the image under it by default

PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255)]
BACKGROUND_COLOR = (96, 96, 96)


def class_color(c: int) -> tuple[int, int, int]:
    """The colour of segmentation class ``c``: as a detector's label ``c`` in PALETTE, then
    golden-ratio hues past it; class 0 (background) is grey."""
    if c == 0:
        return BACKGROUND_COLOR
    if c < len(PALETTE):
        return PALETTE[c]
    r, g, b = colorsys.hsv_to_rgb((c * 0.618034) % 1.0, 0.75, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def heatmap_layers(result: Heatmap) -> list[Layer]:
    return [HeatmapLayer.auto(result.title or result.method, result.heatmap, signed=result.signed)]


def with_value_range(layer: HeatmapLayer, values: np.ndarray) -> HeatmapLayer:
    """``layer`` coloured over the range of ``values`` (symmetric about 0 when signed)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return layer
    if layer.signed:
        m = float(np.abs(v).max())
        levels = (-m, m) if m > 0 else layer.levels
    else:
        lo, hi = float(v.min()), float(v.max())
        levels = (lo, hi) if hi > lo else layer.levels
    return replace(layer, levels=levels)


def token_map_layers(result: Heatmap) -> list[Layer]:
    """A map over a transformer's token grid, laid over the image and coloured over the grid's own
    values: around a centre crop the map is 0 where the model saw nothing, and those zeros would
    otherwise take the bottom of the colour range and flatten it."""
    layers = heatmap_layers(result)
    if result.attribution is None:
        return layers
    return [with_value_range(l, result.attribution) for l in layers]


def detection_layers(result: Detections) -> list[Layer]:
    """Every box of ``result``, unfiltered (the renderer shows detect results through the
    Detection panel's default options instead: ``core.detection.view.default_layers``)."""
    name = result.title or result.method
    colors = [PALETTE[int(l) % len(PALETTE)] for l in result.labels]
    texts = [f"{_label(result.label_names, l)} {s:.2f}" for l, s in zip(result.labels, result.scores)]
    out: list[Layer] = []
    if result.masks is not None and len(result.masks):
        out.append(MaskLayer(name=f"{name} masks", masks=np.asarray(result.masks), colors=colors))
    out.append(BoxesLayer(name=f"{name} boxes", boxes=np.asarray(result.boxes), texts=texts, colors=colors,
                          scores=[float(s) for s in result.scores]))
    out.extend(keypoint_layers(result))
    return out


def segmentation_layers(result: SegMask) -> list[Layer]:
    return [SegmentationLayer(name=result.title or result.method, mask=np.asarray(result.mask),
                              label_names=list(result.label_names))]


def points_layers(result: Points2D) -> list[Layer]:
    return [PointsLayer(name=result.title or result.method, points=np.asarray(result.points))]


ROI_BOX_COLOR = (255, 255, 255)
ROI_BIN_COLOR = (0, 200, 255)
ROI_POINT_COLOR = (255, 225, 25)


def roi_layers(result: RoiPooling) -> list[Layer]:
    """The pooled box, its bins as thin boxes and the sample points (or pooled cells) as dots."""
    text = f"{result.label_name} {result.score:.2f}"
    return [BoxesLayer(name="ROI bins", boxes=np.asarray(result.bins), colors=[ROI_BIN_COLOR], line_width=1.0),
            BoxesLayer(name="ROI box", boxes=np.asarray(result.box).reshape(1, 4), texts=[text],
                       colors=[ROI_BOX_COLOR], line_width=2.0),
            PointsLayer(name="ROI samples", points=np.asarray(result.points), colors=[ROI_POINT_COLOR], size=4.0)]


def keypoint_layers(result: Detections, rows: np.ndarray | None = None,
                    colors: list[tuple[int, int, int]] | None = None) -> list[Layer]:
    """The visible keypoints of the detections ``rows`` (default all) as dots and their skeletons
    as lines, in ``colors`` (default each box's class colour)."""
    if result.keypoints is None or not len(result.keypoints):
        return []
    name = result.title or result.method
    rows = np.arange(len(result.keypoints)) if rows is None else np.asarray(rows, np.int64)
    kps = np.asarray(result.keypoints, np.float32).reshape(len(result.keypoints), -1, 3)[rows]
    if colors is None:
        colors = [PALETTE[int(l) % len(PALETTE)] for l in np.asarray(result.labels)[rows]]
    points, point_colors, segments, segment_colors = [], [], [], []
    for person, color in zip(kps, colors):
        seen = person[:, 2] > 0
        points.extend(person[seen, :2])
        point_colors.extend([color] * int(seen.sum()))
        for a, b in result.skeleton:
            if a < len(person) and b < len(person) and seen[a] and seen[b]:
                segments.append(person[[a, b], :2])
                segment_colors.append(color)
    return [LinesLayer(name=f"{name} skeleton", segments=np.asarray(segments, np.float32).reshape(-1, 2, 2),
                       colors=segment_colors),
            PointsLayer(name=f"{name} keypoints", points=np.asarray(points, np.float32).reshape(-1, 2),
                        colors=point_colors, size=5.0)]


def _label(names: list[str], index: int) -> str:
    return names[int(index)] if 0 <= int(index) < len(names) else str(int(index))
