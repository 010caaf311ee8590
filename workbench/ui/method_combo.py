"""A combo box of methods, by name: filled from a list of registered methods, read back by name."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget


class MethodCombo(QComboBox):
    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)

    def fill(self, methods: list[Any], empty_text: str) -> None:
        """Show ``methods`` (title, tooltip = description), keeping the current one where it is still
        there; ``empty_text`` stands in when there are none. Emits currentIndexChanged once."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        for m in methods:
            self.addItem(m.title or m.name, m.name)
            self.setItemData(self.count() - 1, m.description, Qt.ItemDataRole.ToolTipRole)
        if not methods:
            self.addItem(empty_text, None)
        index = self.findData(current) if current else -1
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)
        self.currentIndexChanged.emit(self.currentIndex())

    def names(self) -> list[str]:
        return [self.itemData(i) for i in range(self.count()) if self.itemData(i)]

    def select(self, name: str, what: str = "method") -> None:
        index = self.findData(name)
        if index < 0:
            raise KeyError(f"{what} {name!r} is not available for this model")
        self.setCurrentIndex(index)

    def current(self, registry: Any) -> Any:
        """The chosen method from ``registry``, or None."""
        name = self.currentData()
        return registry.get(name) if name and registry is not None and name in registry else None
