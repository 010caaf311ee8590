"""The canvas's colorbar: painted by figure.colorbar, like the colorbar in exported figures."""
from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontInfo, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from workbench.core.canvas_layers import HeatmapLayer
from workbench.figure.colorbar import colorbar_width, paint_colorbar

_MARGIN = 6
_MIN_BAR = 120  # px; a smaller image on screen still gets a readable bar


class ColorbarWidget(QWidget):
    """Shows one heatmap layer's colormap and value range; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colormap: str | None = None
        self.levels: tuple[float, float] | None = None
        self._span: tuple[float, float] | None = None
        self.setVisible(False)

    def set_span(self, top: float | None, bottom: float | None) -> None:
        """Vertical extent (widget y) for the bar, e.g. where the image is on screen; None: all."""
        self._span = None if top is None or bottom is None else (min(top, bottom), max(top, bottom))
        self.update()

    def bar_rect(self) -> QRectF:
        """Where paint_colorbar draws: the span widened by half a label height at each end."""
        pad = QFontMetricsF(self.font()).height() / 2
        full = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        top, bottom = self._span or (full.top() + pad, full.bottom() - pad)
        top, bottom = max(top, full.top() + pad), min(bottom, full.bottom() - pad)
        if bottom - top < _MIN_BAR:
            middle = (top + bottom) / 2
            top, bottom = max(full.top() + pad, middle - _MIN_BAR / 2), min(full.bottom() - pad, middle + _MIN_BAR / 2)
        return QRectF(full.left(), top - pad, full.width(), bottom - top + 2 * pad)

    def set_layer(self, layer: HeatmapLayer | None) -> None:
        if layer is None:
            self.colormap = self.levels = None
            self.setVisible(False)
            return
        self.colormap, self.levels = layer.colormap, (float(layer.levels[0]), float(layer.levels[1]))
        self.setToolTip(f"{layer.name}: {self.levels[0]:.4g} to {self.levels[1]:.4g}")
        self.setFixedWidth(int(colorbar_width(self.levels, self._font_px())) + 2 * _MARGIN)
        self.setVisible(True)
        self.update()

    def _font_px(self) -> float:
        return float(QFontInfo(self.font()).pixelSize())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if self.colormap is None or self.levels is None:
            return
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            paint_colorbar(painter, self.bar_rect(), self.colormap, self.levels, self._font_px(),
                           self.palette().color(QPalette.ColorRole.WindowText))
        finally:
            painter.end()
