"""The workspace as Qt signals: a thin QtCore adapter over ``core.workspace.Workspace``.

Panels connect to these signals (a connection dies with its widget) and read and write the
model through this object, which forwards every attribute to the Qt-free workspace.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core import workspace as W


class QtWorkspace(QObject):
    imageChanged = Signal(object)          # RGB uint8 array
    modelChanged = Signal(object)          # ModelHandle
    registryChanged = Signal(object)       # Registry
    targetChanged = Signal(object)         # class index or None
    selectionChanged = Signal(object)      # detection index or None
    displayChanged = Signal(object)        # attribution DisplayOptions
    layerChanged = Signal(str)             # the model layer the user picked
    resultChanged = Signal(str, object)    # view name, Result (None: the view was cleared)
    maskChanged = Signal(object)           # the painted inpainting mask (bool HxW) or None

    def __init__(self, model: W.Workspace | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model if model is not None else W.Workspace()
        self.model.observe(W.IMAGE, self.imageChanged.emit)
        self.model.observe(W.MODEL, self.modelChanged.emit)
        self.model.observe(W.REGISTRY, self.registryChanged.emit)
        self.model.observe(W.TARGET, self.targetChanged.emit)
        self.model.observe(W.SELECTION, self.selectionChanged.emit)
        self.model.observe(W.DISPLAY, self.displayChanged.emit)
        self.model.observe(W.LAYER, self.layerChanged.emit)
        self.model.observe(W.RESULT, self._on_result)
        self.model.observe(W.MASK, self.maskChanged.emit)
        self._views: dict[str, ViewSignal] = {}

    def view(self, name: str) -> "ViewSignal":
        """The signal of one view alone: ``view("grid").changed`` gets each new grid result."""
        if name not in self._views:
            self._views[name] = ViewSignal(self)
        return self._views[name]

    def _on_result(self, view: str, result: Any) -> None:
        self.resultChanged.emit(view, result)
        if view in self._views:
            self._views[view].changed.emit(result)

    def __getattr__(self, name: str) -> Any:
        # only reached for names QObject does not have: the workspace's state and methods
        if name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)


class ViewSignal(QObject):
    changed = Signal(object)    # the view's new result, or None when it was cleared
