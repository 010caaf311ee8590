"""The Compare tab: several attribution methods on one image and target, side by side.

It offers every registered method of kind "attribution" for the model's task (plugins
included). Each checked method runs on the engine under its own key ``compare:<method>`` (so
the runs do not supersede each other) and its cell fills in when its ticket is done. The
model, image, target and display options come from the workspace; a new target re-runs the
comparison on screen. Cells are painted by ``workbench.figure.compare``, which also writes
the exported figure.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QFontInfo, QPainter
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.attribution.display import DisplayOptions, compare_levels, display_layer
from workbench.core.attribution.methods import attribution_methods
from workbench.figure.compare import CompareCell, CompareLayout, bar_width, export_compare, fit_layout, paint_compare
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel
from workbench.ui.panel_canvas import PanelCanvas

KEY_PREFIX = "compare:"
DEFAULT_METHODS = ("saliency", "integrated-gradients", "gradcam", "occlusion")
CHECKBOX_COLUMNS = 3
HINT = "Choose methods and press Compare to see them side by side"
NO_MODEL_HINT = "Load a model and an image, choose methods and press Compare to see them side by side"


def compare_key(method: str) -> str:
    return KEY_PREFIX + method


def no_methods_hint(task: str) -> str:
    """Why the tab is empty for a model that no attribution method applies to."""
    return (f"Nothing to compare for a {task} model: attribution methods explain the classes of a "
            "classifier, and none of those registered applies to this task")


def other_task_hint(task: str) -> str:
    return f"{HINT}. Most attribution methods explain a classifier's classes: few apply to a {task} model"


class CompareGrid(PanelCanvas):
    """The comparison's cells, laid out to fill the widget as the exported figure lays them out."""

    HINT = HINT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shared = True
        self.setMinimumSize(200, 150)

    def show_cells(self, image: Any, cells: list[CompareCell], shared: bool, hint: str) -> None:
        self.shared, self.HINT = shared, hint
        self.show_panels(image, cells)

    def current_layout(self) -> CompareLayout | None:
        if self.base_image is None or not self.panels:
            return None
        font_px = float(QFontInfo(self.font()).pixelSize())
        h, w = self.base_image.shape[:2]
        return fit_layout(len(self.panels), (w, h), (self.width(), self.height()), font_px,
                          bar_width(self.panels, font_px), self.shared)

    def cell_rect(self, index: int) -> QRectF:
        """A cell's image rectangle in widget coordinates."""
        layout = self.current_layout()
        if layout is None or not 0 <= index < len(layout.panels):
            raise IndexError(f"no cell {index}")
        return layout.panels[index].translated(self.offset(layout))

    def paint_layout(self, painter: QPainter, layout: CompareLayout, text: QColor) -> None:
        paint_compare(painter, layout, self.base_image, self.panels, text)


