"""What the proposals' colours mean: a small colour ramp from low to high objectness."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.core import colormaps
from workbench.core.detection.view import PROPOSAL_COLORMAP, PROPOSAL_LEGEND


class ProposalLegend(QWidget):
    """"objectness  low [ramp] high", in the proposals' colormap."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proposalLegend")
        self.colormap = PROPOSAL_COLORMAP
        self.words = (PROPOSAL_LEGEND, "low", "high")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(f"Proposal boxes are coloured by the RPN's {PROPOSAL_LEGEND}, "
                        f"from low to high ({self.colormap})")

    def text(self) -> str:
        name, low, high = self.words
        return f"{name} {low}..{high}"

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        fm = QFontMetricsF(self.font())
        name, low, high = self.words
        width = fm.horizontalAdvance(f"{name}  {low}  {high}") + 60
        return QSize(int(width), int(fm.height() * 1.4))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return self.sizeHint()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt naming)
        fm = QFontMetricsF(self.font())
        name, low, high = self.words
        gap = fm.horizontalAdvance(" ")
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().windowText().color())
            x, h = 0.0, float(self.height())
            for word in (name, low):
                w = fm.horizontalAdvance(word)
                painter.drawText(QRectF(x, 0, w, h), int(Qt.AlignmentFlag.AlignVCenter), word)
                x += w + gap
            high_w = fm.horizontalAdvance(high)
            ramp = QRectF(x, h * 0.2, max(10.0, self.width() - x - high_w - gap), h * 0.6)
            lut = np.ascontiguousarray(colormaps.lut(self.colormap)[None, :, :3].astype(np.uint8))
            painter.drawImage(ramp, QImage(lut.data, 256, 1, 256 * 3, QImage.Format.Format_RGB888).copy())
            painter.setPen(QPen(QColor(0, 0, 0, 150), 1.0))
            painter.drawRect(ramp)
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRectF(ramp.right() + gap, 0, high_w + 1, h), int(Qt.AlignmentFlag.AlignVCenter), high)
        finally:
            painter.end()
