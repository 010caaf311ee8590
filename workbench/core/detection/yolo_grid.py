"""How a YOLO grid is drawn: the S x S cells over the image, one class's probability per cell as
a map, the cells responsible for the final detections outlined, the boxes before NMS dashed and
the detections after it; the figure adds a panel per box slot with its confidence per cell."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.canvas_layers import PALETTE, BoxesLayer, HeatmapLayer, Layer

GRID_COLOR = (255, 255, 255)
MAX_PRE_NMS_DRAWN = 60
PROBABILITY_LEVELS = (0.0, 1.0)


def object_color(label: int) -> tuple[int, int, int]:
    return PALETTE[int(label) % len(PALETTE)]


def cell_map(values: np.ndarray, cells: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) image-pixel map, each cell's rectangle filled with its value from (S, S)
    ``values``; outside the grid 0."""
    h, w = image_hw
    s_h, s_w = values.shape
    x0, y0 = cells[0, 0], cells[0, 1]
    x1, y1 = cells[-1, 2], cells[-1, 3]
    cols = np.floor((np.arange(w) + 0.5 - x0) / max(x1 - x0, 1e-6) * s_w).astype(int)
    rows = np.floor((np.arange(h) + 0.5 - y0) / max(y1 - y0, 1e-6) * s_h).astype(int)
    inside = (rows[:, None] >= 0) & (rows[:, None] < s_h) & (cols[None] >= 0) & (cols[None] < s_w)
    out = values[rows.clip(0, s_h - 1)][:, cols.clip(0, s_w - 1)]
    return np.where(inside, out, 0.0).astype(np.float32)


def grid_lines(result: Any) -> BoxesLayer:
    return BoxesLayer(name="grid cells", boxes=np.asarray(result.cells, np.float32), colors=[GRID_COLOR],
                      line_width=1.0, opacity=0.5)


def class_map(result: Any) -> HeatmapLayer:
    return HeatmapLayer(name=f"P({result.target_label} | object) per cell", data=result.heatmap,
                        colormap="viridis", levels=PROBABILITY_LEVELS, opacity=0.5,
                        colorbar_label=f"P({result.target_label} | object)")


def responsible_cells(result: Any) -> list[Layer]:
    """Each detection's cell, outlined in its class colour and named by row, column and slot."""
    if not len(result.boxes):
        return []
    # one outline per cell, in the colour of its best detection (detections are best first)
    first = {}
    for i, cell in enumerate(result.detection_cells):
        first.setdefault(int(cell), i)
    picked = list(first.values())
    texts = [f"cell {r},{c} box {int(result.detection_slots[i])}"
             for i, (r, c) in zip(picked, (result.cell_of(i) for i in picked))]
    return [BoxesLayer(name="responsible cells", boxes=np.asarray(result.cells[list(first)], np.float32),
                       texts=texts, colors=[object_color(result.labels[i]) for i in picked], line_width=3.0,
                       scores=[float(result.scores[i]) for i in picked])]


def before_nms(result: Any, limit: int = MAX_PRE_NMS_DRAWN) -> list[Layer]:
    pre = result.pre_nms()
    n = min(limit, len(pre["boxes"]))
    if not n:
        return []
    texts = [f"{result.label_name(int(l))} {s:.2f}" for l, s in zip(pre["labels"][:n], pre["scores"][:n])]
    return [BoxesLayer(name=f"before NMS ({len(pre['boxes'])} above {result.score_threshold:g})",
                       boxes=pre["boxes"][:n], texts=texts, colors=[object_color(l) for l in pre["labels"][:n]],
                       scores=[float(s) for s in pre["scores"][:n]], dashed=True, line_width=1.5, opacity=0.85)]


def after_nms(result: Any) -> list[Layer]:
    if not len(result.boxes):
        return []
    texts = [f"{result.label_name(int(l))} {s:.2f}" for l, s in zip(result.labels, result.scores)]
    return [BoxesLayer(name="after NMS", boxes=np.asarray(result.boxes, np.float32), texts=texts,
                       colors=[object_color(l) for l in result.labels], scores=[float(s) for s in result.scores])]


def yolo_layers(result: Any) -> list[Layer]:
    """On the canvas: the class map, the grid, the responsible cells and the final boxes."""
    return [class_map(result), grid_lines(result)] + responsible_cells(result) + after_nms(result)


def confidence_map(result: Any, slot: int) -> HeatmapLayer:
    values = result.confidences[:, :, slot]
    return HeatmapLayer(name=f"box {slot} confidence", colormap="magma", levels=PROBABILITY_LEVELS,
                        data=cell_map(values, result.cells, result.image_hw), opacity=0.6,
                        colorbar_label="confidence")


def slot_texts(result: Any, slot: int, at_least: float = 0.1) -> list[Layer]:
    """Each cell's confidence for box ``slot`` written in the cell, where it is at least ``at_least``."""
    conf = result.confidences[:, :, slot].reshape(-1)
    keep = np.flatnonzero(conf >= at_least)
    if not len(keep):
        return []
    return [BoxesLayer(name=f"box {slot} confidences", boxes=np.asarray(result.cells[keep], np.float32),
                       texts=[f"{conf[k]:.2f}" for k in keep], colors=[GRID_COLOR], line_width=0.5,
                       scores=[float(conf[k]) for k in keep])]


def yolo_panels(result: Any) -> list[tuple[str, str, list[Layer]]]:
    """(title, subtitle, layers) per panel of the figure: the class map with the responsible
    cells, each box slot's confidence per cell, the candidates before NMS, the detections after."""
    s_h, s_w = result.grid_hw
    grid = grid_lines(result)
    pre = result.pre_nms()
    panels = [(f"P({result.target_label} | object)", f"{s_h}x{s_w} cells, responsible cells outlined",
               [class_map(result), grid] + responsible_cells(result))]
    for slot in range(result.boxes_per_cell):
        panels.append((f"box {slot} confidence", "per cell, before NMS",
                       [confidence_map(result, slot), grid] + slot_texts(result, slot)))
    panels.append(("before NMS", f"{len(pre['boxes'])} boxes with confidence x P(class) > "
                                 f"{result.score_threshold:g}", [grid] + before_nms(result)))
    panels.append(("after NMS", f"{len(result.boxes)} detections, IoU {result.nms_threshold:g} per class",
                   [grid] + after_nms(result)))
    return panels
