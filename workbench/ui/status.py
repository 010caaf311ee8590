"""Long work in the status bar (progress + Cancel) and non-modal notices for errors and notes."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStatusBar,
                               QToolButton, QWidget)

MESSAGE_MS = 6000
NOTICE_MS = 10000


class JobStatus(QObject):
    """Shows engine jobs in a status bar: a progress bar and a Cancel button while one runs."""

    def __init__(self, bar: QStatusBar, engine: QObject, notice: "Notice"):
        super().__init__(bar)
        self.bar, self.engine, self.notice = bar, engine, notice
        self._working = ""
        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.clicked.connect(lambda: self.engine.cancel())
        self.device = QLabel("device: starting…")
        self.device.setObjectName("deviceLabel")
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.device)
        self._set_busy(False)
        engine.started.connect(self._on_started)
        engine.progress.connect(self._on_progress)
        engine.failed.connect(self._on_failed)
        engine.done.connect(self._on_done)
        engine.cancelled.connect(lambda key: self.bar.showMessage(f"{key}: cancelled", MESSAGE_MS))
        engine.note.connect(self.show_note)
        engine.busyChanged.connect(self._set_busy)
        engine.deviceChanged.connect(lambda name: self.device.setText(f"device: {name}"))

    def show_note(self, text: str) -> None:
        self.bar.showMessage(text, MESSAGE_MS)
        self.notice.show_text(text, error=False)

    def show_error(self, text: str) -> None:
        self.bar.showMessage(text.splitlines()[0] if text else "error", MESSAGE_MS)
        self.notice.show_text(text, error=True)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)  # indeterminate until a job reports a fraction

    def _on_started(self, key: str) -> None:
        self.progress.setRange(0, 0)
        self._show_working(f"{key}: working…")

    def _on_progress(self, key: str, fraction: float, message: str) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))
        self._show_working(f"{key}: {message}" if message else f"{key}: {fraction:.0%}")

    def _on_done(self, _key: str, _result: object) -> None:
        # a progress line outlives its job only if nobody has said anything since
        if self.bar.currentMessage() == self._working:
            self.bar.clearMessage()

    def _show_working(self, text: str) -> None:
        self._working = text
        self.bar.showMessage(text)

    def _on_failed(self, key: str, message: str) -> None:
        self.show_error(f"{key} failed: {message}")


class Notice(QFrame):
    """A small message over the top-right corner of its parent; closes itself after a while."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 4, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self, singleShot=True, timeout=self.hide)
        parent.installEventFilter(self)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_text(self, text: str, error: bool = False) -> None:
        self.label.setText(text)
        color = "#c0392b" if error else "#2f6fd6"
        self.setStyleSheet(f"#notice {{ background: palette(window); border: 1px solid {color}; "
                           f"border-left: 4px solid {color}; }}")
        self._place()
        self.show()
        self.raise_()
        self._timer.start(NOTICE_MS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        width = min(420, max(220, parent.width() // 3))
        self.setFixedSize(width, self.layout().totalHeightForWidth(width))
        self.move(parent.width() - width - 12, 12)
