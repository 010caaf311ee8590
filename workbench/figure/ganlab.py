"""The GAN lab as a figure: D's surface with the real and generated points and G's gradient
arrows, its colorbar and the readout, over the D and G loss curves.

Both plots fill their axes: the surface spans the lab's view exactly (the axes' ranges are the
view's bounds), and the loss axes run from step 0 to the last step. The layout is computed at
scale 1 and painted through a scaled painter, so a PNG at scale 2 is twice as wide as at scale
1, with the same picture. The panel and a headless run draw the same figure from a Snapshot.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from workbench.core import colormaps
from workbench.core.ganlab.snapshot import Snapshot
from workbench.figure.colorbar import colorbar_width, format_value, paint_colorbar
from workbench.figure.paint import to_qimage
from workbench.figure.render import check_format, ensure_gui_app, write_figure

COLORMAP = "coolwarm"
SURFACE_OPACITY = 0.75
REAL_COLOR, FAKE_COLOR, ARROW_COLOR = (0, 150, 60), (110, 40, 170), (40, 40, 40)
D_LOSS_COLOR, G_LOSS_COLOR = (200, 60, 40), FAKE_COLOR
ARROW_FRACTION = 0.06       # the longest gradient arrow, as a share of the view's width

FONT_PX = 11.0
PLOT_SIDE = 420.0           # the lab plot's axes, at scale 1
LOSS_HEIGHT = 150.0
MARGIN = 12.0
POINT_RADIUS = 1.6


@dataclass(frozen=True)
class LabLayout:
    size: tuple[float, float]
    title: QRectF
    plot: QRectF            # the lab plot's axes
    colorbar: QRectF
    readout: QRectF
    loss_title: QRectF
    loss: QRectF            # the loss plot's axes


def _font(px: float, family: str = "") -> QFont:
    font = QFont(family) if family else QFont()
    if family:
        font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setPixelSize(max(6, round(px)))
    return font


def axis_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Round values from ``lo`` to ``hi`` inclusive, at most about ``max_ticks`` of them."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, max_ticks - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(v / step) * step for v in np.arange(first, hi + 1e-9 * step, step)]


def loss_range(snap: Snapshot) -> tuple[tuple[float, float], tuple[float, float]]:
    """The loss axes' x range (step 0 to the last step) and y range (the curves, 4% padded)."""
    values = np.concatenate([snap.d_loss, snap.g_loss])
    values = values[np.isfinite(values)]
    x1 = float(max(snap.step, snap.loss_steps[-1] if len(snap.loss_steps) else 0, 1))
    if not len(values):
        return (0.0, x1), (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    pad = 0.04 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
    return (0.0, x1), (lo - pad, hi + pad)


def lab_layout(snap: Snapshot, readout: str) -> LabLayout:
    fm = QFontMetricsF(_font(FONT_PX))
    line = fm.height()
    (_, _), (ly0, ly1) = loss_range(snap)
    x0, x1, y0, y1 = snap.bounds
    labels = [format_value(v) for v in axis_ticks(y0, y1) + axis_ticks(ly0, ly1)]
    y_labels = max(fm.horizontalAdvance(t) for t in labels) + 0.8 * line
    left = MARGIN + y_labels
    title = QRectF(left, MARGIN, PLOT_SIDE, 1.6 * line)
    plot = QRectF(left, title.bottom(), PLOT_SIDE, PLOT_SIDE)
    bar = QRectF(plot.right() + MARGIN, plot.top(), colorbar_width(snap.surface_levels, FONT_PX), plot.height())
    text = QFontMetricsF(_font(FONT_PX, "monospace")).boundingRect(QRectF(0, 0, 1000, 1000), 0, readout)
    readout_rect = QRectF(bar.right() + MARGIN, plot.top(), text.width() + 4, max(text.height(), plot.height()))
    loss_title = QRectF(left, plot.bottom() + 1.8 * line, bar.right() - left, 1.6 * line)
    loss = QRectF(left, loss_title.bottom(), bar.right() - left, LOSS_HEIGHT)     # under the plot and its bar
    width = readout_rect.right() + MARGIN
    height = loss.bottom() + 2.8 * line + MARGIN
    return LabLayout((width, height), title, plot, bar, readout_rect, loss_title, loss)


def surface_rgba(snap: Snapshot) -> np.ndarray:
    """The surface coloured as on screen (over white at the panel's opacity), top row = max y."""
    rgb = colormaps.apply(snap.surface[::-1], COLORMAP, snap.surface_levels).astype(np.float64)
    return np.round(SURFACE_OPACITY * rgb + (1 - SURFACE_OPACITY) * 255).astype(np.uint8)


def _to_rect(rect: QRectF, xr: tuple[float, float], yr: tuple[float, float], xy: np.ndarray) -> np.ndarray:
    """Data coordinates -> painter coordinates inside ``rect`` (y up)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    px = rect.left() + (xy[:, 0] - xr[0]) / (xr[1] - xr[0]) * rect.width()
    py = rect.bottom() - (xy[:, 1] - yr[0]) / (yr[1] - yr[0]) * rect.height()
    return np.stack([px, py], 1)


def _paint_axes(painter: QPainter, rect: QRectF, xr: tuple[float, float], yr: tuple[float, float],
                x_label: str = "") -> None:
    font = _font(FONT_PX)
    fm = QFontMetricsF(font)
    tick = 0.35 * fm.height()
    painter.setFont(font)
    painter.setPen(QPen(QColor(0, 0, 0), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    for v in axis_ticks(*xr):
        x = rect.left() + (v - xr[0]) / (xr[1] - xr[0]) * rect.width()
        painter.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + tick))
        painter.drawText(QRectF(x - 40, rect.bottom() + tick, 80, fm.height()),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), format_value(v))
    for v in axis_ticks(*yr):
        y = rect.bottom() - (v - yr[0]) / (yr[1] - yr[0]) * rect.height()
        painter.drawLine(QPointF(rect.left() - tick, y), QPointF(rect.left(), y))
        painter.drawText(QRectF(0, y - fm.height() / 2, rect.left() - 1.5 * tick, fm.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), format_value(v))
    if x_label:
        painter.drawText(QRectF(rect.left(), rect.bottom() + tick + fm.height(), rect.width(), fm.height() * 1.2),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), x_label)


def _paint_key(painter: QPainter, rect: QRectF, entries: list[tuple[str, tuple[int, int, int]]],
               marker: str) -> None:
    """A row of coloured markers ("dot" or "line") with labels, left to right from rect's left."""
    font = _font(FONT_PX)
    fm = QFontMetricsF(font)
    painter.setFont(font)
    x, mid = rect.left(), rect.center().y()
    for label, color in entries:
        painter.setPen(QPen(QColor(*color), 2.0))
        painter.setBrush(QColor(*color))
        if marker == "dot":
            painter.drawEllipse(QPointF(x + 4, mid), 3.0, 3.0)
        else:
            painter.drawLine(QPointF(x, mid), QPointF(x + 14, mid))
        painter.setPen(QColor(0, 0, 0))
        w = fm.horizontalAdvance(label)
        painter.drawText(QRectF(x + 18, rect.top(), w + 2, rect.height()), int(Qt.AlignmentFlag.AlignVCenter), label)
        x += 18 + w + 14


def _paint_points(painter: QPainter, pts: np.ndarray, color: tuple[int, int, int], alpha: int) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(*color, alpha)))
    for x, y in pts:
        painter.drawEllipse(QPointF(x, y), POINT_RADIUS, POINT_RADIUS)


