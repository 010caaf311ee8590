"""Named scores as a figure: a small table of FID, KID and Inception Score beside reference values.

Columns: the scores of this run, then, for a bundled model, what its card measured (the same
scores for its own samples, and for real training digits, the floor a perfect generator would
reach). A bar chart of how many samples the classifier put in each class sits under the table
when the result has ``class_counts``, so a collapsed generator shows at a glance.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from workbench.figure.render import check_format, ensure_gui_app, write_figure

BASE_WIDTH = 640.0       # figure width at scale 1, in pixels
ROWS = (("fid", "FID ↓"), ("kid", "KID ↓"), ("is", "IS ↑"))
HEADER_ROWS = 1.7        # the header row's height, in table rows (two lines of smaller text)
_BAR = QColor(70, 110, 190)
_RULE = QColor(120, 120, 120)
_HEADER_BG = QColor(235, 238, 245)


@dataclass(frozen=True)
class Column:
    header: str
    detail: str             # a second header line: how many samples, which seed
    values: dict[str, Any]


def format_score(values: dict[str, Any], row: str) -> str:
    """One cell: FID with 3 decimals, KID and IS as mean ± std; an en dash where it is missing."""
    if row == "fid":
        return f"{float(values['fid']):.3f}" if "fid" in values else "–"
    mean, std = values.get(f"{row}_mean"), values.get(f"{row}_std")
    if mean is None:
        return "–"
    digits = 4 if row == "kid" else 2
    text = f"{float(mean):.{digits}f}"
    return f"{text} ± {float(std):.{digits}f}" if std is not None else text


def columns_for(result: Any) -> list[Column]:
    values = dict(result.values)
    n = values.get("n")
    seed = (result.params or {}).get("seed")
    detail = ", ".join(([f"n={n}"] if n is not None else []) + ([f"seed {seed}"] if seed is not None else []))
    references = [Column(r["header"], r.get("detail", ""), r["values"]) for r in getattr(result, "references", [])]
    return [Column("this run", detail, values)] + references


def _font(px: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(px)))
    font.setBold(bold)
    return font


@dataclass(frozen=True)
class ScoresLayout:
    size: tuple[float, float]
    unit: float
    title: QRectF | None
    table: QRectF
    row_h: float
    label_w: float
    counts: QRectF | None
    footer: QRectF | None


def scores_layout(columns: list[Column], title: str, counts: list[int] | None, footer: str,
                  scale: float) -> ScoresLayout:
    unit = max(1.0, float(scale))
    width = BASE_WIDTH * unit
    margin, row_h = 14 * unit, 26 * unit
    label_w = 90 * unit if len(columns) > 1 else 160 * unit
    y = margin
    title_rect = None
    if title:
        title_rect = QRectF(margin, y, width - 2 * margin, 28 * unit)
        y += 28 * unit + 6 * unit
    table = QRectF(margin, y, width - 2 * margin, row_h * (HEADER_ROWS + len(ROWS)))
    y = table.bottom() + 10 * unit
    counts_rect = None
    if counts:
        counts_rect = QRectF(margin, y, width - 2 * margin, 110 * unit)
        y = counts_rect.bottom() + 6 * unit
    footer_rect = None
    if footer:
        footer_rect = QRectF(margin, y, width - 2 * margin, 18 * unit)
        y = footer_rect.bottom()
    return ScoresLayout((width, y + margin), unit, title_rect, table, row_h, label_w, counts_rect, footer_rect)


def paint_scores(painter: QPainter, fig: ScoresLayout, columns: list[Column], title: str,
                 counts: list[int] | None, footer: str) -> None:
    u = fig.unit
    black = QColor(0, 0, 0)
    if fig.title is not None:
        painter.setFont(_font(15 * u, bold=True))
        painter.setPen(black)
        text = QFontMetricsF(painter.font()).elidedText(title, Qt.TextElideMode.ElideRight, fig.title.width())
        painter.drawText(fig.title, int(Qt.AlignmentFlag.AlignCenter), text)

    t = fig.table
    col_w = (t.width() - fig.label_w) / max(1, len(columns))
    header_h = fig.row_h * HEADER_ROWS
    painter.fillRect(QRectF(t.left(), t.top(), t.width(), header_h), _HEADER_BG)
    pad = 6 * u
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    for j, col in enumerate(columns):
        cell = QRectF(t.left() + fig.label_w + j * col_w, t.top(), col_w, header_h / 2).adjusted(pad, 2 * u, -pad, 0)
        painter.setPen(black)
        painter.setFont(_font(12 * u, bold=True))
        fm = QFontMetricsF(painter.font())
        painter.drawText(cell, right, fm.elidedText(col.header, Qt.TextElideMode.ElideRight, cell.width()))
        painter.setPen(QColor(80, 80, 80))
        painter.setFont(_font(11 * u))
        fm = QFontMetricsF(painter.font())
        painter.drawText(cell.translated(0, header_h / 2 - 3 * u), right,
                         fm.elidedText(col.detail, Qt.TextElideMode.ElideRight, cell.width()))
    painter.setPen(black)
    for i, (key, label) in enumerate(ROWS):
        y = t.top() + header_h + i * fig.row_h
        painter.setFont(_font(13 * u, bold=True))
        painter.drawText(QRectF(t.left() + pad, y, fig.label_w - pad, fig.row_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
        for j, col in enumerate(columns):
            painter.setFont(_font(13 * u, bold=(j == 0)))
            cell = QRectF(t.left() + fig.label_w + j * col_w, y, col_w, fig.row_h).adjusted(pad, 0, -pad, 0)
            painter.drawText(cell, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             format_score(col.values, key))
    painter.setPen(QPen(_RULE, max(1.0, u)))
    for y in (t.top(), t.top() + header_h, t.bottom()):
        painter.drawLine(t.left(), y, t.right(), y)

    if fig.counts is not None and counts:
        _paint_counts(painter, fig.counts, counts, u)
    if fig.footer is not None and footer:
        painter.setPen(QColor(80, 80, 80))
        painter.setFont(_font(11 * u))
        painter.drawText(fig.footer, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         QFontMetricsF(painter.font()).elidedText(footer, Qt.TextElideMode.ElideRight,
                                                                  fig.footer.width()))


def _paint_counts(painter: QPainter, rect: QRectF, counts: list[int], u: float) -> None:
    """Samples per predicted class as bars, the class under each bar and the count above it."""
    caption_h, label_h = 16 * u, 14 * u
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(_font(11 * u))
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), caption_h),
                     int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                     "samples per class (by the classifier)")
    area = QRectF(rect.left(), rect.top() + caption_h + label_h, rect.width(),
                  rect.height() - caption_h - 2 * label_h)
    top = max(1, max(counts))
    slot = area.width() / len(counts)
    bar_w = slot * 0.7
    for k, c in enumerate(counts):
        h = area.height() * c / top
        x = area.left() + k * slot + (slot - bar_w) / 2
        painter.fillRect(QRectF(x, area.bottom() - h, bar_w, h), _BAR)
        painter.drawText(QRectF(x - slot, area.bottom() - h - label_h, bar_w + 2 * slot, label_h),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), str(int(c)))
        painter.drawText(QRectF(x - slot, area.bottom(), bar_w + 2 * slot, label_h),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), str(k))


def export_scores(result: Any, image: Any, path: str | Path, scale: float = 2.0) -> Path:
    """A Scores result (FID, KID, IS ...) as a table figure in .png, .svg or .pdf."""
    check_format(path)
    values = result.values
    if not any(k in values for k in ("fid", "kid_mean", "is_mean")):
        raise ValueError("these scores have no FID, KID or IS to show; save them as npz instead")
    ensure_gui_app()
    columns = columns_for(result)
    counts = values.get("class_counts")
    counts = [int(c) for c in np.asarray(counts).reshape(-1)] if counts is not None and len(counts) else None
    footer = "Lower FID and KID and higher IS are better. FID falls as n grows: compare columns of like n." + (
        f" Scored against {values['reference']}." if "reference" in values else "")
    fig = scores_layout(columns, result.title, counts, footer, scale)
    return write_figure(path, fig.size, lambda p: paint_scores(p, fig, columns, result.title, counts, footer),
                        result.title)
