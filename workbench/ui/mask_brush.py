"""The mask brush: paint an inpainting hole on the main canvas, shown as a translucent red overlay.

The mask is the workspace's (``workspace.mask``, bool at the image's size), so every panel reads
the same hole and nothing painted is lost when a method runs again or the overlays are replaced:
the overlay is an item of its own over the canvas's layers, redrawn from the workspace. While the
brush is on, a left drag paints with the current mode (paint or erase) and a right drag erases;
the canvas's panning waits until the brush is off (the wheel still zooms).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem

from workbench.core.inpaint import masks as M

OVERLAY_RGBA = (230, 40, 40, 120)
OVERLAY_Z = 1e6
PAINT, ERASE = "paint", "erase"


def default_radius(shape: tuple[int, ...]) -> int:
    """A brush a sixteenth of the image's short side across, at least 1 pixel."""
    return max(1, int(round(min(shape[:2]) / 32)))


def overlay_rgba(mask: np.ndarray) -> np.ndarray:
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask] = OVERLAY_RGBA
    return rgba


class MaskBrush(QObject):
    """One per canvas (``MaskBrush.for_canvas``): the brush state, the overlay and the painting."""

    activeChanged = Signal(bool)
    settingsChanged = Signal()          # radius or mode

    def __init__(self, canvas: Any, workspace: Any) -> None:
        super().__init__(canvas)
        self.setObjectName("maskBrush")
        self.canvas, self.workspace = canvas, workspace
        self.active = False
        self.radius = 4
        self._radius_chosen = False      # until the user sets one, the brush follows the image's size
        self.mode = PAINT
        self._stroke: list[tuple[float, float]] = []
        self._erasing = False
        self.overlay = pg.ImageItem()
        self.overlay.setZValue(OVERLAY_Z)
        self.overlay.setVisible(False)
        canvas.viewbox.addItem(self.overlay, ignoreBounds=True)
        self.ring = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 255, 255))
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.ring.setPen(pen)
        self.ring.setZValue(OVERLAY_Z + 1)
        self.ring.setVisible(False)
        canvas.viewbox.addItem(self.ring, ignoreBounds=True)
        workspace.maskChanged.connect(self._show_mask)
        workspace.imageChanged.connect(self._on_image)
        canvas.view.viewport().installEventFilter(self)
        self._show_mask(workspace.mask)

    @classmethod
    def for_canvas(cls, canvas: Any, workspace: Any) -> "MaskBrush":
        """The canvas's brush, made the first time it is asked for."""
        found = canvas.findChild(cls, "maskBrush")
        return found if found is not None else cls(canvas, workspace)

    # --- settings -----------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        on = bool(on)
        if on != self.active:
            self.active = on
            self._stroke = []
            self.ring.setVisible(False)
            self.activeChanged.emit(on)

    def set_radius(self, radius: float) -> None:
        self.radius = max(0, int(round(radius)))
        self._radius_chosen = True
        self.settingsChanged.emit()

    def set_mode(self, mode: str) -> None:
        if mode not in (PAINT, ERASE):
            raise ValueError(f"the brush paints or erases, not {mode!r}")
        self.mode = mode
        self.settingsChanged.emit()

    # --- the mask ---------------------------------------------------------------------------
    def current(self) -> np.ndarray | None:
        """The workspace's mask, or an empty one at the image's size (None without an image)."""
        ws = self.workspace
        if ws.image is None:
            return None
        return ws.mask if ws.mask is not None else M.empty_mask(ws.image.shape)

    def stroke(self, points: list[tuple[float, float]], erase: bool | None = None) -> bool:
        """Paint (or erase) along ``points`` (image x, y) into the workspace's mask; False without an image."""
        mask = self.current()
        if mask is None or not points:
            return False
        erase = self.mode == ERASE if erase is None else erase
        self.workspace.set_mask(M.paint(mask, points, self.radius, hole=not erase))
        return True

    def clear(self) -> None:
        self.workspace.set_mask(None)

    def invert(self) -> bool:
        mask = self.current()
        if mask is None:
            return False
        self.workspace.set_mask(M.invert(mask))
        return True

    # --- mouse ------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind == QEvent.Type.MouseMove:
            self._move_ring(event.position())
        if not self.active or self.workspace.image is None:
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() in (Qt.MouseButton.LeftButton,
                                                                       Qt.MouseButton.RightButton):
            self._erasing = event.button() == Qt.MouseButton.RightButton or self.mode == ERASE
            self._stroke = [self.canvas.map_to_image(event.position())]
            self.stroke(self._stroke, self._erasing)
            return True
        if kind == QEvent.Type.MouseMove and self._stroke:
            point = self.canvas.map_to_image(event.position())
            self.stroke([self._stroke[-1], point], self._erasing)
            self._stroke.append(point)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._stroke:
            self._stroke = []
            return True
        return kind == QEvent.Type.MouseButtonDblClick

    def _move_ring(self, pos: QPointF) -> None:
        if not self.active or self.workspace.image is None:
            self.ring.setVisible(False)
            return
        x, y = self.canvas.map_to_image(pos)
        r = self.radius + 0.5
        self.ring.setRect(QRectF(np.floor(x) + 0.5 - r, np.floor(y) + 0.5 - r, 2 * r, 2 * r))
        self.ring.setVisible(True)

    # --- drawing ----------------------------------------------------------------------------
    def _show_mask(self, mask: np.ndarray | None) -> None:
        if mask is None or not mask.any():
            self.overlay.setVisible(False)
            return
        self.overlay.setImage(overlay_rgba(np.asarray(mask, bool)), autoLevels=False, levels=(0, 255))
        self.overlay.setRect(QRectF(0, 0, mask.shape[1], mask.shape[0]))
        self.overlay.setVisible(True)

    def _on_image(self, image: Any) -> None:
        if image is not None and not self._radius_chosen:
            self.radius = default_radius(np.asarray(image).shape)
            self.settingsChanged.emit()
        self._show_mask(self.workspace.mask)
