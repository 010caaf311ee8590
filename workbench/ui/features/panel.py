"""The Features tab: what a unit responds to, what a layer keeps of the image, what it dreams.

Three modes, each one method of the registry run on the engine under one key (a new run replaces
the one in flight): activation maximisation (a class, a channel, a unit, or every channel of a
layer), feature inversion from a layer of the current image (or from every layer, with how much of
the image each keeps) and DeepDream from the current image. Every few steps the run's partial
result is shown, with the objective's curve; Stop keeps the last preview.

A channel picked in the Grid tab (right-click on an activation tile) reaches this tab through the
workspace, as that channel's map shown over the image: the tab aims activation maximisation at it
and runs as soon as it is shown.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.core.optimize.picks import picked_channel
from workbench.core.renderers import IMAGE
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.features.controls import ACTMAX, MODES, FeatureControls
from workbench.ui.grid_view import GridView
from workbench.ui.live_tab import LiveTab, status_label
from workbench.ui.panel import TAB

KEY = "features-tab"
NEEDS_IMAGE = ("invert", "dream")
CONTROLS_WIDTH = 310


class FeaturesPanel(LiveTab):
    title = "Features"
    area = TAB
    object_name = "featuresTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pending_pick: tuple[str, int] | None = None   # picked in the grid, not yet visualised

        self.controls = FeatureControls()
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        self.status = status_label()
        self.grid_view = GridView()
        self.curve = pg.PlotWidget()
        self.curve.setFixedHeight(130)
        self.curve.setLabel("bottom", "step")
        self.curve.setLabel("left", "objective")
        self.curve.setMouseEnabled(False, False)
        self.curve.getAxis("left").enableAutoSIPrefix(False)
        # long titles wrap or clip rather than widen the tab past the window
        self.grid_view.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.curve_line = self.curve.plot([], [], pen=pg.mkPen((40, 110, 200), width=2))
        self.lay_out_with_controls(self.grid_view, self.curve)
        self.controls.modeChanged.connect(lambda _mode: self._refresh())
        self.grid_view.tileClicked.connect(self.pick_tile)
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.registryChanged.connect(self._on_registry)
        workspace.view(IMAGE).changed.connect(self._on_image_view)
        self._on_registry(workspace.registry)
        self._on_image_view(workspace.result(IMAGE))

    # --- reading ----------------------------------------------------------------------
    def mode(self) -> str:
        return self.controls.mode()

    def missing(self, mode: str | None = None) -> str:
        """What the mode needs and does not have ("" when it can run)."""
        mode = mode or self.mode()
        ws = self.workspace
        if ws is None or ws.handle is None:
            return "Load a classifier (zoo:shapes-cnn) to see what its units respond to"
        if ws.registry is None or mode not in ws.registry:
            return f"The method {mode!r} is not registered"
        if not ws.registry.get(mode).applies_to(ws.handle.task):
            return f"{MODES[mode]} needs a classifier; {ws.handle.id} is a {ws.handle.task} model"
        if mode in NEEDS_IMAGE and ws.image is None:
            return f"Open an image: {MODES[mode].lower()} starts from it"
        return ""

    # --- actions ----------------------------------------------------------------------
    def run(self) -> Any:
        """Run the current mode with the form's values; its ticket, or None (with a message)."""
        mode = self.mode()
        why = self.missing(mode)
        if self.refused(why):
            return None
        ws = self.workspace
        ticket = self.live.start(self.engine.run_method(KEY, ws.registry.get(mode), ws.handle, ws.image,
                                                        self.controls.values(mode), ws.target))
        self.controls.set_running(True)
        self._refresh()
        return ticket

    def visualise_channel(self, layer: str, channel: int) -> Any:
        """Aim activation maximisation at one channel of ``layer`` and run it."""
        self.controls.pick_channel(layer, channel)
        self._pending_pick = None
        return self.run()

    def pick_tile(self, index: int) -> None:
        """In a grid of every channel or every class, aim at that tile's channel or class (Run shows it alone)."""
        r = self.result
        target = r.params.get("target") if r is not None and r.method == "actmax" else None
        if target == "channels":
            self.controls.pick_channel(r.layer, index)
        elif target == "classes":
            self.controls.set_mode(ACTMAX)
            self.controls.target.set_target("class", index)
        else:
            return
        self.statusMessage.emit(f"{r.titles[index]}: press Run to visualise it alone")

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.result is None:
            raise ValueError(f"nothing to export: {self.missing() or 'run a mode first'}")
        return self.grid_view.export(path, scale)

    def script_options(self) -> dict:
        return {"colormap": self.grid_view.current_colormap(), "shared": self.grid_view.shared.isChecked()}

    # --- workspace --------------------------------------------------------------------
    def _on_registry(self, registry: Any) -> None:
        self.controls.follow_registry(registry, self.workspace.handle if self.workspace else None)
        self._on_model(self.workspace.handle if self.workspace else None, clear=False)

    def _on_model(self, handle: Any, clear: bool = True) -> None:
        if clear:
            self._clear()
        self.controls.set_handle(handle)
        self._refresh()

    def _on_image(self, _image: Any) -> None:
        if self.mode() in NEEDS_IMAGE:
            self._clear()
        self._refresh()

    def _on_image_view(self, result: Any) -> None:
        pick = picked_channel(result)
        if pick is None:
            return
        self._pending_pick = pick
        self.controls.pick_channel(*pick)
        if self.isVisible():
            self.visualise_channel(*pick)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if self._pending_pick is not None and self.workspace is not None and not self.missing(ACTMAX):
            self.visualise_channel(*self._pending_pick)

    # --- runs -------------------------------------------------------------------------
    def _show(self, result: Any) -> None:
        self.result = result
        self.grid_view.set_grid(result.as_grid())
        curve = np.asarray(result.curve, np.float32)
        self.curve_line.setData(np.arange(1, len(curve) + 1), curve)
        self._refresh()

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"{MODES[self.mode()]}: {text}")
        self._refresh()

    def _clear(self) -> None:
        self.live.clear()
        self.controls.set_running(False)
        self.result = None
        self.grid_view.clear()
        self.curve_line.setData([], [])

    # --- words ------------------------------------------------------------------------
    def _status_text(self) -> str:
        r = self.result
        if r is None:
            return "Running…" if self.running() else "Choose a mode and press Run"
        steps = f"step {r.step}/{r.steps}" + (" · running…" if self.running() else "")
        shown = [t for t in r.titles[:4]] + (["…"] if len(r.titles) > 4 else [])
        pick = " · click a tile to aim at it alone" if r.params.get("target") in ("channels", "classes") else ""
        return f"{r.title} · {steps} · {', '.join(shown)}{pick}"

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Features", "features.png", self.export_figure, self.message.emit)
