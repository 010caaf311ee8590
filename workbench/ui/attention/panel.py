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

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core import colormaps
from workbench.core.canvas_layers import BoxesLayer, ImageLayer, Layer
from workbench.figure import montage
from workbench.figure.render import check_format, export_grid, export_layers, overlay_layers
from workbench.ui.attention import views as V
from workbench.ui.attention.canvas import AttentionCanvas, GridScene, MapScene
from workbench.ui.attention.controls import ATTENTION, GRID, MEAN, MODES, POSITIONAL, ROLLOUT, AttentionControls
from workbench.ui.attention.patches import has_attention_layers, patch_at, patch_box
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel

KEY_PREFIX = "attention-tab:"
NO_VIT = "Load a ViT: zoo:shapes-vit or torchvision:vit_b_16"
NO_MODEL_HINT = f"{NO_VIT}, and an image, to see where it attends"
GRID_COLORMAP = colormaps.UNSIGNED_DEFAULT
QUERY_COLOR = (0, 220, 255)
EXPORT_TILE_SIDE = 48      # figure tiles at least this many pixels across, so the grid is labelled


def no_attention_hint(model_id: str) -> str:
    return f"{model_id} has no attention layers to read. {NO_VIT}"


def attention_key(mode: str) -> str:
    return KEY_PREFIX + mode


