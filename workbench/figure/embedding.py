"""An embedding as a figure: the scatter coloured by label (or prediction), a legend of the categories."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from workbench.core.canvas_layers import PALETTE
from workbench.core.results.embedding import Embedding
from workbench.figure import text
from workbench.figure.render import write_figure

SIDE = 640          # the scatter's square, in figure pixels at scale 1
NO_CATEGORY = (150, 150, 150)


def point_colours(values: np.ndarray) -> np.ndarray:
    """(N, 3) uint8: category ``c`` in the canvas palette, grey where ``c`` is -1 (no label)."""
    table = np.array(PALETTE + [NO_CATEGORY], np.uint8)
    values = np.asarray(values, np.int64)
    return table[np.where(values < 0, len(PALETTE), values % len(PALETTE))]


def export_embedding(result: Embedding, image: np.ndarray | None, path: str | Path, scale: float = 1.0,
                     colour_by: str = "label", selected: int | None = None,
                     lassoed: np.ndarray | None = None) -> Path:
    """The scatter coloured ``colour_by``, point ``selected`` ringed black and the ``lassoed`` points orange."""
    if not len(result):
        raise ValueError("the embedding has no points to draw")
    values, names = result.colour_values(colour_by)
    side, legend_w, title_h = SIDE * scale, 150 * scale, 40 * scale
    size = (side + legend_w, side + title_h)

    def paint(p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(text.font(13 * scale, bold=True))
        p.setPen(QColor(0, 0, 0))
        p.drawText(QRectF(8 * scale, 0, size[0] - 16 * scale, title_h), Qt.AlignmentFlag.AlignVCenter
                   | Qt.AlignmentFlag.AlignLeft, result.title)
        plot = QRectF(10 * scale, title_h, side - 20 * scale, side - 20 * scale)
        p.setPen(QPen(QColor(200, 200, 200), 1 * scale))
        p.drawRect(plot)
        xy = _to_rect(result.points, plot)
        colours = point_colours(values)
        dot = max(2.0, min(7.0, 2400 / np.sqrt(len(xy)) / 20)) * scale
        for c in np.unique(values):
            pen = QPen(QColor(*map(int, colours[values == c][0])), dot)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawPoints([QPointF(x, y) for x, y in xy[values == c]])
        if lassoed is not None and len(lassoed):
            p.setPen(QPen(QColor(255, 140, 0), 1.2 * scale))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for x, y in xy[np.asarray(lassoed, np.int64)]:
                p.drawEllipse(QPointF(x, y), 1.2 * dot, 1.2 * dot)
        if selected is not None:
            p.setPen(QPen(QColor(0, 0, 0), 2 * scale))
            x, y = xy[selected]
            p.drawEllipse(QPointF(x, y), 3 * dot, 3 * dot)
        p.setFont(text.font(12 * scale))
        top = title_h + 10 * scale
        for c in sorted(int(v) for v in np.unique(values)):
            name = names[c] if 0 <= c < len(names) else "none"
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(*map(int, point_colours(np.array([c]))[0])))
            p.drawEllipse(QPointF(side + 10 * scale, top + 8 * scale), 5 * scale, 5 * scale)
            p.setPen(QColor(0, 0, 0))
            p.drawText(QPointF(side + 22 * scale, top + 13 * scale), f"{name} ({int((values == c).sum())})")
            top += 20 * scale

    return write_figure(path, size, paint, title=result.title)


def _to_rect(points: np.ndarray, rect: QRectF) -> np.ndarray:
    """Points scaled into ``rect`` with a margin, equal scale on both axes, y up."""
    pts = np.asarray(points, np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = max(float((hi - lo).max()), 1e-12)
    s = 0.94 * min(rect.width(), rect.height()) / span
    centre = (lo + hi) / 2
    x = rect.center().x() + (pts[:, 0] - centre[0]) * s
    y = rect.center().y() - (pts[:, 1] - centre[1]) * s
    return np.stack([x, y], axis=1)
