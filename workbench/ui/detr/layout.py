"""Where the DETR tab puts things: every query's box and the selected map side by side (each
titled on two lines, the map's colorbar to its right) and, optionally, a strip beneath with the
map once per head."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF

TITLE_LINES = 2.6       # two lines of title above each panel, in font heights
LABEL_LINES = 1.4       # the head numbers above the strip's tiles
TILE_GAP = 3.0


@dataclass(frozen=True)
class DetrLayout:
    size: tuple[float, float]
    titles: list[QRectF]        # above the queries panel, and above the map panel and its bar
    panels: list[QRectF]        # [queries, map]
    bar: QRectF                 # the map's colorbar
    tiles: list[QRectF]         # the heads strip (empty when hidden)
    tile_labels: list[QRectF]
    font_px: float

    def tile_at(self, x: float, y: float) -> int | None:
        return next((i for i, r in enumerate(self.tiles) if r.contains(x, y)), None)


def detr_layout(image_wh: tuple[int, int], available: tuple[float, float], font_px: float, bar_w: float,
                heads: int = 0) -> DetrLayout:
    """The largest panels that fit ``available`` with their titles, the colorbar and ``heads``
    tiles (0: no strip) spanning both panels' width beneath them."""
    iw, ih = image_wh
    gap = round(font_px)
    title_h = round(font_px * TITLE_LINES)
    label_h = round(font_px * LABEL_LINES) if heads else 0
    width_room = available[0] - 3.5 * gap - bar_w - gap
    k_wide = width_room / (2 * iw)
    height_room = available[1] - 2 * gap - title_h
    if heads:
        # tile height = (2 iw k + gap - (heads - 1) TILE_GAP) / heads * ih / iw
        fixed = gap + label_h + (gap - (heads - 1) * TILE_GAP) / heads * ih / iw
        k_tall = (height_room - fixed) / (ih * (1 + 2 / heads))
    else:
        k_tall = height_room / ih
    k = max(1e-3, min(k_wide, k_tall))
    pw, ph = iw * k, ih * k
    top = gap + title_h
    panels = [QRectF(gap, top, pw, ph), QRectF(2 * gap + pw, top, pw, ph)]
    bar = QRectF(panels[1].right() + gap / 2, top, bar_w, ph)
    titles = [QRectF(panels[0].left(), gap, pw, title_h), QRectF(panels[1].left(), gap, bar.right() - panels[1].left(),
                                                                 title_h)]   # the map's title may run over its bar
    tiles, labels = [], []
    bottom = panels[0].bottom()
    if heads:
        span = panels[1].right() - panels[0].left()
        tw = max(1.0, (span - (heads - 1) * TILE_GAP) / heads)
        th = tw * ih / iw
        y = bottom + gap + label_h
        for h in range(heads):
            x = panels[0].left() + h * (tw + TILE_GAP)
            tiles.append(QRectF(x, y, tw, th))
            labels.append(QRectF(x, y - label_h, tw, label_h))
        bottom = y + th
    size = (bar.right() + gap, bottom + gap)
    return DetrLayout(size, titles, panels, bar, tiles, labels, font_px)