def paint_lab(painter: QPainter, fig: LabLayout, snap: Snapshot, readout: str = "") -> None:
    x0, x1, y0, y1 = snap.bounds
    xr, yr = (x0, x1), (y0, y1)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setFont(_font(FONT_PX * 1.1))
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(fig.title, int(Qt.AlignmentFlag.AlignCenter), f"surface: {snap.surface_label}")
    painter.save()
    painter.setClipRect(fig.plot)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(fig.plot, to_qimage(surface_rgba(snap)))
    arrows = _to_rect(fig.plot, xr, yr, snap.arrow_segments(ARROW_FRACTION * (x1 - x0)))
    painter.setPen(QPen(QColor(*ARROW_COLOR, 160), 1.0))
    painter.drawLines([QPointF(*a) for a in arrows])
    _paint_points(painter, _to_rect(fig.plot, xr, yr, snap.real), REAL_COLOR, 200)
    _paint_points(painter, _to_rect(fig.plot, xr, yr, snap.fake), FAKE_COLOR, 220)
    key = QRectF(fig.plot.left() + 6, fig.plot.top() + 6, 150, 1.5 * FONT_PX)
    painter.fillRect(key.adjusted(-3, -2, 3, 2), QColor(255, 255, 255, 200))
    _paint_key(painter, key, [("real", REAL_COLOR), ("generated", FAKE_COLOR)], "dot")
    painter.restore()
    _paint_axes(painter, fig.plot, xr, yr)
    paint_colorbar(painter, fig.colorbar, COLORMAP, snap.surface_levels, FONT_PX)
    if readout:
        painter.setFont(_font(FONT_PX, "monospace"))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(fig.readout, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), readout)

    lxr, lyr = loss_range(snap)
    _paint_key(painter, fig.loss_title, [("D loss", D_LOSS_COLOR), ("G loss", G_LOSS_COLOR)], "line")
    painter.save()
    painter.setClipRect(fig.loss)
    for values, color in ((snap.d_loss, D_LOSS_COLOR), (snap.g_loss, G_LOSS_COLOR)):
        if len(values) > 1:
            pts = _to_rect(fig.loss, lxr, lyr, np.stack([snap.loss_steps, values], 1))
            painter.setPen(QPen(QColor(*color), 1.5))
            painter.drawPolyline([QPointF(*p) for p in pts])
        elif len(values) == 1:
            _paint_points(painter, _to_rect(fig.loss, lxr, lyr, [[snap.loss_steps[0], values[0]]]), color, 255)
    painter.restore()
    _paint_axes(painter, fig.loss, lxr, lyr, "step")


def export_lab(snap: Snapshot, path: str | Path, scale: float = 2.0, readout: str = "") -> Path:
    """The lab at ``snap`` (with the text ``readout`` beside the plot) as .png (``scale`` x), .svg or .pdf."""
    s = float(scale) if check_format(path) == ".png" else 1.0
    if not s > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    ensure_gui_app()
    fig = lab_layout(snap, readout)

    def paint(painter: QPainter) -> None:
        painter.scale(s, s)
        paint_lab(painter, fig, snap, readout)

    return write_figure(path, (fig.size[0] * s, fig.size[1] * s), paint, "GAN lab")
