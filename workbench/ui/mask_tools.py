"""The mask brush's bar over the main canvas: brush on/off, size, paint or erase, clear, invert, and
load or save the mask as a PNG (white = hole). Shown while the brush is on or a mask exists."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QHBoxLayout, QLabel, QPushButton, QRadioButton, QSpinBox,
                               QToolButton, QWidget)

from workbench.core.inpaint import masks as M
from workbench.ui.mask_brush import ERASE, PAINT, MaskBrush


def load_mask(workspace: Any, path: str | Path, say: Callable[[str], Any]) -> bool:
    """Make the mask PNG at ``path`` (white = hole) the workspace's mask, resized to its image; when it
    cannot, ``say`` why and change nothing."""
    if workspace is None or workspace.image is None:
        say("Open an image first: a mask is loaded onto it")
        return False
    try:
        workspace.set_mask(M.load_mask(path, workspace.image.shape))
    except (ValueError, OSError) as exc:
        say(f"Could not load the mask: {exc}")
        return False
    return True


def ask_mask_path(parent: QWidget) -> str:
    """A mask PNG chosen in a dialog ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load Mask", "", "Mask images (*.png)")
    return path


class MaskTools(QWidget):
    message = Signal(str)

    def __init__(self, brush: MaskBrush, workspace: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskTools")
        self.brush, self.workspace = brush, workspace
        self.brush_button = QToolButton()
        self.brush_button.setText("Mask brush")
        self.brush_button.setCheckable(True)
        self.brush_button.setToolTip("Paint the inpainting hole on the image: left drag paints (or erases), "
                                     "right drag erases; panning waits until the brush is off")
        self.size = QSpinBox()
        self.size.setRange(0, 512)
        self.size.setPrefix("radius ")
        self.size.setSuffix(" px")
        self.size.setToolTip("The brush's radius in image pixels")
        self.paint_radio, self.erase_radio = QRadioButton("Paint"), QRadioButton("Erase")
        self.paint_radio.setChecked(True)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.paint_radio)
        self.modes.addButton(self.erase_radio)
        self.clear_button, self.invert_button = QPushButton("Clear"), QPushButton("Invert")
        self.load_button, self.save_button = QPushButton("Load…"), QPushButton("Save…")
        self.load_button.setToolTip("Open a mask PNG (white = hole), resized to the image")
        self.save_button.setToolTip("Save the mask as a PNG, white = hole")
        self.count = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for w in (self.brush_button, self.size, self.paint_radio, self.erase_radio, self.clear_button,
                  self.invert_button, self.load_button, self.save_button):
            layout.addWidget(w)
        layout.addWidget(self.count, 1)
        self.brush_button.toggled.connect(brush.set_active)
        self.size.valueChanged.connect(brush.set_radius)
        self.paint_radio.toggled.connect(lambda on: brush.set_mode(PAINT if on else ERASE))
        self.clear_button.clicked.connect(brush.clear)
        self.invert_button.clicked.connect(self._invert)
        self.load_button.clicked.connect(self._load_dialog)
        self.save_button.clicked.connect(self._save_dialog)
        brush.activeChanged.connect(self._sync)
        brush.settingsChanged.connect(self._sync)
        workspace.maskChanged.connect(lambda _m: self._sync())
        workspace.imageChanged.connect(lambda _i: self._sync())
        self._sync()

    def _sync(self) -> None:
        b, ws = self.brush, self.workspace
        for widget, value in ((self.brush_button, b.active), (self.paint_radio, b.mode == PAINT),
                              (self.erase_radio, b.mode == ERASE)):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        self.size.blockSignals(True)
        self.size.setValue(b.radius)
        self.size.blockSignals(False)
        has_image, mask = ws.image is not None, ws.mask
        for w in (self.brush_button, self.invert_button, self.load_button):
            w.setEnabled(has_image)
        for w in (self.clear_button, self.save_button):
            w.setEnabled(mask is not None and bool(mask.any()))
        holes = 0 if mask is None else int(mask.sum())
        self.count.setText(f"hole: {holes} px" if holes else "no hole painted")
        self.setVisible(b.active or holes > 0)

    def _invert(self) -> None:
        if not self.brush.invert():
            self.message.emit("Open an image first: the mask is painted on it")

    def load(self, path: str | Path) -> bool:
        """Make the mask PNG at ``path`` the workspace's mask (resized to the image)."""
        return load_mask(self.workspace, path, self.message.emit)

    def save(self, path: str | Path) -> bool:
        mask = self.workspace.mask
        if mask is None:
            self.message.emit("No mask to save: paint one first")
            return False
        try:
            M.save_mask(path, mask)
        except (ValueError, OSError) as exc:
            self.message.emit(f"Could not save the mask: {exc}")
            return False
        self.message.emit(f"Saved the mask to {path}")
        return True

    def _load_dialog(self) -> None:
        path = ask_mask_path(self)
        if path:
            self.load(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save Mask", "mask.png", "PNG (*.png)")
        if path:
            self.save(path if path.lower().endswith(".png") else path + ".png")


def mask_tools(canvas: Any, workspace: Any) -> MaskTools:
    """The bar for the canvas's brush (``MaskBrush.for_canvas``)."""
    return MaskTools(MaskBrush.for_canvas(canvas, workspace), workspace)
