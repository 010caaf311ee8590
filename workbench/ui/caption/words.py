"""The Captions tab's controls: the caption as a row of clickable words, and a stepper
(previous and next buttons, a slider) with the beam size beside it."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QToolButton,
                               QWidget)

MAX_BEAM = 10


class WordRow(QWidget):
    """One checkable button per word; clicking a word selects it."""
    wordClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: list[QPushButton] = []
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.row.addStretch(1)

    def set_words(self, words: list[str], probs: list[float]) -> None:
        for b in self.buttons:
            self.row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.buttons = []
        for i, (word, p) in enumerate(zip(words, probs)):
            b = QPushButton(word)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # the arrow keys step, never move focus
            b.setToolTip(f"word {i + 1} of {len(words)}: probability {p:.3f}")
            b.clicked.connect(lambda _=False, i=i: self.wordClicked.emit(i))
            self.row.insertWidget(i, b)
            self.buttons.append(b)

    def select(self, index: int) -> None:
        for i, b in enumerate(self.buttons):
            b.setChecked(i == index)


class Stepper(QWidget):
    """Previous / next, a slider over the words, and the beam size."""
    stepped = Signal(int)          # the word index asked for
    beamChanged = Signal(int)
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previous = QToolButton()
        self.previous.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous.setToolTip("Previous word (Left)")
        self.next = QToolButton()
        self.next.setArrowType(Qt.ArrowType.RightArrow)
        self.next.setToolTip("Next word (Right)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Step through the words")
        self.position = QLabel("–")
        self.beam = QSpinBox()
        self.beam.setRange(1, MAX_BEAM)
        self.beam.setValue(1)
        self.beam.setToolTip("Beam size: hypotheses kept at each step; 1 is greedy decoding")
        self.export_button = QPushButton("Export…")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Word"))
        row.addWidget(self.previous)
        row.addWidget(self.slider, 1)
        row.addWidget(self.next)
        row.addWidget(self.position)
        row.addSpacing(12)
        row.addWidget(QLabel("Beam size"))
        row.addWidget(self.beam)
        row.addWidget(self.export_button)
        self.previous.clicked.connect(lambda: self.stepped.emit(self.slider.value() - 1))
        self.next.clicked.connect(lambda: self.stepped.emit(self.slider.value() + 1))
        self.slider.valueChanged.connect(self.stepped.emit)
        self.beam.valueChanged.connect(self.beamChanged.emit)
        self.export_button.clicked.connect(self.exportRequested.emit)

    def show_position(self, index: int, count: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(max(0, index))
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 1)
        self.previous.setEnabled(count > 0 and index > 0)
        self.next.setEnabled(0 <= index < count - 1)
        self.position.setText(f"{index + 1} / {count}" if count else "–")
