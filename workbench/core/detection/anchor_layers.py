"""How the anchors at a location are drawn: each level in its own colour, matched anchors solid and
labelled with their ground-truth box, ignored ones dashed, background ones dashed and faint; the
best-scoring anchors' predicted boxes with an arrow from each anchor's centre to its prediction's."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.canvas_layers import BoxesLayer, Layer, LinesLayer, PointsLayer
from workbench.core.results.anchors import IGNORED

# hues apart from the shapes' own (red, green, blue, yellow, magenta, cyan, orange, white)
LEVEL_COLORS = [(255, 105, 180), (255, 165, 60), (175, 135, 255), (150, 240, 90), (100, 200, 255),
                (255, 140, 120), (200, 200, 200)]
PREDICTION_COLOR = (255, 225, 25)
GROUND_TRUTH_COLOR = (255, 255, 255)
LOCATION_COLOR = (255, 255, 255)
ARROW_HEAD = 0.04          # arrowhead length, as a share of the image's longer side
ARROW_ANGLE = np.deg2rad(28)


def level_color(level: int) -> tuple[int, int, int]:
    return LEVEL_COLORS[int(level) % len(LEVEL_COLORS)]


def anchor_layers(result: Any) -> list[Layer]:
    """Bottom to top: ground truth, predicted boxes, each level's anchors (matched ones' labels over
    the predictions'), the arrows, the centres and the location."""
    boxes, arrows = prediction_layers(result)
    out: list[Layer] = ground_truth_layers(result) + boxes
    for k in result.levels:
        out += level_layers(result, k)
    return out + arrows + centre_layers(result)


def centre_layers(result: Any) -> list[Layer]:
    """The clicked location, and where each level centres its anchors there (torchvision's
    AnchorGenerator: the cell's top-left corner; SSD: its middle)."""
    levels = result.levels
    centres = [_centre(result.anchors[np.flatnonzero(result.level == k)[0]]) for k in levels]
    return [PointsLayer(name="anchor centres", points=np.asarray(centres, np.float32).reshape(-1, 2),
                        colors=[level_color(k) for k in levels], size=6.0),
            PointsLayer(name="location", points=np.asarray(result.location, np.float32).reshape(1, 2),
                        colors=[LOCATION_COLOR], size=8.0)]


def ground_truth_layers(result: Any) -> list[Layer]:
    if not result.has_ground_truth:
        return []
    texts = [f"GT{i} {name}" for i, name in enumerate(result.gt_names)]
    return [BoxesLayer(name="ground truth", boxes=np.asarray(result.gt_boxes, np.float32), texts=texts,
                       colors=[GROUND_TRUTH_COLOR] * len(texts), dashed=True, line_width=1.5)]


def level_layers(result: Any, level: int) -> list[Layer]:
    """Level ``level``'s anchors at the location: background, ignored, then matched (on top)."""
    color = level_color(level)
    name = f"level {level} (stride {result.stride(level)})"
    rows = result.level == level
    groups = [("background anchors", rows & (result.gt_index < 0) & (result.gt_index != IGNORED), 1.0, 0.6),
              ("ignored anchors", rows & (result.gt_index == IGNORED), 1.5, 0.9)]
    out: list[Layer] = []
    for what, keep, width, opacity in groups:
        if keep.any():
            out.append(BoxesLayer(name=f"{name} {what}", boxes=result.anchors[keep], colors=[color] * int(keep.sum()),
                                  dashed=True, line_width=width, opacity=opacity))
    hits = np.flatnonzero(rows & result.matched)
    if len(hits):
        # below the foreground IoU, a match is the ground-truth box's best anchor (a low-quality match)
        texts = [f"GT{result.gt_index[i]} {result.iou[i]:.2f}" + (" best" if result.iou[i] < result.fg_iou else "")
                 for i in hits]
        out.append(BoxesLayer(name=f"{name} matched anchors", boxes=result.anchors[hits], colors=[color] * len(hits),
                              texts=texts, scores=[float(result.iou[i]) for i in hits], line_width=2.5))
    return out


