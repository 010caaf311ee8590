"""Four pictures, each titled, with a caption under it, two by two: the image with its painted hole and
the original (the pixels under the hole, at the models' size) above, the latent optimisation's fill and
the context encoder's fill side by side below."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from workbench.ui.picture_view import PictureView

MASK, LATENT, ENCODER, ORIGINAL = "mask", "latent", "encoder", "original"
TITLES = {MASK: "Painted mask", ORIGINAL: "Original (under the hole)", LATENT: "Latent optimisation",
          ENCODER: "Context encoder"}
COLUMNS = 2


class Picture(PictureView):
    """One picture, its aspect kept, scaled to the space it has."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(80, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.shown: np.ndarray | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming): small, so the tab fits; it grows with the space
        return QSize(140, 140)

    def show_rgb(self, rgb: np.ndarray | None) -> None:
        """A float (H, W, 3) picture in [0, 1], or None for none."""
        if rgb is None:
            self.image_item.clear()
            self.shown = None
            return
        u8 = np.clip(np.asarray(rgb, np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
        self.shown = u8
        self.image_item.setImage(u8, levels=(0, 255), autoLevels=False)
        self.viewbox.autoRange(padding=0.0)


class InpaintPreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pictures: dict[str, Picture] = {}
        self.captions: dict[str, QLabel] = {}
        for index, key in enumerate(TITLES):
            row, col = 3 * (index // COLUMNS), index % COLUMNS
            title = QLabel(f"<b>{TITLES[key]}</b>")
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            caption = QLabel()
            caption.setWordWrap(True)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            caption.setMinimumHeight(caption.fontMetrics().lineSpacing() * 3)
            picture = Picture()
            layout.addWidget(title, row, col)
            layout.addWidget(picture, row + 1, col)
            layout.addWidget(caption, row + 2, col)
            layout.setColumnStretch(col, 1)
            layout.setRowStretch(row + 1, 1)
            self.pictures[key], self.captions[key] = picture, caption

    def set_picture(self, key: str, rgb: np.ndarray | None, caption: str = "") -> None:
        self.pictures[key].show_rgb(rgb)
        self.captions[key].setText(caption)

    def caption(self, key: str) -> str:
        return self.captions[key].text()
