"""A vertical colorbar with ticks and min/max labels, painted with QPainter.

The canvas's colorbar widget and figure export both call ``paint_colorbar``, so the bar on
screen and the bar in a file are drawn by the same code. Every label of one bar is written in
one number format (``bar_format``), and interior ticks that would touch the end labels or each
other are left out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from workbench.core import colormaps

_BAR = 1.1      # bar width, in font heights
_TICK = 0.35    # tick length, in font heights
_GAP = 0.3      # space between tick and label, in font heights
_STEPS = (1, 2, 5, 10)   # round tick steps per decade (no 2.5: fewer ticks never need more decimals)
_LABEL_SPACING = 1.5     # label centres at least this many label heights apart
_END_ERROR = 0.005       # end labels are rounded to within this share of the range
_SCI_BELOW, _SCI_FROM = 1e-3, 1e4   # magnitudes outside [_SCI_BELOW, _SCI_FROM) get an exponent


def format_value(v: float) -> str:
    """A single number on its own (axis ticks elsewhere); a colorbar formats with ``bar_format``."""
    if v == 0 or abs(v) < 1e-12:
        return "0"
    return f"{v:.4g}"


@dataclass(frozen=True)
class NumberFormat:
    """Fixed-point with ``decimals``, after dividing by 10**exponent when ``exponent`` is not 0
    (written as a shared suffix, e.g. ``2.5e-5``)."""
    decimals: int
    exponent: int = 0

    def __call__(self, value: float) -> str:
        mantissa = round(float(value) / 10.0 ** self.exponent, self.decimals) + 0.0   # no "-0.0"
        text = f"{mantissa:.{self.decimals}f}"
        return f"{text}e{self.exponent}" if self.exponent else text


def _decimals(x: float, limit: int = 8) -> int:
    """Fewest decimals that write ``x`` exactly (to float noise)."""
    for d in range(limit + 1):
        if abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)):
            return d
    return limit


def nice_step(lo: float, hi: float, max_ticks: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most ``max_ticks`` ticks over [lo, hi]."""
    raw = (hi - lo) / max(1, max_ticks - 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in _STEPS if m * mag >= raw * (1 - 1e-9))


def bar_format(levels: tuple[float, float], step: float) -> NumberFormat:
    """One format for a bar's ticks and ends: enough decimals for the tick step, and for the
    ends to within half a percent of the range; an exponent for very large or small ranges."""
    lo, hi = float(levels[0]), float(levels[1])
    biggest = max(abs(lo), abs(hi))
    if biggest == 0:
        return NumberFormat(0)
    exponent = math.floor(math.log10(biggest)) if not _SCI_BELOW <= biggest < _SCI_FROM else 0
    scale = 10.0 ** exponent
    d = _decimals(step / scale) if step > 0 else 0
    tolerance = _END_ERROR * (hi - lo) / scale if hi > lo else 0.0
    for extra in range(5):
        if all(abs(round(v / scale, d + extra) - v / scale) <= tolerance for v in (lo, hi)):
            return NumberFormat(d + extra, exponent)
    return NumberFormat(d + 4, exponent)


def ticks(levels: tuple[float, float], max_ticks: int = 6, clearance: float = 0.09) -> list[tuple[float, str]]:
    """(value, label) pairs from low to high: both ends plus round values in between, all in one
    format. Interior ticks closer than ``clearance`` (a share of the range) to an end are left out."""
    lo, hi = float(levels[0]), float(levels[1])
    if not hi > lo:
        return [(lo, NumberFormat(_decimals(lo, 3))(lo))]
    span = hi - lo
    step = nice_step(lo, hi, max(2, max_ticks))
    fmt = bar_format((lo, hi), step)
    first = math.ceil(lo / step - 1e-9) * step
    inner = [round(v / step) * step for v in np.arange(first, hi, step)]
    inner = [v for v in inner if lo + clearance * span <= v <= hi - clearance * span]
    return [(lo, fmt(lo))] + [(float(v), fmt(v)) for v in inner] + [(hi, fmt(hi))]


def bar_ticks(levels: tuple[float, float], bar_height: float, label_height: float) -> list[tuple[float, str]]:
    """The ticks a bar ``bar_height`` tall shows with labels ``label_height`` tall: as many round
    values as fit (at most 6), none so close to another or to an end label that they touch."""
    room = bar_height / (_LABEL_SPACING * max(1.0, label_height))
    max_ticks = int(max(2, min(6, math.floor(room) + 1)))
    clearance = min(0.5, _LABEL_SPACING * label_height / max(1.0, bar_height))
    return ticks(levels, max_ticks, clearance)


def colorbar_font(font_px: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    return font


def colorbar_width(levels: tuple[float, float], font_px: float) -> float:
    """Width that bar, ticks and the widest label need at this font size (for any bar height)."""
    fm = QFontMetricsF(colorbar_font(font_px))
    labels = {label for n in range(2, 7) for _, label in ticks(levels, n, 0.0)}
    widest = max(fm.horizontalAdvance(label) for label in labels)
    return font_px * (_BAR + _TICK + _GAP) + widest + 2


def paint_colorbar(painter: QPainter, rect: QRectF, colormap: str, levels: tuple[float, float],
                   font_px: float, text_color: QColor | None = None) -> None:
    """Bar on the left of ``rect`` (high values at the top), ticks and labels to its right.

    The bar is inset vertically by half a label height so the end labels fit inside ``rect``.
    """
    font = colorbar_font(font_px)
    fm = QFontMetricsF(font)
    pad = fm.height() / 2
    bar = QRectF(rect.left(), rect.top() + pad, font_px * _BAR, max(1.0, rect.height() - 2 * pad))
    gradient = np.ascontiguousarray(colormaps.lut(colormap)[::-1].reshape(256, 1, 3))
    img = QImage(gradient.data, 1, 256, 3, QImage.Format.Format_RGB888).copy()
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(bar, img)
    color = text_color or QColor(0, 0, 0)
    pen = QPen(color, max(1.0, font_px / 12))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    painter.setFont(font)
    lo, hi = float(levels[0]), float(levels[1])
    span = hi - lo if hi > lo else 1.0
    tick_x0, tick_x1 = bar.right(), bar.right() + font_px * _TICK
    for value, label in bar_ticks(levels, bar.height(), fm.height()):
        y = bar.bottom() - (value - lo) / span * bar.height()
        painter.drawLine(QPointF(tick_x0, y), QPointF(tick_x1, y))
        text_rect = QRectF(tick_x1 + font_px * _GAP, y - fm.height() / 2, rect.right() - tick_x1, fm.height())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
    painter.restore()
