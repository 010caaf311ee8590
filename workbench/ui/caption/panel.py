"""The Captions tab: the caption a captioner writes for the image, word by word, and for the
selected word the attention map it was written with, over the image.

One run of the registry's ``caption`` method (on the engine) decodes the caption and keeps every
word's map, so clicking a word, the arrows, the slider and the Left / Right keys only select
another word of the result (``at(i)``); the image, the model or the beam size run it again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.core.canvas_layers import ImageLayer
from workbench.core.methods.caption import writes_captions
from workbench.core.renderers import layers_for
from workbench.figure.render import check_format, export_result
from workbench.ui.attention.canvas import AttentionCanvas, MapScene
from workbench.ui.attention.patches import patch_at
from workbench.ui.caption.words import Stepper, WordRow
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel

METHOD = "caption"
KEY = "caption-tab"
NO_MODEL_HINT = "Load a captioner (zoo:shapes-captioner) and an image to see its caption, word by word"


class CaptionPanel(Panel):
    title = "Captions"
    area = TAB
    object_name = "captionTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.result: Any = None        # the last caption, with the selected word
        self.ticket: Any = None
        self.computed_for: tuple | None = None   # (handle, image id, beam) of the result or run
        self.note = ""                 # why the last run failed
        self._scheduled = False

        self.stepper = Stepper()
        self.words = WordRow()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.canvas = AttentionCanvas()
        layout = QVBoxLayout(self)
        layout.addWidget(self.stepper)
        layout.addWidget(self.words)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas, 1)

        self.stepper.stepped.connect(self.select_word)
        self.stepper.beamChanged.connect(self._schedule)
        self.stepper.exportRequested.connect(self._export_dialog)
        self.words.wordClicked.connect(self.select_word)
        self.canvas.imageHovered.connect(self._on_hover)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)   # a click on it, then the arrow keys
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_input)
        workspace.imageChanged.connect(self._on_input)
        workspace.registryChanged.connect(self._schedule)
        self._on_input()

    # --- reading ----------------------------------------------------------------------
    def beam_size(self) -> int:
        return self.stepper.beam.value()

    def word_index(self) -> int:
        return self.result.word if self.result is not None else -1

    def current_result(self) -> Any:
        return self.result

    def missing(self) -> str:
        """What a run needs and does not have ("" when it can run)."""
        ws = self.workspace
        handle = ws.handle if ws is not None else None
        if handle is None:
            return NO_MODEL_HINT
        if not writes_captions(handle.module):
            return f"{handle.id} writes no captions. {NO_MODEL_HINT}"
        if ws.image is None:
            return f"Open an image to see what {handle.id} says about it"
        if ws.registry is None or METHOD not in ws.registry:
            return f"The method {METHOD!r} is not registered"
        return ""

    def hint(self) -> str:
        """Why the tab shows no map ("" when it shows one)."""
        if self.missing():
            return self.missing()
        if self.note:
            return f"Captioning failed: {self.note}"
        return "Writing the caption…" if self.ticket is not None and self.result is None else ""

    # --- actions ----------------------------------------------------------------------
    def run(self) -> Any:
        """Caption the workspace's image with its model at the current beam size (a ticket, or
        None with a message when there is nothing to caption)."""
        ws = self.workspace
        why = self.missing()
        if why:
            self.message.emit(why)
            return None
        if self.ticket is not None:
            self.ticket.cancel()
        self.note = ""
        self.computed_for = self._settings()
        word = max(0, self.word_index())
        self.ticket = self.engine.run_method(KEY, ws.registry.get(METHOD), ws.handle, ws.image,
                                             {"beam_size": self.beam_size()}, None)
        self.ticket.done.connect(lambda r, t=self.ticket, w=word: self._on_done(t, r, w))
        self.ticket.failed.connect(lambda text, t=self.ticket: self._on_failed(t, text))
        self._refresh()
        return self.ticket

    def select_word(self, index: int) -> None:
        """Show word ``index``'s attention (clamped to the caption's words)."""
        if self.result is None or not len(self.result):
            return
        index = int(np.clip(index, 0, len(self.result) - 1))
        if index != self.result.word or self.result.attribution is None:
            self.result = self.result.at(index)
        self._refresh()

    def step(self, by: int) -> None:
        self.select_word(self.word_index() + by)

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The image under its caption and a strip of every word's map (.png, .svg, .pdf)."""
        check_format(path)
        if self.result is None:
            raise ValueError(f"nothing to export: {self.hint() or 'no caption yet'}")
        return export_result(self.result, self.workspace.image, path, scale)

    def script_options(self) -> dict:
        if self.result is None or self.workspace.image is None:
            return {}
        return {"image": self.workspace.image, "layers": self._layers()}

    # --- runs -------------------------------------------------------------------------
    def _settings(self) -> tuple:
        ws = self.workspace
        return (id(ws.handle), id(ws.image), self.beam_size())

    def _on_input(self, *_: Any) -> None:
        if self.ticket is not None:
            self.ticket.cancel()
        self.ticket, self.result, self.computed_for, self.note = None, None, None, ""
        self._refresh()
        self._schedule()

    def _schedule(self, *_: Any) -> None:
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._run_if_needed)

    def _run_if_needed(self) -> None:
        self._scheduled = False
        if self.isVisible() and not self.missing() and self.computed_for != self._settings():
            self.run()
        else:
            self._refresh()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Left / Right step through the words (the slider, when it has focus, steps itself)."""
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}
        if event.key() in steps and self.result is not None:
            self.step(steps[event.key()])
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self._schedule()

    def _on_done(self, ticket: Any, result: Any, word: int) -> None:
        if ticket is not self.ticket:
            return
        self.ticket = None
        self.result = result.at(min(word, max(0, len(result) - 1)))
        self.words.set_words(list(result.words), [float(p) for p in result.probs])
        self._refresh()

    def _on_failed(self, ticket: Any, text: str) -> None:
        if ticket is not self.ticket:
            return
        self.ticket, self.note = None, text
        self.message.emit(f"Captions: {text}")
        self._refresh()

    # --- picture ----------------------------------------------------------------------
    def _layers(self) -> list:
        image = self.workspace.image
        return [ImageLayer(name="image", image=np.asarray(image)), *layers_for(self.result)]

    def _scene(self) -> MapScene | None:
        r = self.result
        if r is None or not len(r) or self.workspace is None or self.workspace.image is None:
            return None
        return MapScene(self._layers(), f"attention for {r.word_title(r.word)}")

    def _refresh(self) -> None:
        r = self.result
        count = len(r) if r is not None else 0
        if r is None:
            self.words.set_words([], [])
        self.words.select(self.word_index())
        self.stepper.show_position(self.word_index(), count)
        self.stepper.export_button.setEnabled(r is not None)
        self.canvas.show_scene(self._scene(), self.hint() or ("The caption has no words" if r is not None else ""))
        self.status.setText(self._status_text())

    def _status_text(self) -> str:
        r = self.result
        if r is None:
            return ""
        decoding = "greedy" if r.beam_size == 1 else f"beam search, beam {r.beam_size}"
        running = " · updating…" if self.ticket is not None else ""
        return (f"“{r.caption}” — {decoding}, log-probability {r.log_prob:.2f}{running} · "
                f"click a word or use ← → to step")

    def _on_hover(self, x: float, y: float) -> None:
        r = self.result
        if r is None or not len(r):
            return
        cell = patch_at(x, y, r.grid_hw, r.image_hw, r.geometry)
        if cell is not None:
            value = float(r.maps[r.word][cell])
            self.statusMessage.emit(f'"{r.words[r.word]}" attends {value:.1%} to cell {cell}')

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Caption", "caption.png", self.export_figure, self.message.emit)
