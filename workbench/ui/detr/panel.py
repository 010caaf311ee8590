"""The DETR tab: a set predictor's object queries, where each looks, and how they were matched.

One run of the registered ``detr-attention`` method (on the engine, through the Attention tab's
run path) reads every decoder layer's boxes, classes and cross-attention and every encoder
layer's self-attention; picking a query, a layer, a head, an image token or the object threshold
shows another view of that result (``DetrAttention.at`` / ``at_token``) and runs nothing. A new
model or image runs it again. On a bundled scene (image ``sample:scene-N``) the run also matches
the queries to the scene's true objects.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from workbench.core.model_traits import has_object_queries
from workbench.figure.render import check_format, export_result
from workbench.ui.attention.runs import ModeRuns
from workbench.ui.detr import views as V
from workbench.ui.detr.canvas import DetrCanvas, detr_scene
from workbench.ui.detr.controls import DetrControls
from workbench.ui.detr.tables import MatchingView, QueryTable
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel

METHOD = "detr-attention"
NO_DETR = "Load a DETR (zoo:shapes-detr)"
NO_MODEL_HINT = f"{NO_DETR} and open an image (e.g. File ▸ Samples ▸ scene-3) to see its object queries"


def no_queries_hint(model_id: str) -> str:
    return f"{model_id} has no object queries. {NO_DETR}"


class DetrPanel(Panel):
    title = "DETR"
    area = TAB
    object_name = "detrTab"

    sceneChanged = Signal()       # the picture was redrawn from new state

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.runs = ModeRuns(self)
        self.result: Any = None             # the last run's result, as the method returned it
        self.query: int | None = None       # the picked query (None: the run's best object)
        self.token: int | None = None       # the picked image token (None: show the query)
        self._scheduled = False

        self.controls = DetrControls()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.canvas = DetrCanvas()
        self.query_table = QueryTable()
        self.matching = MatchingView()
        queries_box, matching_box = QGroupBox("Object queries"), QGroupBox("Hungarian matching")
        QVBoxLayout(queries_box).addWidget(self.query_table)
        QVBoxLayout(matching_box).addWidget(self.matching)
        tables = QWidget()
        row = QHBoxLayout(tables)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(queries_box, 1)
        row.addWidget(matching_box, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(tables)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([560, 380])     # the tables show every query of a small DETR
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)

        self.controls.viewChanged.connect(self._refresh)
        self.controls.back_button.clicked.connect(self.show_queries)
        self.controls.export_button.clicked.connect(self._export_dialog)
        self.controls.copy_button.clicked.connect(self.copy_figure)
        self.query_table.queryPicked.connect(self.pick_query)
        self.matching.table.queryPicked.connect(self.pick_query)
        self.canvas.queriesClicked.connect(self._on_queries_clicked)
        self.canvas.mapClicked.connect(self.pick_pixel)
        self.canvas.tileClicked.connect(self.controls.set_head)
        self.canvas.mapHovered.connect(self._on_hovered)
        self.canvas.queriesHovered.connect(self._on_queries_hovered)
        self.canvas.tileHovered.connect(self._on_tile_hovered)
        self.runs.finished.connect(self._on_done)
        self.runs.failed.connect(self._on_failed)
        self.runs.cancelled.connect(lambda _mode: self._refresh())
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.registryChanged.connect(self._schedule)
        self._on_model(workspace.handle)

    # --- reading ----------------------------------------------------------------------
    def view(self) -> Any:
        """What the tab shows: the result at the chosen query (or token), layer, head and threshold."""
        if self.result is None:
            return None
        c = self.controls
        return V.view_of(self.result, c.threshold(), self.query, c.layer(), c.head(), self.token)

    def current_result(self) -> Any:
        return self.view()

    def scene_seed(self) -> int | None:
        """The bundled scene the workspace's image is, by its name (sample:scene-N), else None."""
        return V.scene_seed(self.workspace.image_name) if self.workspace is not None else None

    def hint(self) -> str:
        """Why the tab shows nothing ("" when it shows a result or one is on its way)."""
        missing = self._missing()
        if missing:
            return missing
        if METHOD in self.runs.notes:
            return f"DETR attention failed: {self.runs.notes[METHOD]}"
        return "Reading the queries and their attention…" if self.runs.running(METHOD) else ""

    # --- actions ----------------------------------------------------------------------
    def run(self) -> Any:
        """Run the method on the workspace's model and image; its ticket, or None (with a message)."""
        why = self._missing()
        if why:
            self.message.emit(why)
            return None
        ws = self.workspace
        seed = self.scene_seed()
        values = {"score_threshold": self.controls.threshold(), "scene": -1 if seed is None else seed}
        ticket = self.runs.start(self.engine, METHOD, ws.registry.get(METHOD), ws.handle, ws.image, values,
                                 None, self._settings())
        self._refresh()
        return ticket

    def pick_query(self, query: int) -> None:
        """Show query ``query``'s cross-attention (leaving an encoder token)."""
        if self.result is None:
            raise ValueError("nothing shown yet: the queries appear when the run is done")
        if not 0 <= query < self.result.num_queries:
            raise ValueError(f"query {query}: the model has {self.result.num_queries} object queries")
        self.query, self.token = query, None
        self._refresh()

    def pick_token(self, row: int, col: int) -> None:
        """Show the encoder self-attention of image token (row, col)."""
        if self.result is None:
            raise ValueError("nothing shown yet: the queries appear when the run is done")
        gh, gw = self.result.grid_hw
        if not (0 <= row < gh and 0 <= col < gw):
            raise ValueError(f"token ({row}, {col}) is outside the {gh} x {gw} token grid")
        self.token = row * gw + col
        self._refresh()

    def pick_pixel(self, x: float, y: float) -> None:
        """Show the encoder self-attention of the image token under pixel (x, y)."""
        view = self.view()
        token = None if view is None else V.token_at(view, x, y)
        if token is not None:
            self.pick_token(*divmod(token, view.grid_hw[1]))

    def show_queries(self) -> None:
        """Back from an encoder token to the selected query's cross-attention."""
        self.token = None
        self._refresh()

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The per-query figure (each object query's cross-attention with its box, as in DETR's
        paper), or the token's self-attention over the image; .png at ``scale``, .svg or .pdf."""
        check_format(path)
        view = self.view()
        if view is None:
            raise ValueError(f"nothing to export: {self.hint() or 'no queries shown yet'}")
        return export_result(view, self.workspace.image, path, scale)

    def script_options(self) -> dict:
        """File > Export as Script redraws the map panel: the image, the map and the query's box."""
        view = self.view()
        if view is None:
            return {}
        image = self.workspace.image
        return {"image": image, "layers": V.map_layers(image, view)}

    def copy_figure(self) -> bool:
        """The exported PNG figure onto the clipboard."""
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = self.export_figure(Path(tmp) / "detr.png", 1.0)
            except (OSError, ValueError) as e:
                self.message.emit(f"Could not copy the figure: {e}")
                return False
            QGuiApplication.clipboard().setImage(QImage(str(path)))
        self.statusMessage.emit("Figure copied")
        return True

    # --- workspace --------------------------------------------------------------------
    def _on_model(self, _handle: Any) -> None:
        self.query = self.token = None
        self._clear()
        self._schedule()

    def _on_image(self, _image: Any) -> None:
        self.token = None     # the picked query stays: the same slot on the new image
        self._clear()
        self._schedule()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self._schedule()

    # --- runs -------------------------------------------------------------------------
    def _missing(self) -> str:
        ws = self.workspace
        handle = ws.handle if ws is not None else None
        if handle is None:
            return NO_MODEL_HINT
        if not has_object_queries(handle.module):
            return no_queries_hint(handle.id)
        if ws.image is None:
            return f"Open an image (e.g. File ▸ Samples ▸ scene-3) to see {handle.id}'s object queries"
        if ws.registry is None or METHOD not in ws.registry:
            return f"The method {METHOD!r} is not registered (yet)"
        return ""

    def _settings(self) -> tuple:
        return (self.scene_seed(),)

    def _schedule(self, *_: Any) -> None:
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._run_if_needed)

    def _run_if_needed(self) -> None:
        self._scheduled = False
        if self.isVisible() and not self._missing() and not self.runs.settled(METHOD, self._settings()):
            self.run()
        else:
            self._refresh()

    def _on_done(self, _mode: str, result: Any) -> None:
        first = self.result is None or self.result.weights.shape[:2] != result.weights.shape[:2]
        self.result = result
        if first:
            self.controls.set_shape(result.layers, result.weights.shape[1], layer=result.layers - 1)
        self._refresh()

    def _on_failed(self, _mode: str, text: str) -> None:
        self.message.emit(f"DETR attention: {text}")
        self._refresh()

    def _clear(self) -> None:
        self.runs.clear()
        self.result = None
        self._refresh()

    # --- picture and tables -----------------------------------------------------------
    def _refresh(self) -> None:
        view = self.view()
        handle = self.workspace.handle if self.workspace is not None else None
        ready = handle is not None and has_object_queries(handle.module)
        self.controls.setEnabled(ready)
        self.controls.follow_focus(view is not None and view.focus == "token")
        for button in (self.controls.export_button, self.controls.copy_button):
            button.setEnabled(view is not None)
        image = self.workspace.image if self.workspace is not None else None
        scene = None if view is None or image is None else \
            detr_scene(image, view, self.controls.shows_empty(), self.controls.shows_heads())
        self.canvas.show_scene(scene, self.hint())
        self.query_table.fill(V.query_rows(view) if view is not None else [],
                              view.query if view is not None else None)
        self._show_matching(view)
        self.status.setText(V.status_text(view, self.runs.running(METHOD)) if view is not None else "")
        self.sceneChanged.emit()

    def _show_matching(self, view: Any) -> None:
        ws = self.workspace
        seed = self.scene_seed()
        if view is not None and view.has_ground_truth:
            self.matching.show_matching(view, V.matching_summary(view))
            self.matching.table.select_query(view.query if view.focus == "query" else None)
        elif ws is None or ws.image is None:
            self.matching.show_reason("Open a bundled scene (File ▸ Samples ▸ scene-N) to see the matching.")
        elif seed is None:
            self.matching.show_reason(V.no_ground_truth_reason(ws.image_name))
        elif self.runs.running(METHOD):
            self.matching.show_reason(f"Matching the queries to scene {seed}'s objects…")
        else:
            self.matching.show_reason(f"The matching to scene {seed}'s objects appears with the queries.")

    # --- pointer ----------------------------------------------------------------------
    def _on_queries_clicked(self, x: float, y: float) -> None:
        view = self.view()
        if view is None:
            return
        query = V.query_under(view, x, y, self.controls.shows_empty())
        if query is not None:
            self.pick_query(query)
        else:
            self.pick_pixel(x, y)

    def _on_hovered(self, x: float, y: float) -> None:
        view = self.view()
        token = None if view is None else V.token_at(view, x, y)
        if token is not None:
            r, c = divmod(token, view.grid_hw[1])
            self.statusMessage.emit(f"token ({r}, {c}): {float(view.attribution[r, c]):.4g}")

    def _on_queries_hovered(self, x: float, y: float) -> None:
        view = self.view()
        query = None if view is None else V.query_under(view, x, y, self.controls.shows_empty())
        if query is None:
            self._on_hovered(x, y)
        else:
            self.statusMessage.emit(f"{view.describe_query(query)}: click to show where it looks")

    def _on_tile_hovered(self, head: int) -> None:
        self.statusMessage.emit(f"head {head}: click to show it in the map")

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export DETR queries", "detr-queries.png", self.export_figure, self.message.emit)
