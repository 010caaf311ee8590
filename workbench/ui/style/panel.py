"""The Style tab: the workspace's image (the content) in the texture of a style image (Gatys et al.),
or the style's texture alone grown from noise.

The tab needs no model loaded: each run is ``core.style.jobs.stylise_with`` on the engine, which loads
the chosen extractor (a model id; the default is the best one here) in the job and keeps it for the next
run. Every few steps the run's partial result is shown: content | style | result, with the Gram (style)
and content losses on a log scale. Stop keeps the last preview; the figure exports as the CLI draws it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from workbench.core.style.jobs import describe_extractor, extractor_choices, stylise_with
from workbench.figure.style import CONTENT_COLOR, STYLE_COLOR, export_style
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.image_io import DIALOG_FILTER
from workbench.ui.live_tab import LiveTab, status_label
from workbench.ui.loss_plot import LossPlot
from workbench.ui.panel import TAB
from workbench.ui.style.controls import StyleControls
from workbench.ui.style.preview import StylePreview

KEY = "style-tab"
EXTRACTORS_KEY = KEY + ":extractors"
DESCRIBE_KEY = KEY + ":describe"
METHOD = "style"
CONTROLS_WIDTH = 330


class StylePanel(LiveTab):
    title = "Style"
    area = TAB
    object_name = "styleTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.controls = StyleControls()
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        self.status = status_label()
        self.preview = StylePreview()
        self.curve = LossPlot("step", legend_offset=(-10, 10))
        self.style_line = self.curve.add_loss("Gram (style) loss", STYLE_COLOR)
        self.content_line = self.curve.add_loss("content loss", CONTENT_COLOR)
        self.lay_out_with_controls(self.preview, self.curve)
        self.controls.openContent.connect(self._open_content)
        self.controls.extractorChanged.connect(self._describe)
        self.controls.mode_box.currentIndexChanged.connect(lambda _i: self._refresh())
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.imageChanged.connect(self._on_image)
        workspace.registryChanged.connect(lambda _r: self._refresh())
        engine.submit(EXTRACTORS_KEY, extractor_choices).done.connect(self._set_extractors)
        self._on_image(workspace.image)

    # --- reading ----------------------------------------------------------------------
    def missing(self) -> str:
        """What a run needs and does not have ("" when it can run)."""
        ws = self.workspace
        if ws is None or ws.registry is None or METHOD not in ws.registry:
            return "Style transfer is not registered (the method list is still loading?)"
        if self.controls.mode() == "transfer" and ws.image is None:
            return "Open an image: it is the content (or choose texture synthesis)"
        return ""

    # --- actions ----------------------------------------------------------------------
    def set_values(self, values: dict[str, Any]) -> None:
        self.controls.set_values(values)

    def run(self) -> Any:
        """Run with the controls' values; its ticket, or None (with a message)."""
        why = self.missing()
        if self.refused(why):
            return None
        ws = self.workspace
        image = ws.image if self.controls.mode() == "transfer" else None
        ticket = self.live.start(self.engine.submit(KEY, stylise_with, ws.registry.get(METHOD),
                                                    self.controls.extractor_id(), image, self.controls.values()))
        self.controls.set_running(True)
        self._refresh()
        return ticket

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.result is None:
            raise ValueError(f"nothing to export: {self.missing() or 'press Run first'}")
        return export_style(self.result, None, path, scale)

    # --- engine and workspace ---------------------------------------------------------
    def _set_extractors(self, ids: list[str]) -> None:
        self.controls.set_extractors(list(ids))
        self._describe(self.controls.extractor_id())

    def _describe(self, model_id: str) -> None:
        if self.engine is None:
            return
        ticket = self.engine.submit(DESCRIBE_KEY, describe_extractor, model_id, quiet=True)
        ticket.done.connect(lambda info: self.controls.set_defaults(info.style_layers, info.content_layer))
        ticket.failed.connect(lambda text: self.message.emit(f"Extractor {model_id}: {text}"))

    def _on_image(self, image: Any) -> None:
        if image is None:
            self.controls.set_content("none open")
        else:
            h, w = np.asarray(image).shape[:2]
            self.controls.set_content(f"open image, {w}×{h}")
        self._refresh()

    def _open_content(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Content Image", "", DIALOG_FILTER)
        if path:
            self.open_content(path)

    def open_content(self, path: str | Path) -> bool:
        """Make the image at ``path`` the workspace's image (the content)."""
        from workbench.core.images import ImageError, load_image
        try:
            image = load_image(path)
        except (ImageError, OSError) as exc:
            self.message.emit(f"Could not open {Path(path).name}: {exc}")
            return False
        self.workspace.set_image(image, str(path))
        return True

    # --- runs -------------------------------------------------------------------------
    def _show(self, result: Any) -> None:
        self.result = result
        self.preview.show_panels(result.panels())
        logs = self.curve.show_losses([(self.style_line, result.style_curve),
                                       (self.content_line, result.content_curve)])
        if logs:   # the losses' log10, labelled at whole decades as the figure is
            lo, hi = int(np.floor(min(logs))), int(np.ceil(max(logs)))
            self.curve.getAxis("left").setTicks([[(k, f"1e{k}") for k in range(lo, max(hi, lo + 1) + 1)], []])
        self._refresh()

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"Style transfer: {text}")
        self._refresh()

    # --- words ------------------------------------------------------------------------
    def _status_text(self) -> str:
        r = self.result
        if r is None:
            return "Running…" if self.running() else "Choose a style and press Run"
        steps = f"step {r.step}/{r.steps}" + (" · running…" if self.running() else "")
        gram = f"Gram loss {r.style_curve[0]:.3g} → {r.style_curve[-1]:.3g}" if len(r.style_curve) else ""
        return f"{r.title} · {steps} · {gram}"

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Style", "style.png", self.export_figure, self.message.emit)
