"""The Layers panel: the canvas's layers with visibility, opacity, colormap, range and colorbar.

Edits change the layer object and call ``canvas.update_layer``; the panel follows the canvas's
``layersChanged`` (rebuild the list) and ``layerUpdated`` (refresh one row and the controls).
"""
from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QSlider, QSpinBox, QVBoxLayout,
                               QWidget)

from workbench.core import colormaps
from workbench.core.canvas_layers import HeatmapLayer, ImageLayer, Layer
from workbench.ui.canvas import Canvas
from workbench.ui.panel import RIGHT, Panel

CLIP_PERCENTILES = (100.0, 99.9, 99.0, 95.0)


class LayersPanel(Panel):
    title = "Layers"
    area = RIGHT
    object_name = "LayersDock"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas: Canvas | None = None
        self._clip: dict[int, float] = {}   # layer id -> last percentile clip chosen here

        self.list = QListWidget()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(36)
        self.colormap = QComboBox()
        self.colormap.addItems(colormaps.NAMES)
        self.vmin, self.vmax = QDoubleSpinBox(), QDoubleSpinBox()
        for spin in (self.vmin, self.vmax):
            spin.setKeyboardTracking(False)
        self.symmetric = QCheckBox("symmetric about 0")
        self.clip = QComboBox()
        for p in CLIP_PERCENTILES:
            self.clip.addItem("min to max" if p == 100 else f"clip at {p:g}%", p)
        self.show_colorbar = QCheckBox("show")
        self.dim_image = QSpinBox()
        self.dim_image.setObjectName("dimImage")
        self.dim_image.setRange(0, 100)
        self.dim_image.setSingleStep(10)
        self.dim_image.setSuffix(" %")
        self.dim_image.setToolTip("Wash out the image under this map toward the map's neutral colour, so a "
                                  "saturated image does not read as attribution (0: the image as it is)")
        self.remove = QPushButton("Remove layer")
        self._build_layout()

        self.list.currentItemChanged.connect(lambda *_: self._sync_controls())
        self.list.itemChanged.connect(self._on_item_changed)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.colormap.currentTextChanged.connect(self._on_colormap)
        self.vmin.valueChanged.connect(lambda v: self._on_range(low=v))
        self.vmax.valueChanged.connect(lambda v: self._on_range(high=v))
        self.symmetric.toggled.connect(self._on_symmetric)
        self.clip.activated.connect(lambda _: self._auto_range())
        self.show_colorbar.toggled.connect(self._on_colorbar)
        self.dim_image.valueChanged.connect(self._on_dim_image)
        self.remove.clicked.connect(self._on_remove)

    def bind(self, workspace, engine, canvas: Canvas) -> None:
        self.canvas = canvas
        canvas.layersChanged.connect(self.refresh)
        canvas.layerUpdated.connect(self._on_layer_updated)
        self.refresh()

    def _build_layout(self) -> None:
        opacity_row = QWidget()
        row = QHBoxLayout(opacity_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.opacity, 1)
        row.addWidget(self.opacity_label)
        self.form = QFormLayout()
        self.form.addRow("Opacity", opacity_row)
        self.form.addRow("Colormap", self.colormap)
        self.form.addRow("Min", self.vmin)
        self.form.addRow("Max", self.vmax)
        self.form.addRow("Range", self.symmetric)
        self.form.addRow("Auto range", self.clip)
        self.form.addRow("Colorbar", self.show_colorbar)
        self.form.addRow("Dim image", self.dim_image)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(self.form)
        layout.addWidget(self.remove)

    # following the canvas ------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the list (topmost layer first); select the newest added layer, else keep the
        selection if that layer is still there."""
        keep = self.current_layer_id()
        known = {self._row_id(i) for i in range(self.list.count())}
        added = [l.id for l in self.canvas.layers() if l.id not in known]
        keep = added[-1] if added else keep
        with QSignalBlocker(self.list):
            self.list.clear()
            for layer in reversed(self.canvas.layers()):
                item = QListWidgetItem(layer.name)
                item.setData(Qt.ItemDataRole.UserRole, layer.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
                item.setToolTip(f"{layer.kind} layer")
                self.list.addItem(item)
            ids = [self._row_id(i) for i in range(self.list.count())]
            if ids:
                self.list.setCurrentRow(ids.index(keep) if keep in ids else 0)
        live = {l.id for l in self.canvas.layers()}
        self._clip = {k: v for k, v in self._clip.items() if k in live}
        self._sync_controls()

    def current_layer_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def current_layer(self) -> Layer | None:
        lid = self.current_layer_id()
        return None if lid is None else self.canvas.layer(lid)

    def select_layer(self, layer_id: int) -> None:
        for i in range(self.list.count()):
            if self._row_id(i) == layer_id:
                self.list.setCurrentRow(i)
                return
        raise KeyError(f"no layer with id {layer_id} in the list")

    def _row_id(self, row: int) -> int:
        return int(self.list.item(row).data(Qt.ItemDataRole.UserRole))

    def _on_layer_updated(self, layer_id: int) -> None:
        if self.canvas.update_source is self:
            return
        layer = self.canvas.layer(layer_id)
        with QSignalBlocker(self.list):
            for i in range(self.list.count()):
                if self._row_id(i) == layer_id:
                    item = self.list.item(i)
                    item.setText(layer.name)
                    item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
        if layer_id == self.current_layer_id():
            self._sync_controls()

    def _sync_controls(self) -> None:
        layer = self.current_layer()
        heat = isinstance(layer, HeatmapLayer)
        for widget in (self.colormap, self.vmin, self.vmax, self.symmetric, self.clip, self.show_colorbar,
                       self.dim_image):
            self.form.setRowVisible(widget, heat)
        self.opacity.setEnabled(layer is not None)
        self.remove.setEnabled(layer is not None and not isinstance(layer, ImageLayer))
        if layer is None:
            return
        with QSignalBlocker(self.opacity):
            self.opacity.setValue(round(layer.opacity * 100))
        self.opacity_label.setText(f"{round(layer.opacity * 100)}%")
        if not heat:
            return
        lo, hi = float(layer.levels[0]), float(layer.levels[1])
        decimals = min(10, max(2, 3 - math.floor(math.log10(max(abs(lo), abs(hi), 1e-12)))))
        bound = 10 * max(abs(lo), abs(hi), 1e-9)   # a range that fits the data keeps the boxes narrow
        for spin, value in ((self.vmin, lo), (self.vmax, hi)):
            with QSignalBlocker(spin):
                spin.setDecimals(decimals)
                spin.setRange(-bound, bound)
                spin.setSingleStep((hi - lo) / 100 if hi > lo else 0.01)
                spin.setValue(value)
        for widget, setter, value in ((self.colormap, self.colormap.setCurrentText, layer.colormap),
                                      (self.symmetric, self.symmetric.setChecked, lo < 0 and lo == -hi),
                                      (self.show_colorbar, self.show_colorbar.setChecked, layer.show_colorbar),
                                      (self.dim_image, self.dim_image.setValue, round(layer.dim_image * 100)),
                                      (self.clip, self.clip.setCurrentIndex,
                                       CLIP_PERCENTILES.index(self._clip.get(layer.id, 100.0)))):
            with QSignalBlocker(widget):
                setter(value)

    # edits ---------------------------------------------------------------------------------
    def _apply(self, layer: Layer) -> None:
        self.canvas.update_layer(layer, by=self)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        layer = self.canvas.layer(int(item.data(Qt.ItemDataRole.UserRole)))
        layer.visible = item.checkState() == Qt.CheckState.Checked
        self._apply(layer)

    def _on_opacity(self, value: int) -> None:
        layer = self.current_layer()
        if layer is None:
            return
        layer.opacity = value / 100.0
        self.opacity_label.setText(f"{value}%")
        self._apply(layer)

    def _heatmap(self) -> HeatmapLayer | None:
        layer = self.current_layer()
        return layer if isinstance(layer, HeatmapLayer) else None

    def _on_colormap(self, name: str) -> None:
        if (layer := self._heatmap()) is not None and name:
            layer.colormap = name
            self._apply(layer)

    def _on_colorbar(self, on: bool) -> None:
        if (layer := self._heatmap()) is not None:
            layer.show_colorbar = on
            self._apply(layer)

    def _on_dim_image(self, percent: int) -> None:
        if (layer := self._heatmap()) is not None:
            layer.dim_image = percent / 100.0
            self._apply(layer)

    def _on_range(self, low: float | None = None, high: float | None = None) -> None:
        if (layer := self._heatmap()) is None:
            return
        lo, hi = (low, self.vmax.value()) if low is not None else (self.vmin.value(), high)
        if self.symmetric.isChecked():
            m = abs(lo) if low is not None else abs(hi)
            lo, hi = -m, m
        if not hi > lo:
            self._sync_controls()   # refuse an empty range; show the layer's range again
            return
        layer.levels = (lo, hi)
        self._apply(layer)
        self._sync_controls()

    def _on_symmetric(self, on: bool) -> None:
        if (layer := self._heatmap()) is None:
            return
        if on:
            m = max(abs(float(layer.levels[0])), abs(float(layer.levels[1])))
            layer.levels = (-m, m) if m > 0 else (-1.0, 1.0)
            self._apply(layer)
            self._sync_controls()
        else:
            self._auto_range()

    def _auto_range(self) -> None:
        """Levels from the data: min to the chosen percentile, or symmetric about 0."""
        if (layer := self._heatmap()) is None:
            return
        p = float(self.clip.currentData())
        self._clip[layer.id] = p
        auto = HeatmapLayer.auto(layer.name, layer.data, signed=self.symmetric.isChecked(), clip_percentile=p)
        layer.levels = auto.levels
        self._apply(layer)
        self._sync_controls()

    def _on_remove(self) -> None:
        layer = self.current_layer()
        if layer is not None and not isinstance(layer, ImageLayer):
            self.canvas.remove_layer(layer.id)
