"""Long work in the status bar (progress + Cancel) and non-modal notices for errors and notes."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStatusBar,
                               QToolButton, QWidget)

MESSAGE_MS = 6000
SHOW_AFTER_MS = 300       # jobs quicker than this never show in the status bar
NOTICE_MS = 10000


class JobStatus(QObject):
    """Shows engine jobs in a status bar: a progress bar, a line of text and a Cancel button.

    Only long work shows: the bar and its text appear once a job has run for ``SHOW_AFTER_MS``
    or reports progress, so quick jobs (a latent slider's decode, a pixel readout) change
    nothing on screen. Failures, notes and cancellations always show."""

    def __init__(self, bar: QStatusBar, engine: QObject, notice: "Notice"):
        super().__init__(bar)
        self.bar, self.engine, self.notice = bar, engine, notice
        self._working = ""
        self._job: int | None = None             # id of the job running now, as far as signals tell
        self._text = ""                          # what the bar will say for it once it shows
        self._fraction: float | None = None      # its last reported progress, None: unknown
        self._shown = False
        self._delay = QTimer(self, singleShot=True, interval=SHOW_AFTER_MS, timeout=self._reveal)
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
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        engine.submitted.connect(self._follow)
        engine.note.connect(self.show_note)
        engine.busyChanged.connect(self._on_busy)
        engine.deviceChanged.connect(lambda name: self.device.setText(f"device: {name}"))

    @property
    def shown(self) -> bool:
        """True while the progress bar and Cancel are on screen."""
        return self._shown

    def show_note(self, text: str) -> None:
        self.bar.showMessage(text, MESSAGE_MS)
        self.notice.show_text(text, error=False)

    def show_error(self, text: str) -> None:
        self.bar.showMessage(text.splitlines()[0] if text else "error", MESSAGE_MS)
        self.notice.show_text(text, error=True)

    # -- engine signals --------------------------------------------------------------------------

    def _follow(self, ticket: QObject) -> None:
        # bound methods, so the connections die with this object; each slot reads its ticket
        # from sender()
        ticket.started.connect(self._on_started)
        ticket.progress.connect(self._on_progress)
        ticket.failed.connect(self._on_failed)
        ticket.cancelled.connect(self._on_cancelled)
        ticket.finished.connect(self._on_finished)

    def _on_busy(self, busy: bool) -> None:
        if not busy:
            self._finish()

    def _on_started(self) -> None:
        ticket = self.sender()
        self._job, self._text, self._fraction = ticket.id, f"{ticket.key}: working…", None
        if self._shown:
            self._render()
        else:
            self._delay.start()

    def _on_progress(self, fraction: float, message: str) -> None:
        ticket = self.sender()
        self._job = ticket.id
        self._fraction = max(0.0, min(1.0, fraction))
        self._text = f"{ticket.key}: {message}" if message else f"{ticket.key}: {fraction:.0%}"
        if self._shown:
            self._render()
        else:
            self._reveal()        # a job that reports progress is long work: show it now

    def _on_finished(self) -> None:
        if self.sender().id == self._job:
            self._finish()

    def _on_cancelled(self) -> None:
        self.bar.showMessage(f"{self.sender().key}: cancelled", MESSAGE_MS)

    def _on_failed(self, message: str) -> None:
        self.show_error(f"{self.sender().key} failed: {message}")

    # -- showing -----------------------------------------------------------------------------------

    def _reveal(self) -> None:
        if self._job is None or not getattr(self.engine, "is_busy", True):
            return
        self._delay.stop()
        self._shown = True
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self._render()

    def _render(self) -> None:
        if self._fraction is None:
            self.progress.setRange(0, 0)         # indeterminate until the job reports a fraction
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(round(self._fraction * 1000)))
        self._working = self._text
        self.bar.showMessage(self._text)

    def _finish(self) -> None:
        self._delay.stop()
        self._job = None
        if not self._shown:
            return
        self._shown = False
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        # a progress line outlives its job only if nobody has said anything since
        if self.bar.currentMessage() == self._working:
            self.bar.clearMessage()


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
