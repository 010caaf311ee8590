"""A line to type any class of the model by name or index, with completion: the top classes are
in the table above it, every other class is here."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from workbench.core.class_index import checked_class_index


class ClassEntry(QLineEdit):
    chosen = Signal(int)        # a valid class index, typed and confirmed with Enter
    refused = Signal(str)       # why the typed text is not a class of the model

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classEntry")
        self.setPlaceholderText("another class: name or index")
        self.setToolTip("Type a class name or index and press Enter to explain it")
        self.setClearButtonEnabled(True)
        self.workspace: Any = None
        self.returnPressed.connect(self._confirm)
        self.refresh()

    def bind(self, workspace: Any) -> None:
        self.workspace = workspace
        workspace.modelChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Complete the names of the workspace's model; empty and off without a classifier."""
        handle = self.workspace.handle if self.workspace is not None else None
        self.clear()
        if self.completer() is not None:
            self.completer().deleteLater()
        labels = list(getattr(handle, "labels", None) or [])
        completer = QCompleter(labels, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda _text: self._confirm())
        self.setCompleter(completer)
        self.setEnabled(handle is not None and getattr(handle, "task", None) == "classify")

    def class_index(self) -> int:
        """The typed class as an index; a ValueError names what is wrong."""
        text = self.text().strip()
        handle = self.workspace.handle if self.workspace is not None else None
        if handle is None:
            raise ValueError("load a model before choosing a class")
        if not text:
            raise ValueError("type a class name or index")
        index = handle.class_index(text.split(":")[0].strip() if ":" in text else text)
        return checked_class_index(index, len(handle.labels) if handle.labels else None)

    def _confirm(self) -> None:
        try:
            index = self.class_index()
        except ValueError as e:
            self.refused.emit(str(e))
            return
        self.chosen.emit(index)
