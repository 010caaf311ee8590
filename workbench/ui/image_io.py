"""Getting an image in: file dialog, drag-and-drop, paste, recent files and bundled samples.

Every path ends in ``opened(image, name)`` or, for anything that cannot be read,
``failed(message)``; a failure changes nothing else.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from workbench.ui.settings import Settings

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
DIALOG_FILTER = "Images ({});;All files (*)".format(" ".join(f"*{s}" for s in IMAGE_SUFFIXES))


class ImageOpener(QObject):
    opened = Signal(object, str)   # RGB uint8 HxWx3, a name for it (path, sample:NAME, clipboard)
    failed = Signal(str)
    recentChanged = Signal()

    def __init__(self, parent: QWidget, settings: Settings):
        super().__init__(parent)
        self._parent = parent
        self.settings = settings

    # --- sources -------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.settings.value("paths/last_image_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open Image", start, DIALOG_FILTER)
        if path:
            self.settings.set_value("paths/last_image_dir", str(Path(path).parent))
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        from workbench.core.images import ImageError, load_image
        try:
            image = load_image(path)
        except (ImageError, OSError) as e:
            self.failed.emit(f"Could not open {Path(path).name}: {e}")
            return False
        self.settings.add_recent_file(path)
        self.recentChanged.emit()
        self.opened.emit(image, str(path))
        return True

    def open_sample(self, name: str) -> bool:
        from workbench.core import samples
        try:
            image = samples.sample_image(name)
        except (KeyError, ValueError, OSError) as e:
            self.failed.emit(f"Could not open sample {name!r}: {e}")
            return False
        self.opened.emit(image, f"sample:{name}")
        return True

    def paste(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not self.open_mime(mime, name="clipboard"):
            self.failed.emit("The clipboard holds no image")
            return False
        return True

    def open_mime(self, mime: QMimeData, name: str = "dropped image") -> bool:
        """Open the first image in drag-and-drop or clipboard data; False if there is none."""
        paths = local_image_paths(mime)
        if paths:
            return self.open_path(paths[0])
        if mime.hasImage():
            image = qimage_to_rgb(QImage(mime.imageData()))
            if image is None:
                self.failed.emit(f"The {name} is empty")
                return False
            self.opened.emit(image, name)
            return True
        return False

    # --- menus ---------------------------------------------------------------------
    def attach_recent_menu(self, menu: QMenu) -> None:
        menu.aboutToShow.connect(lambda: self.fill_recent_menu(menu))
        self.fill_recent_menu(menu)

    def attach_samples_menu(self, menu: QMenu) -> None:
        # filled when first opened: listing samples is cheap, but not needed before then
        menu.aboutToShow.connect(lambda: menu.isEmpty() and self.fill_samples_menu(menu))

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = self.settings.recent_files()
        for i, path in enumerate(files, 1):
            action = menu.addAction(f"&{i % 10} {Path(path).name}")
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if files:
            menu.addSeparator()
            menu.addAction("Clear Recent", self._clear_recent)
        else:
            menu.addAction("(none)").setEnabled(False)

    def fill_samples_menu(self, menu: QMenu) -> None:
        from workbench.core import samples
        menu.clear()
        for name in samples.sample_names():
            menu.addAction(name, lambda n=name: self.open_sample(n))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self.recentChanged.emit()


def can_accept(mime: QMimeData) -> bool:
    return bool(local_image_paths(mime)) or mime.hasImage()


def local_image_paths(mime: QMimeData) -> list[str]:
    if not mime.hasUrls():
        return []
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    # an unknown suffix is still tried; the loader sniffs the content and says what is wrong
    return sorted(paths, key=lambda p: Path(p).suffix.lower() not in IMAGE_SUFFIXES)


def qimage_to_rgb(image: QImage) -> np.ndarray | None:
    """A QImage as an RGB uint8 HxWx3 array (alpha dropped), or None for a null image."""
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return None
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buf = np.frombuffer(rgb.constBits(), np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def rgb_to_qimage(image: np.ndarray) -> QImage:
    data = np.ascontiguousarray(image, np.uint8)
    h, w = data.shape[:2]
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
