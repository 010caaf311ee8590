"""The Segmentation panel: the classes of the segmentation on the canvas, each with its colour,
pixel share and a checkbox that shows or hides it, plus the overlay's opacity. A click on
the canvas selects the class under it.

It edits the canvas's topmost SegmentationLayer (``hidden``, ``opacity``) and calls
``canvas.update_layer``; it follows the canvas's ``layersChanged`` and ``layerUpdated``, and
asks to be brought forward when a new segmentation appears.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSlider, QVBoxLayout, QWidget

from workbench.core.canvas_layers import SegmentationLayer, class_color
from workbench.ui.canvas import Canvas
from workbench.ui.detection.controls import set_scrolling_body
from workbench.ui.panel import RIGHT, Panel

CLASS_ROLE = Qt.ItemDataRole.UserRole


def swatch(rgb: tuple[int, int, int], side: int = 14) -> QIcon:
    """The class colour, pure (as the figure's legend draws it) with a dark rim so light colours
    read on any background; the same pixels when the row is selected (no style tint)."""
    pixmap = QPixmap(side, side)
    pixmap.fill(QColor(*rgb))
    painter = QPainter(pixmap)
    painter.setPen(QColor(0, 0, 0))
    painter.drawRect(0, 0, side - 1, side - 1)
    painter.end()
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


class SegmentationLegend(Panel):
    title = "Segmentation"
    area = RIGHT
    object_name = "segmentationDock"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas: Canvas | None = None
        self._layer_id: int | None = None

        self.summary = QLabel("No segmentation on the canvas: run Segment with a segmentation model")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(36)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Opacity"))
        row.addWidget(self.opacity, 1)
        row.addWidget(self.opacity_label)
        layout.addLayout(row)
        set_scrolling_body(self, body)

        self.list.itemChanged.connect(self._on_item_changed)
        self.opacity.valueChanged.connect(self._on_opacity)

    def bind(self, workspace, engine, canvas: Canvas) -> None:
        self.canvas = canvas
        canvas.layersChanged.connect(self.refresh)
        canvas.layerUpdated.connect(self._on_layer_updated)
        canvas.clicked.connect(self.pick)
        self.refresh()

    def layer(self) -> SegmentationLayer | None:
        """The segmentation this panel edits: the topmost one on the canvas."""
        if self.canvas is None:
            return None
        found = [l for l in self.canvas.layers() if isinstance(l, SegmentationLayer)]
        return found[-1] if found else None

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The image with the segmentation as this panel shows it (hidden classes left out)."""
        layer = self.layer()
        if layer is None or self.canvas.image() is None:
            raise ValueError("nothing to export: no segmentation on the canvas")
        from workbench.figure.render import export_layers
        return export_layers([self.canvas.layers()[0], layer], path, scale, title=layer.name)

    def refresh(self) -> None:
        layer = self.layer()
        appeared = layer is not None and layer.id != self._layer_id
        self._layer_id = None if layer is None else layer.id
        with QSignalBlocker(self.list):
            self.list.clear()
            if layer is not None:
                for c, share in layer.fractions().items():
                    item = QListWidgetItem(swatch(class_color(c)), f"{layer.class_name(c)}   {100 * share:.1f}%")
                    item.setData(CLASS_ROLE, c)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Unchecked if c in layer.hidden else Qt.CheckState.Checked)
                    self.list.addItem(item)
        self._sync_opacity(layer)
        self.opacity.setEnabled(layer is not None)
        if layer is None:
            self.summary.setText("No segmentation on the canvas: run Segment with a segmentation model")
        else:
            self.summary.setText(f"{layer.name}: {len(layer.fractions())} classes; untick one to hide it")
        if appeared:
            self.raiseRequested.emit()

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        layer = self.layer()
        if layer is None:
            return
        layer.hidden = (layer.hidden - {class_id}) if visible else (layer.hidden | {class_id})
        self._apply(layer)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(CLASS_ROLE) == class_id:
                with QSignalBlocker(self.list):
                    item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def pick(self, x: float, y: float) -> int | None:
        """Select the row of the class under image point (x, y); returns that class."""
        layer = self.layer()
        if layer is None:
            return None
        h, w = layer.mask.shape
        row, col = int(y), int(x)
        if not (0 <= row < h and 0 <= col < w):
            return None
        c = int(layer.mask[row, col])
        for i in range(self.list.count()):
            if self.list.item(i).data(CLASS_ROLE) == c:
                self.list.setCurrentRow(i)
        self.summary.setText(f"pixel ({col}, {row}): {layer.class_name(c)}")
        return c

    def _apply(self, layer: SegmentationLayer) -> None:
        self.canvas.update_layer(layer, by=self)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.set_class_visible(int(item.data(CLASS_ROLE)), item.checkState() == Qt.CheckState.Checked)

    def _on_opacity(self, value: int) -> None:
        self.opacity_label.setText(f"{value}%")
        layer = self.layer()
        if layer is not None and self.canvas.update_source is not self:
            layer.opacity = value / 100
            self._apply(layer)

    def _sync_opacity(self, layer: SegmentationLayer | None) -> None:
        value = round(100 * (layer.opacity if layer is not None else 0.5))
        with QSignalBlocker(self.opacity):
            self.opacity.setValue(value)
        self.opacity_label.setText(f"{value}%")

    def _on_layer_updated(self, layer_id: int) -> None:
        # another panel (the Layers panel) may have changed the opacity or replaced the layer
        if layer_id == self._layer_id and self.canvas.update_source is not self:
            self.refresh()