class AttentionPanel(Panel):
    title = "Attention"
    area = TAB
    object_name = "attentionTab"

    sceneChanged = Signal()       # the picture was redrawn from new state

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.results: dict[str, Any] = {}        # mode -> the method's result, as it ran
        self.computed_for: dict[str, tuple] = {}  # mode -> the settings it ran with
        self.on_screen: dict[str, Any] = {}      # mode -> the view of it shown (another patch, layer, head)
        self.patches: dict[str, int | None] = {}  # mode -> the picked patch (None: CLS, or the centre)
        self.tickets: dict[str, tuple[Any, tuple]] = {}   # mode -> (ticket, settings) of its run
        self.notes: dict[str, str] = {}          # mode -> why its run failed
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
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.registryChanged.connect(self._on_registry)
        workspace.targetChanged.connect(self._on_target)
        workspace.displayChanged.connect(lambda _options: self._refresh())
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
        ws = self.workspace
        handle = ws.handle if ws is not None else None
        if handle is None:
            return NO_MODEL_HINT
        if not has_attention_layers(handle.module):
            return no_attention_hint(handle.id)
        if ws.image is None:
            return f"Open an image to see where {handle.id} attends"
        mode = self.mode()
        if ws.registry is None or mode not in ws.registry:
            return f"Waiting for the method {mode!r} to be registered"
        if mode in self.notes:
            return f"{MODES[mode]} failed: {self.notes[mode]}"
        return "Reading the attention…" if mode in self.tickets else ""

    # --- actions ----------------------------------------------------------------------
    def run(self, mode: str | None = None) -> Any:
        """Run the mode's method (default: the current mode's) on the workspace; its ticket, or
        None (with a message) when there is nothing to run it on."""
        mode = mode or self.mode()
        ws = self.workspace
        why = self._why_not_runnable(mode)
        if why:
            self.message.emit(why)
            return None
        settings = self._settings(mode)
        ticket = self.engine.run_method(attention_key(mode), ws.registry.get(mode), ws.handle, ws.image,
                                        self._values(mode), ws.target)
        self.tickets[mode] = (ticket, settings)
        self.notes.pop(mode, None)
        ticket.done.connect(self._on_done)
        ticket.failed.connect(self._on_failed)
        ticket.cancelled.connect(self._on_cancelled)
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
            return export_grid(grid, path, scale, columns=view.weights.shape[1], colormap=GRID_COLORMAP)
        return export_layers(self._map_layers(view), path, scale, title=view.title)

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
        if registry is not None and ROLLOUT in registry:
            spec = next((s for s in registry.get(ROLLOUT).param_specs() if s.name == "head_fusion"), None)
            if spec is not None and isinstance(spec.choices, (list, tuple)):
                self.controls.set_fusions(spec.choices)
        self._schedule()

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
    def _why_not_runnable(self, mode: str) -> str:
        ws = self.workspace
        if ws is None or ws.handle is None or ws.image is None:
            return NO_MODEL_HINT
        if not has_attention_layers(ws.handle.module):
            return no_attention_hint(ws.handle.id)
        if ws.registry is None or mode not in ws.registry:
            return f"the method {mode!r} is not registered"
        return ""

    def _settings(self, mode: str) -> tuple:
        """What a mode's result depends on beyond the model and image (a change runs it again)."""
        if mode != ROLLOUT:
            return ()
        values = self.controls.rollout_values()
        return (*values.values(), self.workspace.target if values["gradient"] else None)

    def _values(self, mode: str) -> dict:
        patch = self.patches.get(mode)
        if mode == ROLLOUT:
            return self.controls.rollout_values()
        if mode == POSITIONAL:
            return {"patch": "centre" if patch is None else str(patch)}
        head = self.controls.head()
        return {"layer": self.controls.layer() if self.attention_shape else -1, "head": head if head >= 0 else 0,
                "query": "cls" if patch is None else str(patch)}

    def _schedule(self, *_: Any) -> None:
        """Run the current mode on the next turn of the event loop if it is shown and out of date
        (several changes at once, a new model and its target, run it once)."""
        if not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._run_if_needed)

    def _run_if_needed(self) -> None:
        self._scheduled = False
        mode = self.mode()
        if not self.isVisible() or self._why_not_runnable(mode):
            self._refresh()
            return
        settings = self._settings(mode)
        running = self.tickets.get(mode)
        if (mode in self.results and self.computed_for.get(mode) == settings) or \
                (running is not None and running[1] == settings) or mode in self.notes:
            self._refresh()
            return
        self.run(mode)

    def _sender_mode(self) -> str | None:
        ticket = self.sender()
        return next((m for m, (t, _) in self.tickets.items() if t is ticket), None)

    def _on_done(self, result: Any) -> None:
        mode = self._sender_mode()
        if mode is None:
            return
        _, settings = self.tickets.pop(mode)
        if mode == ATTENTION and not hasattr(result, "at"):
            result = result.channel_heatmap(0)      # every head as a grid: the same weights
        self.results[mode], self.computed_for[mode] = result, settings
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

    def _on_failed(self, text: str) -> None:
        mode = self._sender_mode()
        if mode is not None:
            self.tickets.pop(mode)
            self.notes[mode] = text
            self.message.emit(f"{MODES[mode]}: {text}")
            self._refresh()

    def _on_cancelled(self) -> None:
        mode = self._sender_mode()
        if mode is not None:
            self.tickets.pop(mode)
            self._refresh()

    def _clear(self) -> None:
        for ticket, _ in self.tickets.values():
            ticket.cancel()
        self.results, self.computed_for, self.on_screen, self.tickets, self.notes = {}, {}, {}, {}, {}
        self._refresh()

    # --- picture ----------------------------------------------------------------------
    def _query_marker(self, view: Any) -> list[Layer]:
        patch = V.query_patch(view)
        if patch is None:
            return []
        box = patch_box(*divmod(patch, view.grid_hw[1]), view.grid_hw, view.image_hw, view.geometry)
        return [BoxesLayer(name="query patch", boxes=np.array([box], np.float32), colors=[QUERY_COLOR])]

    def _map_layers(self, view: Any) -> list[Layer]:
        image = ImageLayer(name="image", image=np.asarray(self.workspace.image))
        return [image] + overlay_layers(view, self.workspace.display) + self._query_marker(view)

    def _scene(self) -> MapScene | GridScene | None:
        view = self.shown_map()
        if view is None or self.workspace is None or self.workspace.image is None:
            return None
        if not self.shows_grid():
            return MapScene(self._map_layers(view), view.title)
        grid = V.every_head(view)
        layers, heads = view.weights.shape[:2]
        image = ImageLayer(name="image", image=np.asarray(self.workspace.image))
        return GridScene([image] + self._query_marker(view), f"query: {V.query_name(view)}",
                         montage.tile_images(grid, GRID_COLORMAP), layers, heads,
                         (view.layer, view.head if view.head >= 0 else None), grid.title)

    def _refresh(self) -> None:
        hint = self.hint()
        ready = self.workspace is not None and self.workspace.handle is not None and \
            has_attention_layers(self.workspace.handle.module)
        self.controls.setEnabled(ready)
        self.reset_button.setEnabled(self.shown_map() is not None)
        self.canvas.show_scene(self._scene(), hint)
        self.status.setText(self._status_text(hint))
        self.sceneChanged.emit()

    def _status_text(self, hint: str) -> str:
        view = self.shown_map()
        if view is None:
            return hint
        mode = self.mode()
        what = "click a tile to open that head over the image; click the image to pick the query patch" \
            if self.shows_grid() else "click a patch to see its map"
        running = " · updating…" if mode in self.tickets else ""
        target = f" · target {view.target}: {view.target_label}" if getattr(view, "target", None) is not None else ""
        return f"{view.title}{target}{running} · {what}"

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
