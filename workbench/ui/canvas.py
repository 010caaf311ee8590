"""The central canvas: an image and overlay layers (workbench.core.canvas_layers) drawn with pyqtgraph.

Coordinates are image pixels: pixel (row r, column c) covers x in [c, c+1), y in [r, r+1),
with y growing downwards. Layers are plain objects; change one and call ``update_layer``.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

from workbench.core.canvas_layers import BoxesLayer, ImageLayer, Layer
from workbench.figure.paint import colorbar_layer
from workbench.ui.canvas_items import LayerGraphics, view_pixel_size
from workbench.ui.colorbar_widget import ColorbarWidget

LABELS_Z = 1e5   # box labels: above every layer (a layer's z is its position), under tools' overlays

def pick_box(layers: list[Layer], x: float, y: float) -> tuple[int, int] | None:
    """(layer id, box index) of the box under (x, y): topmost layer first, then the smallest box."""
    for layer in reversed(layers):
        if not (isinstance(layer, BoxesLayer) and layer.visible and len(layer.boxes)):
            continue
        b = np.asarray(layer.boxes, np.float64).reshape(-1, 4)
        x0, x1 = np.minimum(b[:, 0], b[:, 2]), np.maximum(b[:, 0], b[:, 2])
        y0, y1 = np.minimum(b[:, 1], b[:, 3]), np.maximum(b[:, 1], b[:, 3])
        inside = (x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)
        if inside.any():
            area = np.where(inside, (x1 - x0) * (y1 - y0), np.inf)
            return layer.id, int(np.argmin(area))
    return None


def as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


class Canvas(QWidget):
    """Image + overlays with pan/zoom, click picking and a colorbar for the top heatmap."""

    clicked = Signal(float, float)       # image x, y of a left click that was not a drag
    layersChanged = Signal()             # a layer was added, removed or replaced
    layerUpdated = Signal(int)           # update_layer re-rendered this layer id
    boxClicked = Signal(int, int)        # layer id, box index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsView()
        self.plot = pg.PlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.view.setCentralItem(self.plot)
        self.viewbox: pg.ViewBox = self.plot.getViewBox()
        self.viewbox.setAspectLocked(True)
        self.viewbox.invertY(True)
        self.show_axes(False)
        self.colorbar = ColorbarWidget()
        self._follow_palette()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.colorbar)
        self._base: ImageLayer | None = None
        self._overlays: list[Layer] = []
        self._graphics: dict[int, LayerGraphics] = {}
        self._labels = pg.ItemGroup()         # every layer's box labels, stacked as their layers
        self._labels.setZValue(LABELS_Z)
        self.viewbox.addItem(self._labels, ignoreBounds=True)
        self._selected: tuple[int, int] | None = None
        self.update_source: object = None     # who called update_layer, while layerUpdated is out
        self._labels_held = False             # while several layers are added: place labels once, after
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.viewbox.sigTransformChanged.connect(self.place_labels)
        self.viewbox.sigRangeChanged.connect(self._align_colorbar)
        self.viewbox.sigResized.connect(self._align_colorbar)

    # layers ------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray) -> None:
        """Show a new image (RGB uint8 HxWx3): replaces the image layer, clears overlays, fits."""
        rgb = as_rgb(rgb)
        self._drop_overlays()
        if self._base is not None:
            self._graphics.pop(self._base.id).dispose()
        self._base = ImageLayer(name="image", image=rgb)
        self._attach(self._base)
        self._refresh_colorbar()
        self.fit()
        self.layersChanged.emit()

    def image(self) -> np.ndarray | None:
        return None if self._base is None else self._base.image

    def layers(self) -> list[Layer]:
        """The image layer first, then the overlays in drawing order."""
        return ([self._base] if self._base is not None else []) + list(self._overlays)

    def layer(self, layer_id: int) -> Layer:
        for layer in self.layers():
            if layer.id == layer_id:
                return layer
        raise KeyError(f"no layer with id {layer_id} on the canvas")

    def add_layer(self, layer: Layer) -> int:
        self._add(layer)
        self._refresh_colorbar()
        self.layersChanged.emit()
        return layer.id

    def update_layer(self, layer: Layer, by: object = None) -> None:
        """Re-render a layer after its fields changed (it may be a new object with the same id).
        ``by``: the panel making the change; ``update_source`` names it while ``layerUpdated``
        is delivered, so that panel can skip re-reading what it just wrote."""
        old = self.layer(layer.id)
        if old is self._base:
            self._base = layer
        elif old is not layer:
            self._overlays[self._position(layer.id) - (self._base is not None)] = layer
        self._render(layer)
        self._refresh_colorbar()
        previous, self.update_source = self.update_source, by
        try:
            self.layerUpdated.emit(layer.id)
        finally:
            self.update_source = previous

    def remove_layer(self, layer_id: int) -> None:
        layer = self.layer(layer_id)
        graphics = self._graphics.pop(layer_id)
        graphics.dispose()
        if layer is self._base:
            self._base = None
        else:
            del self._overlays[self._position(layer_id) - (self._base is not None)]
        if self._selected and self._selected[0] == layer_id:
            self._selected = None
        self._restack()
        if graphics.has_labels():
            self.place_labels()
        self._refresh_colorbar()
        self.layersChanged.emit()

    def clear_overlays(self) -> None:
        self._drop_overlays()
        self._refresh_colorbar()
        self.layersChanged.emit()

    def replace_overlays(self, layers: list[Layer]) -> None:
        """Clear the overlays and add these, with one repaint and one layersChanged."""
        self.view.setUpdatesEnabled(False)
        try:
            with self.labels_placed_once():
                self._drop_overlays()
                for layer in layers:
                    self._add(layer)
            self._refresh_colorbar()
        finally:
            self.view.setUpdatesEnabled(True)
        self.layersChanged.emit()

    def graphics(self, layer_id: int) -> LayerGraphics:
        """The pyqtgraph items drawing a layer (its root item holds visibility and opacity)."""
        self.layer(layer_id)
        return self._graphics[layer_id]

    # boxes -------------------------------------------------------------------------------
    def select_box(self, layer_id: int | None, index: int | None = None) -> None:
        """Highlight one box of a BoxesLayer; ``select_box(None)`` clears the highlight."""
        if layer_id is not None:
            layer = self.layer(layer_id)
            if not isinstance(layer, BoxesLayer):
                raise ValueError(f"layer {layer.name!r} has no boxes")
            if index is None or not 0 <= index < len(layer.boxes):
                raise IndexError(f"box {index} out of range ({len(layer.boxes)} boxes in {layer.name!r})")
        previous, self._selected = self._selected, (None if layer_id is None else (layer_id, int(index)))
        with self.labels_placed_once():
            for lid in {p[0] for p in (previous, self._selected) if p}:
                self._render(self.layer(lid))

    def selected_box(self) -> tuple[int, int] | None:
        return self._selected

    @contextmanager
    def labels_placed_once(self):
        """Place labels once after the block, not after each layer it renders or removes."""
        held, self._labels_held = self._labels_held, True
        try:
            yield
        finally:
            self._labels_held = held
        if not held:
            self.place_labels()

    def place_labels(self, *_) -> None:
        """Place the box labels of all visible layers at the current zoom: the top layer first,
        each layer below clear of the labels above it (as ``figure.paint`` does in exports)."""
        if self._labels_held:
            return
        pixel_size = view_pixel_size(self.viewbox)
        taken = []
        for layer in reversed(self.layers()):
            graphics = self._graphics[layer.id]
            if layer.visible and graphics.has_labels():
                taken.extend(graphics.place_labels(pixel_size, taken))

    # view --------------------------------------------------------------------------------
    def fit(self) -> None:
        """Zoom so the whole image (or, without one, everything drawn) is in view."""
        if self._base is not None:
            h, w = self._base.image.shape[:2]
            self.viewbox.setRange(QRectF(0, 0, w, h), padding=0)
        else:
            self.viewbox.autoRange(padding=0)

    def show_axes(self, visible: bool) -> None:
        for side in ("left", "bottom"):
            self.plot.showAxis(side, visible)

    def map_to_image(self, pos: QPointF | QPoint) -> tuple[float, float]:
        """Image x, y under a position in ``self.view`` widget coordinates."""
        p = self.viewbox.mapSceneToView(self.view.mapToScene(QPointF(pos).toPoint()))
        return p.x(), p.y()

    def map_from_image(self, x: float, y: float) -> QPoint:
        """Position in ``self.view`` widget coordinates of an image point."""
        return self.view.mapFromScene(self.viewbox.mapViewToScene(QPointF(x, y)))

    def export(self, path: str | Path, scale: float = 1.0, title: str = "") -> Path:
        from workbench.figure.render import export_layers
        return export_layers(self.layers(), path, scale, title)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.PaletteChange:
            self._follow_palette()
        super().changeEvent(event)

    # internals ---------------------------------------------------------------------------
    def _follow_palette(self) -> None:
        """View background = window colour, so view and colorbar read as one surface in any theme."""
        self.view.setBackground(self.palette().color(QPalette.ColorRole.Window))
    def _add(self, layer: Layer) -> None:
        if any(l.id == layer.id for l in self.layers()):
            raise ValueError(f"layer {layer.name!r} (id {layer.id}) is already on the canvas")
        self._overlays.append(layer)
        self._attach(layer)
        if self._base is None and len(self._overlays) == 1:
            self.fit()

    def _attach(self, layer: Layer) -> None:
        graphics = self._graphics[layer.id] = LayerGraphics(self._labels)
        self.viewbox.addItem(graphics.root, ignoreBounds=False)
        self._render(layer)

    def _drop_overlays(self) -> None:
        for layer in self._overlays:
            self._graphics.pop(layer.id).dispose()
        self._overlays = []
        self._selected = None

    def _position(self, layer_id: int) -> int:
        # by id: layers are dataclasses holding arrays, so == between them is not usable
        return next(i for i, l in enumerate(self.layers()) if l.id == layer_id)

    def _size(self) -> tuple[int, int] | None:
        return None if self._base is None else (self._base.image.shape[1], self._base.image.shape[0])

    def _render(self, layer: Layer) -> None:
        z = self._position(layer.id)
        sel = self._selected[1] if self._selected and self._selected[0] == layer.id else None
        graphics = self._graphics[layer.id]
        had_labels = graphics.has_labels()
        graphics.render(layer, self._size(), z, sel)
        if had_labels or graphics.has_labels():
            self.place_labels()

    def _restack(self) -> None:
        for z, layer in enumerate(self.layers()):
            self._graphics[layer.id].set_z(z)

    def _refresh_colorbar(self) -> None:
        self.colorbar.set_layer(colorbar_layer(self.layers()))
        self._align_colorbar()

    def _align_colorbar(self, *_) -> None:
        """Keep the colorbar as tall as the image on screen (it shares the view's top edge)."""
        size = self._size()
        if size is None or self.colorbar.isHidden():
            self.colorbar.set_span(None, None)
            return
        top, bottom = self.map_from_image(0, 0).y(), self.map_from_image(0, size[1]).y()
        offset = self.view.geometry().top() - self.colorbar.geometry().top()
        self.colorbar.set_span(top + offset, bottom + offset)

    def _on_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        p = self.viewbox.mapSceneToView(ev.scenePos())
        x, y = p.x(), p.y()
        self.clicked.emit(x, y)
        hit = pick_box(self.layers(), x, y)
        if hit is not None:
            self.select_box(*hit)
            self.boxClicked.emit(*hit)
