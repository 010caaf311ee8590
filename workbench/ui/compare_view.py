"""The compare view: several attribution methods on one image and target, side by side.

Each checked method runs on the engine under its own key ``compare:<method>`` (so the runs do
not supersede each other) and its panel fills in when it arrives. Panels are painted by
``workbench.figure.compare``, which also writes the exported figure.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QColor, QFontInfo, QPainter
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.display import DisplayOptions, compare_levels, display_layer
from workbench.figure.compare import ComparePanel, CompareLayout, bar_width, export_compare, fit_layout, paint_compare
from workbench.ui.attribution_dock import attribution_methods
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel_canvas import PanelCanvas

KEY_PREFIX = "compare:"
DEFAULT_METHODS = ("saliency", "integrated-gradients", "gradcam", "occlusion")
CHECKBOX_COLUMNS = 3


def compare_key(method: str) -> str:
    return KEY_PREFIX + method


class ComparePanels(PanelCanvas):
    HINT = "Choose methods and press Compare to see them side by side"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[ComparePanel] = []
        self.shared = True
        self.setMinimumSize(200, 150)

    def show_panels(self, image: np.ndarray | None, panels: list[ComparePanel], shared: bool) -> None:
        self.image, self.panels, self.shared = image, panels, shared
        self.update()

    def current_layout(self) -> CompareLayout | None:
        if self.image is None or not self.panels:
            return None
        font_px = float(QFontInfo(self.font()).pixelSize())
        h, w = self.image.shape[:2]
        return fit_layout(len(self.panels), (w, h), (self.width(), self.height()), font_px,
                          bar_width(self.panels, font_px), self.shared)

    def panel_rect(self, index: int) -> QRectF:
        """A panel's rectangle in widget coordinates."""
        layout = self.current_layout()
        if layout is None or not 0 <= index < len(layout.panels):
            raise IndexError(f"no panel {index}")
        return layout.panels[index].translated(self.offset(layout))

    def paint_layout(self, painter: QPainter, layout: CompareLayout, text: QColor) -> None:
        paint_compare(painter, layout, self.image, self.panels, text)


