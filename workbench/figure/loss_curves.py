"""Loss curves per step on a logarithmic axis, painted into a rectangle of a figure: the whole decades
marked with grid lines and labels, the step axis (0, half way, the last step), the curves, and a
legend in one row above the plot, so it never hides a curve."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from workbench.figure import text

FONT_PX = 12.0
AXIS_LABELS_WIDTH = 4.2 * FONT_PX      # the room a figure leaves left of the plot for the decades' labels


@dataclass(frozen=True)
class LossCurve:
    """One curve: its name, its value after each step, its colour, and the value its legend entry
    shows (None: the last finite value of the curve)."""
    name: str
    values: np.ndarray
    colour: tuple[int, int, int]
    shown: float | None = None

    def legend(self) -> str:
        value = self.shown
        if value is None:
            value = next((v for v in self.values[::-1] if np.isfinite(v)), float("nan"))
        return f"{self.name} {value:.3g}"


def decades(values: np.ndarray) -> tuple[float, float]:
    """The whole decades (log10) that hold the positive finite values."""
    v = values[np.isfinite(values) & (values > 0)]
    if not len(v):
        return -1.0, 0.0
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    return float(lo), float(max(hi, lo + 1))


def _path(plot: QRectF, values: np.ndarray, steps: int, logs: tuple[float, float]) -> QPainterPath:
    path, started = QPainterPath(), False
    for i, v in enumerate(values):
        if not (np.isfinite(v) and v > 0):       # no zero on a log axis
            continue
        x = plot.left() + (i + 1) / steps * plot.width()
        y = plot.bottom() - (math.log10(v) - logs[0]) / (logs[1] - logs[0]) * plot.height()
        path.lineTo(x, y) if started else path.moveTo(x, y)
        started = True
    return path


def paint_loss_curves(painter: QPainter, plot: QRectF, curves: list[LossCurve], steps: int,
                      step_label: str = "step") -> None:
    """``curves`` (value i after step i + 1) over ``steps`` steps, in ``plot``, its labels around it."""
    font = text.font(FONT_PX)
    painter.setFont(font)
    steps = max(steps, 1)
    logs = decades(np.concatenate([np.asarray(c.values, np.float64) for c in curves]))
    painter.setPen(QPen(QColor(0, 0, 0), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(plot)
    for k in range(int(logs[0]), int(logs[1]) + 1):
        y = plot.bottom() - (k - logs[0]) / (logs[1] - logs[0]) * plot.height()
        painter.setPen(QPen(QColor(225, 225, 225), 0.8))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QRectF(plot.left() - AXIS_LABELS_WIDTH, y - FONT_PX, 4 * FONT_PX, 2 * FONT_PX),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"1e{k}")
    for x_step in (0, steps // 2, steps):
        x = plot.left() + x_step / steps * plot.width()
        painter.drawText(QRectF(x - 3 * FONT_PX, plot.bottom() + 2, 6 * FONT_PX, 1.5 * FONT_PX),
                         int(Qt.AlignmentFlag.AlignHCenter), str(x_step))
    painter.drawText(QRectF(plot.left(), plot.bottom() + 1.5 * FONT_PX, plot.width(), 1.5 * FONT_PX),
                     int(Qt.AlignmentFlag.AlignHCenter), step_label)
    for curve in curves:
        painter.setPen(QPen(QColor(*curve.colour), 1.6))
        painter.drawPath(_path(plot, np.asarray(curve.values, np.float64), steps, logs))
    entries = [(c.legend(), c.colour) for c in curves]
    fm = QFontMetricsF(font)
    x = plot.right() - sum(fm.horizontalAdvance(t) + 3.2 * FONT_PX for t, _c in entries) + 1.2 * FONT_PX
    y = plot.top() - 0.75 * FONT_PX
    for label, colour in entries:
        painter.setPen(QPen(QColor(*colour), 2.0))
        painter.drawLine(QPointF(x, y), QPointF(x + 1.5 * FONT_PX, y))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QPointF(x + 2 * FONT_PX, y + 0.35 * FONT_PX), label)
        x += fm.horizontalAdvance(label) + 3.2 * FONT_PX
