"""How SPPNet's pyramid of one region is drawn: each level's bins over the image in its own colour,
the region, and each level's pooled values of one channel filling its bins (torch-free)."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.canvas_layers import (ROI_BOX_COLOR, ROI_POINT_COLOR, BoxesLayer, HeatmapLayer, Layer,
                                          PointsLayer)

LEVEL_COLORS = [(255, 225, 25), (0, 200, 255), (245, 130, 48), (60, 180, 75)]


def level_color(i: int) -> tuple[int, int, int]:
    return LEVEL_COLORS[i % len(LEVEL_COLORS)]


def pyramid_layers(result: Any) -> list[Layer]:
    """Every level's bins (coarsest widest, drawn last), the proposal box and the pooled cells' centres."""
    bins, levels = np.asarray(result.bins, np.float32), np.asarray(result.bin_levels)
    layers: list[Layer] = []
    # finest first, thinnest: the coarser levels' wider lines stay visible on top where edges coincide
    for i, n in reversed(list(enumerate(result.levels))):
        rows = levels == n
        layers.append(BoxesLayer(name=f"{n}x{n} bins", boxes=bins[rows], colors=[level_color(i)],
                                 line_width=3.5 - 2.5 * i / max(len(result.levels) - 1, 1)))
    layers.append(BoxesLayer(name="region", boxes=np.asarray(result.box, np.float32).reshape(1, 4),
                             texts=[f"{result.label_name} {result.score:.2f}"], colors=[ROI_BOX_COLOR],
                             line_width=2.0, dashed=True))
    layers.append(PointsLayer(name="feature cells", points=np.asarray(result.points, np.float32),
                              colors=[ROI_POINT_COLOR], size=3.0))
    return layers


def level_map(result: Any, n: int, channel: int) -> np.ndarray:
    """(H, W): channel ``channel``'s pooled value of each n x n bin painted over the bin (0 elsewhere)."""
    h, w = result.grid.image_hw if result.grid is not None else (0, 0)
    out = np.zeros((h, w), np.float32)
    rows = np.asarray(result.bin_levels) == n
    for value, (x0, y0, x1, y1) in zip(np.asarray(result.levels_pooled)[channel, rows], np.asarray(result.bins)[rows]):
        c0, c1 = int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.ceil(x1), 0, w))
        r0, r1 = int(np.clip(np.floor(y0), 0, h)), int(np.clip(np.ceil(y1), 0, h))
        out[r0:r1, c0:c1] = value
    return out


def pyramid_panels(result: Any) -> list[tuple[str, str, list[Layer]]]:
    """(title, subtitle, layers) per figure panel: the bins, then each level's pooled values of
    the strongest channel."""
    levels = "+".join(f"{n}x{n}" for n in result.levels)
    x0, y0, x1, y1 = np.asarray(result.window).tolist()
    panels = [("SPP bins", f"{levels} on cells x {x0}-{x1}, y {y0}-{y1} (stride {result.stride})",
               pyramid_layers(result))]
    if not len(result.channels):
        return panels
    channel = int(result.channels[0])
    values = np.asarray(result.levels_pooled)[channel]
    top = float(values.max()) if values.size and values.max() > 0 else 1.0
    for i, n in enumerate(result.levels):
        rows = np.asarray(result.bin_levels) == n
        heat = HeatmapLayer(name=f"{n}x{n} pooled", data=level_map(result, n, channel), levels=(0.0, top),
                            opacity=0.7, colorbar_label=f"channel {channel}")
        outline = BoxesLayer(name=f"{n}x{n} bins", boxes=np.asarray(result.bins, np.float32)[rows],
                             colors=[level_color(i)], line_width=1.0)
        panels.append((f"{n}x{n} max-pooled", f"channel {channel}, strongest", [heat, outline]))
    return panels