class CompareView(QWidget):
    panelsChanged = Signal()
    message = Signal(str)

    def __init__(self, engine: QObject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.engine = engine
        self.registry: Any = None
        self.handle: Any = None
        self.image: np.ndarray | None = None
        self.target: int | None = None
        self.options = DisplayOptions()
        self.methods: list[str] = []          # the comparison shown, in panel order
        self.results: dict[str, Any] = {}     # method name -> Heatmap
        self.notes: dict[str, str] = {}       # method name -> what its panel says while empty
        self.checks: dict[str, QCheckBox] = {}

        self.check_grid = QGridLayout()
        self.check_grid.setContentsMargins(0, 0, 0, 0)
        self.check_grid.setColumnStretch(CHECKBOX_COLUMNS, 1)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareButton")
        self.export_button = QPushButton("Export…")
        self.status = QLabel()
        self.canvas = ComparePanels()
        bar = QHBoxLayout()
        bar.addLayout(self.check_grid, 1)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas, 1)

        self.compare_button.clicked.connect(lambda: self.compare())
        self.export_button.clicked.connect(self._export_dialog)
        engine.done.connect(self._on_done)
        engine.started.connect(lambda key: self._on_note(key, "running…"))
        engine.failed.connect(lambda key, text: self._on_note(key, f"failed: {text}"))
        engine.cancelled.connect(lambda key: self._on_note(key, "cancelled"))
        engine.progress.connect(lambda key, f, _m: self._on_note(key, f"running… {f:.0%}"))
        self._refresh_checks()

    # --- inputs --------------------------------------------------------------------
    def set_registry(self, registry: Any) -> None:
        self.registry = registry
        self._refresh_checks()

    def set_model(self, handle: Any) -> None:
        self.handle = handle
        self._refresh_checks()
        self.clear()

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        self.clear()

    def set_target(self, target: int | None) -> None:
        """A new target re-runs the comparison on screen, so every panel explains the same class."""
        changed = target != self.target
        self.target = target
        if changed and self.methods:
            self.compare(self.methods)

    def set_display(self, options: DisplayOptions) -> None:
        self.options = options
        self._refresh_panels()

    def follow(self, dock: Any) -> None:
        """Keep to an AttributionDock's model, image, methods, target and display options."""
        self.set_registry(dock.registry)
        self.set_model(dock.handle)
        self.set_image(dock.image)
        self.set_target(dock.target)
        self.set_display(dock.display_options())
        dock.registryChanged.connect(self.set_registry)
        dock.modelChanged.connect(self.set_model)
        dock.imageChanged.connect(self.set_image)
        dock.targetChanged.connect(self.set_target)
        dock.displayChanged.connect(self.set_display)

    # --- actions -------------------------------------------------------------------
    def checked_methods(self) -> list[str]:
        return [name for name, box in self.checks.items() if box.isChecked()]

    def set_checked(self, names: list[str] | tuple[str, ...]) -> None:
        unknown = set(names) - set(self.checks)
        if unknown:
            raise KeyError(f"not available for comparison: {', '.join(sorted(unknown))}")
        for name, box in self.checks.items():
            box.setChecked(name in names)

    def compare(self, methods: list[str] | None = None) -> None:
        """Run the methods (default: the checked ones) on the image and target, one key each."""
        names = list(self.checked_methods() if methods is None else methods)
        if self.handle is None or self.image is None or self.registry is None:
            self.message.emit("Load a model and an image first")
            return
        if not names:
            self.message.emit("Check at least one method to compare")
            return
        self._cancel_running(keep=names)
        self.methods, self.results = names, {}
        self.notes = {n: "waiting…" for n in names}
        for name in names:
            self.engine.run_method(compare_key(name), self.registry.get(name), self.handle, self.image,
                                   None, self.target)
        self._refresh_panels()

    def clear(self) -> None:
        self._cancel_running()
        self.methods, self.results, self.notes = [], {}, {}
        self._refresh_panels()

    def panels(self) -> list[ComparePanel]:
        """What each panel shows now: a layer with the comparison's levels, or a note."""
        done = [n for n in self.methods if n in self.results]
        levels = dict(zip(done, compare_levels([self.results[n].heatmap for n in done], self.options)))
        out = []
        for name in self.methods:
            title = self._title(name)
            if name in levels:
                out.append(ComparePanel(title, display_layer(title, self.results[name].heatmap, self.options,
                                                             levels[name])))
            else:
                out.append(ComparePanel(title, None, self.notes.get(name, "")))
        return out

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """The comparison as one figure (.png, .svg, .pdf), in the columns shown on screen."""
        if self.image is None or not self.methods:
            raise ValueError("nothing to export: run a comparison first")
        layout = self.canvas.current_layout()
        return export_compare(path, self.image, self.panels(), self.options.shared, scale,
                              layout.columns if layout else None)

    # --- internals -----------------------------------------------------------------
    def _title(self, name: str) -> str:
        method = self.registry.get(name) if self.registry is not None and name in self.registry else None
        return (method.title or name) if method is not None else name

    def _cancel_running(self, keep: list[str] = ()) -> None:
        for name in self.methods:
            if name not in keep:
                self.engine.cancel(compare_key(name))

    def _method_of(self, key: str) -> str | None:
        name = key[len(KEY_PREFIX):] if key.startswith(KEY_PREFIX) else None
        return name if name in self.methods else None

    def _on_done(self, key: str, result: Any) -> None:
        name = self._method_of(key)
        if name is not None:
            self.results[name] = result
            self._refresh_panels()

    def _on_note(self, key: str, text: str) -> None:
        name = self._method_of(key)
        if name is not None and name not in self.results:
            self.notes[name] = text
            self._refresh_panels()

    def _refresh_panels(self) -> None:
        self.canvas.show_panels(self.image, self.panels(), self.options.shared)
        done, total = len(self.results), len(self.methods)
        target = "top prediction" if self.target is None else self._target_name()
        self.status.setText(f"{done} of {total} methods done · target: {target}" if total else "")
        self.panelsChanged.emit()

    def _target_name(self) -> str:
        name = self.handle.label(self.target) if self.handle is not None else str(self.target)
        return f"{self.target}: {name}"

    def _refresh_checks(self) -> None:
        methods = attribution_methods(self.registry, self.handle.task if self.handle is not None else None)
        if [m.name for m in methods] == list(self.checks):
            return
        before = set(self.checked_methods()) if self.checks else set(DEFAULT_METHODS)
        for box in self.checks.values():
            self.check_grid.removeWidget(box)
            box.setParent(None)
        self.checks = {}
        for i, m in enumerate(methods):
            box = QCheckBox(m.name)
            box.setToolTip(m.title or m.name)
            box.setChecked(m.name in before)
            self.check_grid.addWidget(box, *divmod(i, CHECKBOX_COLUMNS))
            self.checks[m.name] = box
        self.compare_button.setEnabled(bool(methods))

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Comparison", "compare.png", self.export, self.message.emit)
