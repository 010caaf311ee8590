"""Where the Attention tab puts things: one map with its title and colorbar (laid out as a
one-cell comparison figure), or the image beside every layer's heads as a grid of tiles."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF

from workbench.figure.compare import CompareLayout, fit_layout

GAP = 2.0               # between tiles
TITLE_LINES = 1.8       # title band height, in font heights
IMAGE_SHARE = 0.34      # of the width, at most, for the image beside the heads grid


def map_layout(image_wh: tuple[int, int], available: tuple[float, float], font_px: float,
               bar_w: float) -> CompareLayout:
    """One panel as large as fits, its title above and its colorbar to the right."""
    return fit_layout(1, image_wh, available, font_px, bar_w, shared=False)


@dataclass(frozen=True)
class GridLayout:
    size: tuple[float, float]
    title: QRectF
    image: QRectF               # the image, where a click picks the query patch
    image_caption: QRectF       # above the image: which token is the query
    tiles: list[QRectF]         # row by row: a row per layer, a column per head
    columns: list[QRectF]       # head numbers above the columns
    rows: list[QRectF]          # layer numbers left of the rows
    rows_count: int
    columns_count: int
    font_px: float

    def tile_at(self, x: float, y: float) -> int | None:
        """The tile under a point in layout coordinates (gaps belong to no tile)."""
        for i, rect in enumerate(self.tiles):
            if rect.contains(x, y):
                return i
        return None


def grid_layout(image_wh: tuple[int, int], rows: int, columns: int, tile_wh: tuple[int, int],
                available: tuple[float, float], font_px: float) -> GridLayout:
    """The image on the left (at most IMAGE_SHARE of the width), the tiles as large as fit on the right."""
    pad = round(font_px)
    title_h = round(font_px * TITLE_LINES)
    label_w = round(font_px * 2.6)           # "L11"
    header_h = round(font_px * 1.5)          # "H11"
    body_w = max(1.0, available[0] - 3 * pad)
    body_h = max(1.0, available[1] - 2 * pad - title_h - header_h)
    iw, ih = image_wh
    s_img = max(1e-3, min(body_w * IMAGE_SHARE / iw, body_h / ih))
    img_w, img_h = iw * s_img, ih * s_img
    tw, th = tile_wh
    grid_w = body_w - img_w - label_w
    s_tile = max(1e-3, min((grid_w - columns * GAP) / (columns * tw), (body_h - rows * GAP) / (rows * th)))
    tile_w, tile_h = tw * s_tile, th * s_tile
    top = pad + title_h + header_h
    image = QRectF(pad, top, img_w, img_h)
    x0 = image.right() + pad + label_w
    tiles = [QRectF(x0 + c * (tile_w + GAP), top + r * (tile_h + GAP), tile_w, tile_h)
             for r in range(rows) for c in range(columns)]
    column_rects = [QRectF(x0 + c * (tile_w + GAP), top - header_h, tile_w, header_h) for c in range(columns)]
    row_rects = [QRectF(image.right() + pad, top + r * (tile_h + GAP), label_w - GAP, tile_h) for r in range(rows)]
    width = x0 + columns * (tile_w + GAP) + pad
    height = top + max(img_h, rows * (tile_h + GAP)) + pad
    return GridLayout((width, height), QRectF(pad, pad, width - 2 * pad, title_h), image,
                      QRectF(pad, top - header_h, img_w, header_h), tiles, column_rects, row_rects,
                      rows, columns, font_px)
