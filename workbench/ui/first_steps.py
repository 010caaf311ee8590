"""What a first-time user sees on the empty canvas: how to open an image and pick a model.

A centred note over the Image tab, there while the workspace has no image; it lets clicks and
drops through to the window underneath.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

HINT = ("<p style='font-size:large'><b>Open an image</b></p>"
        "<p>File ▸ Open Image (Ctrl+O), drag and drop an image here,<br>"
        "paste one (Ctrl+V), or pick one from File ▸ Samples</p>"
        "<p style='font-size:large'><b>Pick a model</b></p>"
        "<p>in the Model dock on the left, then choose a method and Run</p>"
        "<p>Or start with everything set up: <code>python -m workbench --demo</code></p>")


class FirstStepsHint(QLabel):
    def __init__(self, over: QWidget, workspace: Any) -> None:
        super().__init__(HINT, over)
        self.setObjectName("firstStepsHint")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("#firstStepsHint { background: palette(base); border: 1px solid palette(mid);"
                           " border-radius: 6px; padding: 14px 22px; color: palette(text); }")
        over.installEventFilter(self)
        workspace.imageChanged.connect(self._follow)
        self._follow(workspace.image)

    def _follow(self, image: Any, *_: Any) -> None:
        self.setVisible(image is None)
        if image is None:
            self._place()
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        over = self.parentWidget()
        width = min(460, max(200, over.width() - 40))
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        self.setGeometry((over.width() - width) // 2, max(0, (over.height() - height) // 2), width, height)