class ComparePanel(Panel):
    title = "Compare"
    area = TAB
    object_name = "compareTab"

    cellsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.methods: list[str] = []          # the comparison shown, in cell order
        self.results: dict[str, Any] = {}     # method name -> Heatmap
        self.notes: dict[str, str] = {}       # method name -> what its cell says while empty
        self.tickets: dict[str, Any] = {}     # method name -> the ticket of its current run
        self.checks: dict[str, QCheckBox] = {}

        self.check_grid = QGridLayout()
        self.check_grid.setContentsMargins(0, 0, 0, 0)
        self.check_grid.setColumnStretch(CHECKBOX_COLUMNS, 1)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareButton")
        self.export_button = QPushButton("Export…")
        self.status = QLabel()
        self.grid = CompareGrid()
        bar = QHBoxLayout()
        bar.addLayout(self.check_grid, 1)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.grid, 1)
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.export_button.clicked.connect(self._export_dialog)
        self._refresh_checks()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.registryChanged.connect(self._on_registry)
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.targetChanged.connect(self._on_target)
        workspace.displayChanged.connect(self._on_display)
        self._refresh_checks()
        self._refresh_cells()

    # --- state ---------------------------------------------------------------------
    @property
    def options(self) -> DisplayOptions:
        return self.workspace.display if self.workspace is not None else DisplayOptions()

    def checked_methods(self) -> list[str]:
        return [name for name, box in self.checks.items() if box.isChecked()]

    def set_checked(self, names: list[str] | tuple[str, ...]) -> None:
        unknown = set(names) - set(self.checks)
        if unknown:
            raise KeyError(f"not available for comparison: {', '.join(sorted(unknown))}")
        for name, box in self.checks.items():
            box.setChecked(name in names)

    def cells(self) -> list[CompareCell]:
        """What each cell shows now: a layer with the comparison's levels, or a note."""
        done = [n for n in self.methods if n in self.results]
        levels = dict(zip(done, compare_levels([self.results[n].heatmap for n in done], self.options)))
        out = []
        for name in self.methods:
            title = self._title(name)
            if name in levels:
                layer = display_layer(title, self.results[name].heatmap, self.options, levels[name])
                out.append(CompareCell(title, layer))
            else:
                out.append(CompareCell(title, None, self.notes.get(name, "")))
        return out

    def hint(self) -> str:
        """What the empty tab says: what to do, or why nothing can be compared for this model."""
        handle = self.workspace.handle if self.workspace is not None else None
        if handle is None or self.workspace.image is None:
            return NO_MODEL_HINT
        if self._none_applies():
            return no_methods_hint(handle.task)
        return HINT if handle.task == "classify" else other_task_hint(handle.task)

    def current_result(self) -> Any:
        """The first finished cell's Heatmap, in cell order (None before any is done)."""
        return next((self.results[n] for n in self.methods if n in self.results), None)

    # --- actions -------------------------------------------------------------------
    def compare(self, methods: list[str] | None = None) -> None:
        """Run the methods (default: the checked ones) on the workspace's image and target."""
        names = list(self.checked_methods() if methods is None else methods)
        ws = self.workspace
        if ws is None or ws.handle is None or ws.image is None or ws.registry is None:
            self.message.emit("Load a model and an image first")
            return
        if not names:
            self.message.emit("Check at least one method to compare")
            return
        self._cancel_running(keep=names)
        self.methods, self.results, self.tickets = names, {}, {}
        self.notes = {n: "waiting…" for n in names}
        for name in names:
            ticket = self.engine.run_method(compare_key(name), ws.registry.get(name), ws.handle, ws.image,
                                            None, ws.target)
            self.tickets[name] = ticket
            ticket.started.connect(self._on_started)
            ticket.progress.connect(self._on_progress)
            ticket.done.connect(self._on_done)
            ticket.failed.connect(self._on_failed)
            ticket.cancelled.connect(self._on_cancelled)
        self._refresh_cells()

    def clear(self) -> None:
        self._cancel_running()
        self.methods, self.results, self.notes, self.tickets = [], {}, {}, {}
        self._refresh_cells()

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The comparison as one figure (.png at ``scale``, .svg, .pdf), in the columns on screen."""
        if self.workspace is None or self.workspace.image is None or not self.methods:
            why = no_methods_hint(self.workspace.handle.task) if self._none_applies() else "run a comparison first"
            raise ValueError(f"nothing to export: {why}")
        layout = self.grid.current_layout()
        return export_compare(path, self.workspace.image, self.cells(), self.options.shared, scale,
                              layout.columns if layout else None)

    # --- workspace -----------------------------------------------------------------
    def _on_registry(self, _registry: Any) -> None:
        self._refresh_checks()
        self._refresh_cells()

    def _on_model(self, _handle: Any) -> None:
        self._refresh_checks()
        self.clear()

    def _on_image(self, _image: Any) -> None:
        self.clear()

    def _on_target(self, _target: Any) -> None:
        """A new target re-runs the comparison on screen, so every cell explains the same class.

        The runs start on the next turn of the event loop: a new model resets the target just
        before it is announced, and its ``modelChanged`` clears the comparison instead."""
        if not self.methods:
            return
        self._cancel_running()
        self.results, self.tickets = {}, {}
        self.notes = {n: "waiting…" for n in self.methods}
        self._refresh_cells()
        QTimer.singleShot(0, self, self._rerun)

    def _rerun(self) -> None:
        if self.methods and not self.tickets:
            self.compare(self.methods)

    def _on_display(self, _options: DisplayOptions) -> None:
        self._refresh_cells()

    # --- tickets -------------------------------------------------------------------
    def _sender_method(self) -> str | None:
        """The method whose current ticket sent the signal (None: a ticket of an earlier run)."""
        ticket = self.sender()
        return next((name for name, t in self.tickets.items() if t is ticket), None)

    def _note(self, text: str) -> None:
        name = self._sender_method()
        if name is not None and name not in self.results:
            self.notes[name] = text
            self._refresh_cells()

    def _on_started(self) -> None:
        self._note("running…")

    def _on_progress(self, fraction: float, _message: str) -> None:
        self._note(f"running… {fraction:.0%}")

    def _on_failed(self, text: str) -> None:
        self._note(f"failed: {text}")

    def _on_cancelled(self) -> None:
        self._note("cancelled")

    def _on_done(self, result: Any) -> None:
        name = self._sender_method()
        if name is not None:
            self.results[name] = result
            self._refresh_cells()

    # --- internals -----------------------------------------------------------------
    def _none_applies(self) -> bool:
        """A model and the registry are there, and no attribution method applies to the model."""
        ws = self.workspace
        return ws is not None and ws.handle is not None and ws.registry is not None and not self.checks

    def _title(self, name: str) -> str:
        registry = self.workspace.registry if self.workspace is not None else None
        method = registry.get(name) if registry is not None and name in registry else None
        return (method.title or name) if method is not None else name

    def _cancel_running(self, keep: list[str] = ()) -> None:
        for name, ticket in self.tickets.items():
            if name not in keep:
                ticket.cancel()

    def _refresh_cells(self) -> None:
        image = self.workspace.image if self.workspace is not None else None
        self.grid.show_cells(image, self.cells(), self.options.shared, self.hint())
        done, total = len(self.results), len(self.methods)
        target = self.workspace.target if self.workspace is not None else None
        shown = "top prediction" if target is None else self._target_name(target)
        self.status.setText(f"{done} of {total} methods done · target: {shown}" if total else "")
        self.cellsChanged.emit()

    def _target_name(self, target: int) -> str:
        handle = self.workspace.handle
        return f"{target}: {handle.label(target) if handle is not None else target}"

    def _refresh_checks(self) -> None:
        ws = self.workspace
        task = ws.handle.task if ws is not None and ws.handle is not None else None
        methods = attribution_methods(ws.registry if ws is not None else None, task)
        self.compare_button.setEnabled(bool(methods))
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

    def _on_compare_clicked(self) -> None:
        self.compare()

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Comparison", "compare.png", self.export_figure, self.message.emit)
