"""The Attention tab: where a vision transformer looks.

Three modes, each one method of the registry run on the engine under its own key: the attention
of one layer and head (or every layer's heads as a grid) for the CLS token or a clicked patch;
attention rollout (optionally gradient-weighted for the workspace's target); and the similarity
of the learned positional embeddings. A run reads every layer's weights (or the whole rollout or
similarity matrix), so clicking another patch, moving the layer slider or picking a head shows
the result's ``at(...)`` view and runs nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.model_traits import has_attention_layers
from workbench.figure.render import check_format, export_grid, export_layers
from workbench.ui.attention import scenes as S
from workbench.ui.attention import views as V
from workbench.ui.attention.canvas import AttentionCanvas, GridScene, MapScene
from workbench.ui.attention.controls import ATTENTION, GRID, MEAN, MODES, POSITIONAL, AttentionControls
from workbench.ui.attention.patches import patch_at
from workbench.ui.attention.runs import ModeRuns
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel

NO_VIT = "Load a ViT: zoo:shapes-vit or torchvision:vit_b_16"
NO_MODEL_HINT = f"{NO_VIT}, and an image, to see where it attends"
EXPORT_TILE_SIDE = 48      # figure tiles at least this many pixels across, so the grid is labelled


def no_attention_hint(model_id: str) -> str:
    return f"{model_id} has no attention layers to read. {NO_VIT}"


class AttentionPanel(Panel):
    title = "Attention"
    area = TAB
    object_name = "attentionTab"

    sceneChanged = Signal()       # the picture was redrawn from new state

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.runs = ModeRuns(self)
        self.on_screen: dict[str, Any] = {}      # mode -> the view of it shown (another patch, layer, head)
        self.patches: dict[str, int | None] = {}  # mode -> the picked patch (None: CLS, or the centre)
        self.attention_shape: tuple[int, int] | None = None   # (layers, heads) of the model's attention, once read
        self._scheduled = False

        self.controls = AttentionControls()
        self.reset_button = QPushButton("CLS")
        self.reset_button.setToolTip("Show the CLS token's map again (positional similarity: the centre patch)")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.canvas = AttentionCanvas()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addLayout(bottom)
        layout.addWidget(self.canvas, 1)

        self.controls.modeChanged.connect(self._on_mode)
        self.controls.viewChanged.connect(self._on_view)
        self.controls.rolloutChanged.connect(self._schedule)
        self.controls.export_button.clicked.connect(self._export_dialog)
        self.reset_button.clicked.connect(self.reset_query)
        self.canvas.imageClicked.connect(self._on_image_clicked)
        self.canvas.tileClicked.connect(self.pick_tile)
        self.canvas.imageHovered.connect(self._on_image_hovered)
        self.canvas.tileHovered.connect(self._on_tile_hovered)
        self.runs.finished.connect(self._on_done)
        self.runs.failed.connect(self._on_failed)
        self.runs.cancelled.connect(self._redraw)
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.registryChanged.connect(self._on_registry)
        workspace.targetChanged.connect(self._on_target)
        workspace.displayChanged.connect(self._redraw)
        self._on_registry(workspace.registry)
        self._on_model(workspace.handle)

    # --- reading ----------------------------------------------------------------------
    def mode(self) -> str:
        return self.controls.mode()

    def shows_grid(self) -> bool:
        return self.mode() == ATTENTION and self.controls.head() == GRID

    def shown_map(self) -> Any:
        """The map result of the current mode as shown (in the grid: the map a tile opens)."""
        return self.on_screen.get(self.mode())

    def current_result(self) -> Any:
        """What the tab shows: the map, or every layer's heads as an ImageGrid."""
        view = self.shown_map()
        if view is not None and self.shows_grid():
            return V.every_head(view)
        return view

    def hint(self) -> str:
        """Why the tab shows no map ("" when it shows one or one is on its way)."""
        mode = self.mode()
        missing = self._missing(mode)
        if missing:
            return missing
        if mode in self.runs.notes:
            return f"{MODES[mode]} failed: {self.runs.notes[mode]}"
        return "Reading the attention…" if self.runs.running(mode) else ""

    # --- actions ----------------------------------------------------------------------
    def run(self, mode: str | None = None) -> Any:
        """Run the mode's method (default: the current mode's) on the workspace; its ticket, or
        None (with a message) when there is nothing to run it on."""
        mode = mode or self.mode()
        ws = self.workspace
        why = self._missing(mode)
        if why:
            self.message.emit(why)
            return None
        values = self.controls.method_values(mode, self.patches.get(mode), self.attention_shape is not None)
        ticket = self.runs.start(self.engine, mode, ws.registry.get(mode), ws.handle, ws.image, values,
                                 ws.target, self._settings(mode))
        self._refresh()
        return ticket

    def pick_patch(self, row: int, col: int) -> None:
        """Show the map of patch (row, col): its attention, its rollout row, its position's similarity."""
        view = self.shown_map()
        if view is None:
            raise ValueError("nothing shown yet: the map appears when its run is done")
        gh, gw = view.grid_hw
        if not (0 <= row < gh and 0 <= col < gw):
            raise ValueError(f"patch ({row}, {col}) is outside the {gh} x {gw} patch grid")
        mode = self.mode()
        self.patches[mode] = row * gw + col
        self.on_screen[mode] = V.at_patch(view, row * gw + col)
        self._refresh()

    def reset_query(self) -> None:
        """Back to the CLS token (positional similarity: the centre patch)."""
        mode, view = self.mode(), self.shown_map()
        self.patches[mode] = None
        if view is not None:
            self.on_screen[mode] = V.at_start(view)
        self._refresh()

    def pick_tile(self, index: int) -> None:
        """Open grid tile ``index`` (row by row: a row per layer) as that head's map over the image."""
        view = self.on_screen.get(ATTENTION)
        if view is None:
            return
        layers, heads = view.weights.shape[:2]
        if not 0 <= index < layers * heads:
            raise IndexError(f"tile {index} out of range ({layers} layers x {heads} heads)")
        layer, head = divmod(index, heads)
        self.controls.set_layer(layer)
        self.controls.set_head(head)

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """What the tab shows: the map over the image (.png at ``scale``, .svg, .pdf), or the heads grid."""
        check_format(path)
        view = self.shown_map()
        if view is None:
            raise ValueError(f"nothing to export: {self.hint() or 'no map shown yet'}")
        if self.shows_grid():
            grid = V.enlarged(V.every_head(view), EXPORT_TILE_SIDE)
            return export_grid(grid, path, scale, columns=view.weights.shape[1], colormap=S.GRID_COLORMAP)
        return export_layers(S.map_layers(self.workspace.image, view, self.workspace.display), path, scale,
                             title=view.title)

    def script_options(self) -> dict:
        """File > Export as Script draws what is shown: the map's layers as here, or the grid's tiles
        coloured and laid out as here."""
        view = self.shown_map()
        if view is None:
            return {}
        if self.shows_grid():
            return {"colormap": S.GRID_COLORMAP, "columns": view.weights.shape[1]}
        image = self.workspace.image
        return {"image": image, "layers": S.map_layers(image, view, self.workspace.display)}

    # --- workspace --------------------------------------------------------------------
    def _on_model(self, _handle: Any) -> None:
        self._clear()
        self.patches, self.attention_shape = {}, None
        self.controls.set_shape(1, 0, layer=0)
        self._schedule()

    def _on_image(self, _image: Any) -> None:
        self._clear()
        self._schedule()

    def _on_registry(self, registry: Any) -> None:
        self.controls.follow_registry(registry)
        self._schedule()

    def _redraw(self, *_: Any) -> None:
        self._refresh()

    def _on_target(self, _target: Any) -> None:
        self._schedule()   # a gradient rollout explains the target: its settings changed

    def _on_mode(self, mode: str) -> None:
        self.reset_button.setText("Centre" if mode == POSITIONAL else "CLS")
        self._refresh()
        self._schedule()

    def _on_view(self) -> None:
        view = self.on_screen.get(ATTENTION)
        if view is not None:
            head = self.controls.head()
            self.on_screen[ATTENTION] = view.at(layer=self.controls.layer(), head=view.head if head == GRID else head)
        self._refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self._schedule()

    # --- runs -------------------------------------------------------------------------
    def _missing(self, mode: str) -> str:
        """What the mode needs and does not have ("" when it can run)."""
        ws = self.workspace
        handle = ws.handle if ws is not None else None
        if handle is None:
            return NO_MODEL_HINT
        if not has_attention_layers(handle.module):
            return no_attention_hint(handle.id)
        if ws.image is None:
            return f"Open an image to see where {handle.id} attends"
        if ws.registry is None or mode not in ws.registry:
            return f"The method {mode!r} is not registered (yet)"
        return ""

    def _settings(self, mode: str) -> tuple:
        return self.controls.settings(mode, self.workspace.target)

    def _schedule(self, *_: Any) -> None:
        """Run the current mode on the next turn of the event loop if it is shown and out of date
        (several changes at once, a new model and its target, run it once)."""
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._run_if_needed)

    def _run_if_needed(self) -> None:
        self._scheduled = False
        mode = self.mode()
        if self.isVisible() and not self._missing(mode) and not self.runs.settled(mode, self._settings(mode)):
            self.run(mode)
        else:
            self._refresh()

    def _on_done(self, mode: str, result: Any) -> None:
        if mode == ATTENTION and not hasattr(result, "at"):
            result = result.channel_heatmap(0)      # every head as a grid: the same weights
        self.on_screen[mode] = self._view_of(mode, result)
        self._refresh()

    def _view_of(self, mode: str, result: Any) -> Any:
        """The new result shown as the last one was: same patch, layer and head where they exist."""
        patch = self.patches.get(mode)
        gh, gw = result.grid_hw
        view = V.at_patch(result, patch) if patch is not None and patch < gh * gw else V.at_start(result)
        if mode != ATTENTION:
            return view
        shape = tuple(result.weights.shape[:2])
        if shape != self.attention_shape:      # the model's first result: its layers and heads
            self.attention_shape = shape
            self.controls.set_shape(*shape, layer=result.layer)
        head = self.controls.head()
        return view.at(layer=self.controls.layer(), head=MEAN if head == GRID else head)

    def _on_failed(self, mode: str, text: str) -> None:
        self.message.emit(f"{MODES[mode]}: {text}")
        self._refresh()

    def _clear(self) -> None:
        self.runs.clear()
        self.on_screen = {}
        self._refresh()

    # --- picture ----------------------------------------------------------------------
    def _scene(self) -> MapScene | GridScene | None:
        view = self.shown_map()
        if view is None or self.workspace is None or self.workspace.image is None:
            return None
        if self.shows_grid():
            return S.grid_scene(self.workspace.image, view)
        return S.map_scene(self.workspace.image, view, self.workspace.display)

    def _refresh(self) -> None:
        hint = self.hint()
        ready = self.workspace is not None and self.workspace.handle is not None and \
            has_attention_layers(self.workspace.handle.module)
        self.controls.setEnabled(ready)
        self.reset_button.setEnabled(self.shown_map() is not None)
        self.canvas.show_scene(self._scene(), hint)
        self.status.setText(self._status_text())
        self.sceneChanged.emit()

    def _status_text(self) -> str:
        view = self.shown_map()
        if view is None:
            return ""          # the picture says why
        mode = self.mode()
        title = V.every_head(view).title if self.shows_grid() else view.title
        what = "click a tile to open that head over the image; click the image to pick the query patch" \
            if self.shows_grid() else "click a patch to see its map"
        running = " · updating…" if self.runs.running(mode) else ""
        target = f" · target {view.target}: {view.target_label}" if getattr(view, "target", None) is not None else ""
        return f"{title}{target}{running} · {what}"

    # --- pointer ----------------------------------------------------------------------
    def _patch_under(self, x: float, y: float) -> tuple[int, int] | None:
        view = self.shown_map()
        return None if view is None else patch_at(x, y, view.grid_hw, view.image_hw, view.geometry)

    def _on_image_clicked(self, x: float, y: float) -> None:
        patch = self._patch_under(x, y)
        if patch is not None:
            self.pick_patch(*patch)

    def _on_image_hovered(self, x: float, y: float) -> None:
        patch = self._patch_under(x, y)
        if patch is not None:
            value = float(self.shown_map().attribution[patch])
            self.statusMessage.emit(f"patch {patch}: {value:.4g}")

    def _on_tile_hovered(self, index: int) -> None:
        view = self.on_screen.get(ATTENTION)
        if view is not None:
            layer, head = divmod(index, view.weights.shape[1])
            self.statusMessage.emit(f"layer {layer}, head {head}: click to show it over the image")

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Attention", "attention.png", self.export_figure, self.message.emit)
