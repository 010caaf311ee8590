"""The Projector tab: a dataset's features at one layer laid out in 2-D (PCA, t-SNE, UMAP).

The ``embed`` method of the registry runs on the engine; t-SNE's partial layouts redraw the scatter
as it converges, and Stop keeps the last one. Hovering a point shows its image; clicking it shows
its nearest neighbours in feature space beside those in pixel space; double-clicking it (or Open
image) makes it the workbench's image. The lasso selects the points it encloses and says what
they are. Export: the scatter as PNG, SVG or PDF (coloured as shown, the lasso's points ringed),
and the coordinates as CSV (with a column for the lasso's points).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QVBoxLayout, QWidget)

from workbench.core.embedding.selection import describe, inside
from workbench.core.results.embedding import COLOUR_BY
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.forms import ParamsForm
from workbench.ui.live_tab import LiveTab, status_label
from workbench.ui.panel import TAB
from workbench.ui.projector.neighbours import NeighbourStrips
from workbench.ui.projector.scatter import EmbeddingScatter

KEY = "projector-tab"
METHOD = "embed"
CONTROLS_WIDTH = 290


class ProjectorPanel(LiveTab):
    title = "Projector"
    area = TAB
    object_name = "projectorTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: int | None = None
        self.lassoed: np.ndarray | None = None     # indices of the points the lasso holds
        self._fit = True

        self.form = ParamsForm()
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.export_button = QPushButton("Export figure…")
        self.csv_button = QPushButton("Export CSV…")
        self.lasso_button = QPushButton("Lasso")
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip("Drag round points to select them (Shift+drag works at any time); Esc clears")
        self.open_button = QPushButton("Open image")
        self.open_button.setToolTip("Make the chosen point's image the workbench's image (or double-click the point)")
        self.colour_box = QComboBox()
        for key in COLOUR_BY:
            self.colour_box.addItem(key, key)
        self.colour_box.setToolTip("Colour the points by their dataset label or by the model's prediction")
        self.note = QLabel()
        self.note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        colour = QFormLayout()
        colour.addRow("Colour by", self.colour_box)
        picks = QHBoxLayout()
        picks.addWidget(self.lasso_button)
        picks.addWidget(self.open_button)
        exports = QHBoxLayout()
        exports.addWidget(self.export_button)
        exports.addWidget(self.csv_button)
        left = QWidget()
        left.setFixedWidth(CONTROLS_WIDTH)
        side = QVBoxLayout(left)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.form)
        side.addLayout(buttons)
        side.addLayout(colour)
        side.addLayout(picks)
        side.addLayout(exports)
        side.addWidget(self.note)
        side.addStretch(1)

        self.status = status_label()
        self.scatter = EmbeddingScatter()
        self.strips = NeighbourStrips()
        self.lasso_text = QLabel()
        self.lasso_text.setWordWrap(True)
        self.lasso_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right = QVBoxLayout()
        right.addWidget(self.status)
        right.addWidget(self.scatter, 1)
        right.addWidget(self.lasso_text)
        right.addWidget(self.strips)
        layout = QHBoxLayout(self)
        layout.addWidget(left)
        layout.addLayout(right, 1)

        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.live.partial.connect(self._show)
        self.live.done.connect(self._show)
        self.live.progress.connect(self._on_progress)
        self.live.failed.connect(self._on_failed)
        self.live.cancelled.connect(lambda: self._refresh(" · stopped"))
        self.export_button.clicked.connect(self._export_dialog)
        self.csv_button.clicked.connect(self._csv_dialog)
        self.colour_box.currentIndexChanged.connect(self._on_colour)
        self.scatter.pointClicked.connect(self.choose)
        self.scatter.pointOpened.connect(self.open_point)
        self.scatter.lassoed.connect(self.lasso)
        self.strips.chosen.connect(self.choose)
        self.lasso_button.toggled.connect(self.scatter.set_lasso_mode)
        self.open_button.clicked.connect(lambda: self.open_point(self.selected))
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        clear.activated.connect(lambda: self.select_points(None))
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_model)
        workspace.registryChanged.connect(self._on_registry)
        self._on_registry(workspace.registry)

    # --- reading ----------------------------------------------------------------------
    def colour_by(self) -> str:
        return self.colour_box.currentData()

    def missing(self) -> str:
        ws = self.workspace
        if ws is None or ws.handle is None:
            return "Load a classifier (zoo:digits-cnn, zoo:shapes-cnn) to lay a dataset out by its features"
        if ws.registry is None or METHOD not in ws.registry:
            return f"The method {METHOD!r} is not registered"
        if not ws.registry.get(METHOD).applies_to(ws.handle.task):
            return f"The projector needs a classifier; {ws.handle.id} is a {ws.handle.task} model"
        return ""

    # --- actions ----------------------------------------------------------------------
    def set_values(self, values: dict[str, Any]) -> None:
        self.form.set_values(values)

    def run(self) -> Any:
        why = self.missing()
        if self.refused(why):
            return None
        ws = self.workspace
        ticket = self.live.start(self.engine.run_method(KEY, ws.registry.get(METHOD), ws.handle, None,
                                                        self.form.values(), None))
        self._fit = True    # a new run: fit the view to its points
        self._refresh()
        return ticket

    def choose(self, index: int | None) -> None:
        """Select point ``index``: ring it, mark and show its nearest neighbours in both spaces."""
        if self.result is None or index is None or not 0 <= index < len(self.result):
            self.selected = None
            self.scatter.mark(None)
            self.strips.show_point(None, None)
            return
        self.selected = int(index)
        near = self.strips.show_point(self.result, self.selected)
        self.scatter.mark(self.selected, near.get("features"))
        self.statusMessage.emit(self.result.name_of(self.selected))
        self._refresh()

    def lasso(self, polygon: np.ndarray) -> np.ndarray:
        """Select the points inside ``polygon`` ((M, 2), the scatter's coordinates); their indices."""
        if self.result is None:
            return np.zeros((0,), np.int64)
        hit = np.flatnonzero(inside(self.result.points, polygon))
        self.select_points(hit if len(hit) else None)
        return hit

    def select_points(self, indices: np.ndarray | None) -> None:
        """The lasso's points (None clears): ringed on the scatter, described below it, a CSV column."""
        self.lassoed = None if indices is None or self.result is None else np.asarray(indices, np.int64)
        self.scatter.mark_lasso(self.lassoed)
        self._refresh()

    def open_point(self, index: int | None) -> None:
        """Make point ``index``'s image the workbench's image."""
        if self.result is None or index is None or self.workspace is None:
            return
        try:
            image, name = self.result.image_of(int(index))
        except (OSError, ValueError) as exc:
            self.message.emit(f"cannot open that image: {exc}")
            return
        self.workspace.set_image(image, name)
        self.statusMessage.emit(f"opened {name}")

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.result is None:
            raise ValueError(f"nothing to export: {self.missing() or 'press Run to lay a dataset out'}")
        from workbench.figure.embedding import export_embedding
        return export_embedding(self.result, None, path, scale, colour_by=self.colour_by(), selected=self.selected,
                                lassoed=self.lassoed)

    def export_csv(self, path: str | Path) -> Path:
        if self.result is None:
            raise ValueError("nothing to export: press Run to lay a dataset out")
        return self.result.write_csv(path, self.lassoed)

    # --- workspace --------------------------------------------------------------------
    def _on_registry(self, registry: Any) -> None:
        method = registry.get(METHOD) if registry is not None and METHOD in registry else None
        self.form.set_params(method.params if method else None)
        self._on_model(self.workspace.handle if self.workspace else None)

    def _on_model(self, handle: Any) -> None:
        self._clear()
        self.form.set_handle(handle)
        self._refresh()

    # --- runs -------------------------------------------------------------------------
    def _show(self, result: Any) -> None:
        fit, self._fit = self._fit, False
        same_points = self.result is not None and len(self.result) == len(result)
        self.result = result
        self._redraw(keep_view=not fit)
        if self.selected is not None and self.selected < len(result):
            self.choose(self.selected)
        self.select_points(self.lassoed if same_points else None)

    def _redraw(self, keep_view: bool = False) -> None:
        self.scatter.set_embedding(self.result, self.colour_by(), keep_view=keep_view)
        if self.selected is not None and self.result is not None:
            self.scatter.mark(self.selected, self.strips.neighbours.get("features"))

    def _on_colour(self, _index: int) -> None:
        self._redraw(keep_view=True)
        self.scatter.mark_lasso(self.lassoed)
        self._refresh()

    def _on_progress(self, fraction: float, text: str = "") -> None:
        self.status.setText(f"{text or f'{100 * fraction:.0f}%'} · running…")

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"Projector: {text}")
        self._refresh()

    def _clear(self) -> None:
        self.live.clear()
        self.result = None
        self.choose(None)
        self.select_points(None)
        self.scatter.set_embedding(None)

    # --- words ------------------------------------------------------------------------
    def _refresh(self, suffix: str = "") -> None:
        hint = self.missing()
        self.note.setText(hint)
        self.run_button.setEnabled(not hint)
        self.stop_button.setEnabled(self.running())
        self.export_button.setEnabled(self.result is not None)
        self.csv_button.setEnabled(self.result is not None)
        self.open_button.setEnabled(self.result is not None and self.selected is not None)
        self.status.setText(self._status_text() + suffix)
        self.lasso_text.setText("" if self.result is None else
                                "Lasso: drag round points (or Shift+drag) to select them" if self.lassoed is None else
                                describe(self.result, self.lassoed, self.colour_by()) + " · Esc clears")

    def _status_text(self) -> str:
        r = self.result
        if r is None:
            return "Running…" if self.running() else "Choose a dataset and a layer and press Run"
        score = "" if r.agreement != r.agreement else f" · {100 * r.agreement:.1f}% of the {r.params.get('k', 10)} " \
                                                       f"nearest neighbours in feature space share the label"
        state = " · running…" if self.running() else ""
        return f"{r.title}{score}{state} · hover a point to see it, click for its neighbours, double-click to open it"

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Projector", "projector.png", self.export_figure, self.message.emit)

    def _csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", "projector.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            self.message.emit(f"wrote {self.export_csv(path)}")
        except (OSError, ValueError) as exc:
            self.message.emit(f"cannot export CSV: {exc}")
