"""A caption figure as in Show, Attend and Tell: the image under its generated caption, and a
strip of every word's attention map over the image, each titled by its word."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from workbench.core.canvas_layers import ImageLayer
from workbench.core.renderers import layers_for
from workbench.figure import text
from workbench.figure.paint import paint_layers
from workbench.figure.render import (TextBlock, check_format, ensure_gui_app, export_overlay, paint_lines,
                                     pixel_scale, title_block, write_figure)

TILE_SHARE = 0.3        # a word's tile is this share of the main image's side
MAX_COLUMNS = 8         # words per row of the strip


def export_caption(result: Any, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    image = image if image is not None else result.image
    if image is None or not len(result.words):
        return export_overlay(result, image, path, scale)
    check_format(path)
    ensure_gui_app()
    image = np.asarray(image)
    h, w = image.shape[:2]
    s = pixel_scale(scale, max(w, h))
    pw, ph = round(w * s), round(h * s)
    unit = max(1.0, max(pw, ph) / 600)
    gap = round(10 * unit)
    n = len(result.words)
    cols = min(n, MAX_COLUMNS)
    rows = -(-n // cols)
    tw = max(48.0, pw * TILE_SHARE)
    th = tw * h / w
    strip_w = cols * tw + (cols - 1) * gap
    width = max(pw, strip_w) + 2 * gap
    title = title_block(f"“{result.caption}”", width - 2 * gap, unit * 1.4)
    title_h = title.height + gap
    # two lines under each tile, the word over its probability, in the largest font all fit
    pairs = [(word, f"p {p:.2f}") for word, p in zip(result.words, result.probs)]
    font, _ = text.fit([t for pair in pairs for t in pair], tw, 13 * unit, 7 * unit, max_lines=1)
    blocks = [TextBlock(font, pair) for pair in pairs]
    label_h = blocks[0].height + 0.3 * blocks[0].line_height
    main = QRectF((width - pw) / 2, gap + title_h, pw, ph)
    strip_top = main.bottom() + 2 * gap
    height = strip_top + rows * (label_h + th + gap)
    base = ImageLayer(name="image", image=image)

    def paint(painter: QPainter) -> None:
        painter.setPen(QColor(0, 0, 0))
        paint_lines(painter, QRectF(gap, gap, width - 2 * gap, title.height), title,
                    Qt.AlignmentFlag.AlignHCenter)
        paint_layers(painter, main, [base], unit)
        left = (width - strip_w) / 2
        for i in range(n):
            r, c = divmod(i, cols)
            x, y = left + c * (tw + gap), strip_top + r * (label_h + th + gap)
            painter.setPen(QColor(0, 0, 0))
            paint_lines(painter, QRectF(x, y, tw, label_h), blocks[i], Qt.AlignmentFlag.AlignHCenter)
            paint_layers(painter, QRectF(x, y + label_h, tw, th), [base, *layers_for(result.at(i))], unit)

    return write_figure(path, (width, height), paint, f"Caption: {result.caption}")