def prediction_layers(result: Any) -> tuple[list[Layer], list[Layer]]:
    """([the shown anchors' predicted boxes], [an arrow from each anchor's centre to its box's])."""
    shown = np.asarray(result.shown, np.int64)
    if not len(shown):
        return [], []
    texts = [_score_text(result, i) for i in shown]
    colors = [level_color(result.level[i]) for i in shown]
    segments, segment_colors = [], []
    head = ARROW_HEAD * max(result.image_hw)
    for i, color in zip(shown, colors):
        arrow = arrow_segments(_centre(result.anchors[i]), _centre(result.decoded[i]), head)
        segments += arrow
        segment_colors += [color] * len(arrow)
    boxes = BoxesLayer(name="predicted boxes", boxes=result.decoded[shown], texts=texts,
                       colors=[PREDICTION_COLOR] * len(shown), scores=[float(result.score[i]) for i in shown],
                       line_width=1.5)
    arrows = LinesLayer(name="anchor → prediction", segments=np.asarray(segments, np.float32).reshape(-1, 2, 2),
                        colors=segment_colors, line_width=2.0)
    return [boxes], [arrows]


def _score_text(result: Any, i: int) -> str:
    """An RPN's objectness alone; a detector's best class and its probability."""
    score = f"{result.score[i]:.2f}"
    return score if result.family == "rpn" else f"{result.label_name(int(result.label[i]))} {score}"


def arrow_segments(start: np.ndarray, end: np.ndarray, head: float) -> list[np.ndarray]:
    """A shaft from ``start`` to ``end`` and two barbs at ``end`` (none for a zero-length arrow)."""
    d = np.asarray(end, np.float64) - np.asarray(start, np.float64)
    length = float(np.hypot(*d))
    shaft = np.stack([start, end]).astype(np.float32)
    if length < 1e-6:
        return []
    head = min(head, 0.4 * length)
    back = -d / length * head
    barbs = []
    for a in (ARROW_ANGLE, -ARROW_ANGLE):
        c, s = np.cos(a), np.sin(a)
        tip = np.asarray(end) + np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]])
        barbs.append(np.stack([end, tip]).astype(np.float32))
    return [shaft, *barbs]


def _centre(box: np.ndarray) -> np.ndarray:
    b = np.asarray(box, np.float64)
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])


def anchor_legend(result: Any) -> list[tuple[list[tuple[int, int, int]], str, str]]:
    """(colours, text, swatch) per line of a figure's key, swatch "line", "dashed" or "dots": each
    level shown, then what the dots, line styles and yellow boxes mean."""
    rows = []
    for k in result.levels:
        here = result.level == k
        sizes = ", ".join(f"{s:.0f}" for s in sorted(set(np.round(result.size[here], 1).tolist())))
        ratios = ", ".join(f"{r:.2g}" for r in sorted(set(np.round(result.ratio[here], 3).tolist())))
        gh, gw = result.level_grids[k]
        rows.append(([level_color(k)], f"level {k}: stride {result.stride(k)}, {gh}x{gw} cells, sizes {sizes} px, "
                                       f"ratios (h/w) {ratios}", "line"))
    rows.append(([LOCATION_COLOR] + [level_color(k) for k in result.levels],
                 "the clicked location (white) and where each level centres its anchors", "dots"))
    if result.has_ground_truth:
        rows.append(([(0, 0, 0)], f"solid: matched to a ground-truth box (IoU ≥ {result.fg_iou:g}; \"best\": the "
                                  f"box's best anchor); dashed: ignored, faint: background (IoU < {result.bg_iou:g})",
                     "dashed"))
    if len(result.shown):
        rows.append(([PREDICTION_COLOR], "predicted box of the best-scoring anchors (the box coder's decoding of "
                                         "the head's deltas), arrow from anchor centre", "line"))
    return rows
