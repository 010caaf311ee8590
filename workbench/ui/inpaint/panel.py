"""The Inpaint tab: the mask painted on the main canvas (the workspace's), filled two ways side by side.

Run fills the hole with the context encoder (one forward pass) and by latent optimisation on a
generator (Yeh et al.), whose preview, context loss and prior loss update live every few steps;
Stop keeps the last preview. Both are ``core.inpaint.jobs.inpaint_with`` on the engine, which loads
the model named in the controls, so the tab needs no model loaded. The figure exports both rows with
their losses and the curves; the script redraws their pictures as a grid.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QWidget

from workbench.core.inpaint import masks as M
from workbench.core.inpaint.jobs import inpaint_with
from workbench.core.results import ImageGrid
from workbench.core.results.inpaint import ENCODER, LATENT, Inpainting, hole_tinted
from workbench.figure.inpaint import CONTEXT_COLOR, PRIOR_COLOR, export_inpaintings
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.inpaint.controls import InpaintControls
from workbench.ui.inpaint.preview import MASK, ORIGINAL, InpaintPreview
from workbench.ui.live_tab import LiveTab, status_label
from workbench.ui.loss_plot import LossPlot
from workbench.ui.mask_brush import MaskBrush
from workbench.ui.mask_tools import ask_mask_path, load_mask
from workbench.ui.panel import TAB

KEY = "inpaint-tab"
METHOD = "inpaint"
CONTROLS_WIDTH = 300
IMAGE_TAB = "imageTab"


def grey(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> grey float (H, W) in [0, 1] (ITU-R 601 luma, as the models see it)."""
    rgb = np.asarray(image, np.float32) / 255.0
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


