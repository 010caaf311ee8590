"""Where a vision transformer's patches lie over the image and which patch a point falls in."""
from __future__ import annotations

from typing import Any

from workbench.core.geometry import Geometry

def seen_box(geometry: Geometry | None, image_hw: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in image pixels of what the model sees: the patches cover it."""
    if geometry is None:
        return 0.0, 0.0, float(image_hw[1]), float(image_hw[0])
    return geometry.crop_box(image_hw)


def patch_at(x: float, y: float, grid_hw: tuple[int, int], image_hw: tuple[int, int],
             geometry: Geometry | None) -> tuple[int, int] | None:
    """(row, column) of the patch under image point (x, y); None outside what the model sees."""
    x0, y0, x1, y1 = seen_box(geometry, image_hw)
    if not (x0 <= x < x1 and y0 <= y < y1):
        return None
    gh, gw = grid_hw
    col = min(gw - 1, int((x - x0) / (x1 - x0) * gw))
    row = min(gh - 1, int((y - y0) / (y1 - y0) * gh))
    return row, col


def patch_box(row: int, col: int, grid_hw: tuple[int, int], image_hw: tuple[int, int],
              geometry: Geometry | None) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in image pixels of one patch."""
    x0, y0, x1, y1 = seen_box(geometry, image_hw)
    gh, gw = grid_hw
    pw, ph = (x1 - x0) / gw, (y1 - y0) / gh
    return x0 + col * pw, y0 + row * ph, x0 + (col + 1) * pw, y0 + (row + 1) * ph


def centre_patch(grid_hw: tuple[int, int]) -> int:
    """The index of the middle patch, row by row (as the positional-similarity method's "centre")."""
    gh, gw = grid_hw
    return (gh // 2) * gw + gw // 2
