"""ImageGrid tiles as RGB images and their near-square layout, shared by the grid view and export.

Qt-free: the grid view shows the montage array, export paints the same tile images.
"""
from __future__ import annotations

import math

import numpy as np

from workbench.core import colormaps
from workbench.core.results import ImageGrid

SCALAR_DEFAULT = "gray"


def grid_shape(n: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) for n tiles: near square unless columns is given."""
    if n <= 0:
        return (0, 0)
    cols = max(1, min(int(columns) if columns else math.ceil(math.sqrt(n)), n))
    return (math.ceil(n / cols), cols)


def _rgb(tiles: np.ndarray) -> bool:
    return tiles.ndim == 4 and tiles.shape[-1] in (3, 4)


def is_signed(grid: ImageGrid) -> bool:
    tiles = np.asarray(grid.tiles)
    return (not _rgb(tiles)) and tiles.size > 0 and bool(np.nanmin(tiles) < 0)


def tile_images(grid: ImageGrid, colormap: str | None = None, shared: bool = False) -> list[np.ndarray]:
    """One (h, w, 3) uint8 image per tile.

    RGB tiles (values in [0, 1], or uint8) are shown as they are. Scalar tiles are coloured with
    ``colormap`` (default: a diverging map for signed data, grey otherwise), each normalised to
    its own range, or to the range of all tiles when ``shared``. Signed data is normalised
    symmetrically about zero so that zero keeps one colour.
    """
    tiles = np.asarray(grid.tiles)
    if len(tiles) == 0:
        return []
    if _rgb(tiles):
        if tiles.dtype == np.uint8:
            return [np.ascontiguousarray(t[..., :3]) for t in tiles]
        return [np.round(np.clip(np.nan_to_num(t[..., :3]), 0, 1) * 255).astype(np.uint8) for t in tiles]
    tiles = tiles[..., 0] if tiles.ndim == 4 else tiles
    name = tile_colormap(grid, colormap)
    return [colormaps.apply(t, name, lv) for t, lv in zip(tiles, scalar_levels(grid, shared))]


def tile_colormap(grid: ImageGrid, colormap: str | None = None) -> str:
    """The colormap scalar tiles are drawn with: ``colormap``, else diverging if signed, else grey."""
    return colormap or (colormaps.SIGNED_DEFAULT if is_signed(grid) else SCALAR_DEFAULT)


def scalar_levels(grid: ImageGrid, shared: bool = False) -> list[tuple[float, float]]:
    """Each scalar tile's colour range (all the same when ``shared``); empty for RGB tiles."""
    tiles = np.asarray(grid.tiles)
    if len(tiles) == 0 or _rgb(tiles):
        return []
    tiles = tiles[..., 0] if tiles.ndim == 4 else tiles
    signed = is_signed(grid)
    if shared:
        return [tile_levels(tiles, signed)] * len(tiles)
    return [tile_levels(t, signed) for t in tiles]


def sweep_labels(titles: list[str], rows: int, cols: int) -> tuple[list[str], list[str]] | None:
    """(column labels, row labels) when the tile titles describe a 2-D sweep laid out in this
    grid: every title is "A, B" with A the same down each column and B the same along each row
    (a latent manifold: "x +1.00, y -0.50"). Such a grid is labelled at its edges instead of per
    tile. None for any other titles."""
    if rows < 2 or cols < 2 or len(titles) != rows * cols:
        return None
    parts = [t.split(", ") for t in titles]
    if any(len(p) != 2 or not all(p) for p in parts):
        return None
    columns = [parts[c][0] for c in range(cols)]
    row_names = [parts[r * cols][1] for r in range(rows)]
    for i, (a, b) in enumerate(parts):
        r, c = divmod(i, cols)
        if a != columns[c] or b != row_names[r]:
            return None
    if len(set(columns)) < cols or len(set(row_names)) < rows:
        return None
    return columns, row_names


def tile_levels(values: np.ndarray, signed: bool) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (0.0, 1.0)
    if signed:
        m = float(np.abs(finite).max())
        return (-m, m) if m > 0 else (-1.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def upscale_factor(tile_hw: tuple[int, int], min_side: int = 32) -> int:
    """Integer factor that makes small tiles (3x3 kernels) at least ``min_side`` pixels."""
    return max(1, math.ceil(min_side / max(1, max(tile_hw))))


def montage(images: list[np.ndarray], columns: int | None = None, gap: int = 2,
            background: tuple[int, int, int] = (64, 64, 64),
            min_side: int = 32) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Tiles in a grid with ``gap`` pixels between them, upscaled (nearest) so small tiles stay
    visible next to thin gaps. Returns the montage and each tile's (x, y, w, h) in it."""
    if not images:
        return np.zeros((1, 1, 3), np.uint8), []
    rows, cols = grid_shape(len(images), columns)
    h, w = images[0].shape[:2]
    f = upscale_factor((h, w), min_side)
    th, tw = h * f, w * f
    out = np.empty((rows * th + (rows - 1) * gap, cols * tw + (cols - 1) * gap, 3), np.uint8)
    out[:] = background
    rects = []
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        x, y = c * (tw + gap), r * (th + gap)
        out[y:y + th, x:x + tw] = np.repeat(np.repeat(img[:h, :w], f, axis=0), f, axis=1)
        rects.append((x, y, tw, th))
    return out, rects


def tile_at(rects: list[tuple[int, int, int, int]], x: float, y: float) -> int | None:
    """Index of the tile containing point (x, y), or None in a gap or outside."""
    for i, (rx, ry, rw, rh) in enumerate(rects):
        if rx <= x < rx + rw and ry <= y < ry + rh:
            return i
    return None