class InpaintPanel(LiveTab):
    title = "Inpaint"
    area = TAB
    object_name = "inpaintTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas: Any = None
        self.brush: MaskBrush | None = None
        self.results: dict[str, Inpainting] = {}
        self.encoder_ticket: Any = None
        self.controls = InpaintControls()
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        self.status = status_label()
        self.preview = InpaintPreview()
        # the legend in one row, in the headroom above the curves
        self.curve = LossPlot("step (latent optimisation, best start)", legend_offset=(-10, 2), legend_columns=2)
        self.context_line = self.curve.add_loss("context loss", CONTEXT_COLOR)
        self.prior_line = self.curve.add_loss("prior loss", PRIOR_COLOR)
        self.lay_out_with_controls(self.preview, self.curve)
        self.controls.paintRequested.connect(self.paint_on_image)
        self.controls.centreRequested.connect(self.centre_hole)
        self.controls.loadRequested.connect(self._load_dialog)
        self.controls.clearRequested.connect(lambda: self.workspace is not None and self.workspace.set_mask(None))
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine, self.canvas = workspace, engine, canvas
        self.brush = MaskBrush.for_canvas(canvas, workspace)
        workspace.imageChanged.connect(self._on_image)
        workspace.maskChanged.connect(lambda _m: self._show_mask())
        workspace.registryChanged.connect(lambda _r: self._refresh())
        self._show_mask()

    # --- reading ----------------------------------------------------------------------
    def missing(self) -> str:
        ws = self.workspace
        if ws is None or ws.registry is None or METHOD not in ws.registry:
            return "Inpainting is not registered (the method list is still loading?)"
        if ws.image is None:
            return "Open an image (e.g. a digit: File ▸ Open Sample)"
        if ws.mask is None or not ws.mask.any():
            return "Paint a hole: Paint on image (or Centre hole, or Load… a mask PNG)"
        return ""

    def current_result(self) -> Any:
        """Both fills as one grid (a row each), for File ▸ Export Result and the script."""
        shown = [self.results[k] for k in (LATENT, ENCODER) if k in self.results]
        if not shown:
            return None
        if len(shown) == 1:
            return shown[0]
        tiles = np.concatenate([np.stack(r.pictures()) for r in shown]).astype(np.float32)
        titles = [t for r in shown for t in r.as_grid().titles]
        return ImageGrid(method=METHOD, model=" + ".join(r.model for r in shown), params=shown[0].params,
                         input=shown[0].input, tiles=tiles, titles=titles,
                         title="inpainting: latent optimisation vs context encoder")

    def script_options(self) -> dict:
        return {"columns": 4}

    # --- actions ----------------------------------------------------------------------
    def set_values(self, values: dict[str, Any]) -> None:
        self.controls.set_values(values)

    def paint_on_image(self) -> None:
        """Turn the mask brush on and bring the Image tab (the main canvas) forward."""
        if self.brush is None:
            return
        if self.workspace.image is None:
            self.message.emit("Open an image first: the mask is painted on it")
            return
        self.brush.set_active(True)
        self.raisePanel.emit(IMAGE_TAB)

    def centre_hole(self) -> None:
        ws = self.workspace
        if ws is None or ws.image is None:
            self.message.emit("Open an image first: the hole is cut in it")
            return
        ws.set_mask(M.centre_square(ws.image.shape))

    def load_mask(self, path: str | Path) -> bool:
        return load_mask(self.workspace, path, self.message.emit)

    def run(self) -> Any:
        """Fill with both: the encoder first (one pass), then the latent optimisation, shown live."""
        if self.refused(self.missing()):
            return None
        ws = self.workspace
        method, values = ws.registry.get(METHOD), self.controls.values()
        image, mask = ws.image, ws.mask.copy()
        self.results = {}
        self.encoder_ticket = self.engine.submit(KEY + ":encoder", inpaint_with, method, self.controls.encoder_id(),
                                                 image, mask, {**values, "fill": ENCODER})
        self.encoder_ticket.done.connect(self._show)
        self.encoder_ticket.failed.connect(lambda text: self.message.emit(f"Context encoder: {text}"))
        ticket = self.live.start(self.engine.submit(KEY + ":latent", inpaint_with, method,
                                                    self.controls.generator_id(), image, mask,
                                                    {**values, "fill": LATENT}))
        self.controls.set_running(True)
        self._refresh()
        return ticket

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        shown = [self.results[k] for k in (LATENT, ENCODER) if k in self.results]
        if not shown:
            raise ValueError(f"nothing to export: {self.missing() or 'press Run first'}")
        return export_inpaintings(shown, path, scale)

    # --- showing ----------------------------------------------------------------------
    def _on_image(self, _image: Any) -> None:
        self.results = {}
        self.result = None
        for key in (LATENT, ENCODER, ORIGINAL):
            self.preview.set_picture(key, None)
        for line in (self.context_line, self.prior_line):
            line.setData([], [])
        self._show_mask()

    def _show_mask(self) -> None:
        ws = self.workspace
        image = None if ws is None else ws.image
        mask = None if ws is None else ws.mask
        holes = 0 if mask is None else int(mask.sum())
        if image is None:
            self.preview.set_picture(MASK, None, "no image")
        else:
            tinted = hole_tinted(grey(image), mask if mask is not None else M.empty_mask(image.shape))
            h, w = image.shape[:2]
            self.preview.set_picture(MASK, tinted, f"{w}×{h}, hole {holes} px" if holes else f"{w}×{h}, no hole yet")
        self.controls.set_mask_text(f"Hole: {holes} px, painted on the Image tab" if holes
                                    else "No hole: paint one on the image", holes > 0)
        self._refresh()

    def _show(self, result: Any) -> None:
        if not isinstance(result, Inpainting):
            return
        self.results[result.fill] = result
        self.result = result
        pictures = result.pictures()
        self.preview.set_picture(result.fill, pictures[2], self._caption(result))
        self.preview.set_picture(ORIGINAL, pictures[3], f"{result.hole_pixels} hole pixels at "
                                 f"{result.original.shape[1]}×{result.original.shape[0]}")
        if result.fill == LATENT:
            self._plot_curves(result)
        self._refresh()

    def _plot_curves(self, result: Inpainting) -> None:
        """The context and prior losses' log10 per step."""
        logs = self.curve.show_losses([(self.context_line, result.context_curve),
                                       (self.prior_line, result.prior_curve)])
        if logs:   # ticks at 1, 2 and 5 per decade; headroom above the curves for the legend
            lo, hi = int(np.floor(min(logs))), int(np.ceil(max(logs)))
            ticks = [(np.log10(m * 10.0 ** k), f"{m * 10.0 ** k:g}") for k in range(lo, hi + 1) for m in (1, 2, 5)]
            self.curve.getAxis("left").setTicks([ticks, []])
            self.curve.setYRange(min(logs) - 0.05, max(logs) + 0.5, padding=0)

    @staticmethod
    def _caption(r: Inpainting) -> str:
        where = f"step {r.step}/{r.steps}, " if r.fill == LATENT else ""
        return f"{r.model} ({where}{r.blend})<br>{r.loss_text()}"

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"Inpainting: {text}")
        self._refresh()

    def _status_text(self) -> str:
        latent = self.results.get(LATENT)
        if latent is None and not self.results:
            return "Running…" if self.running() else "Paint a hole on the image, then press Run"
        parts = [f"{r.fill_name}: {r.loss_text()}" for r in self.results.values()]
        running = " · running…" if self.running() else ""
        return " | ".join(parts) + running

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Inpainting", "inpaint.png", self.export_figure, self.message.emit)

    def _load_dialog(self) -> None:
        path = ask_mask_path(self)
        if path:
            self.load_mask(path)
