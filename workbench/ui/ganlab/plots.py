"""The GAN lab's live plots: D's surface with the real and generated points and G's gradient
arrows (and its colorbar) over tabs of curves: the D and G losses, G's gradient norm, the same-D
gradient of every loss, and D's Lipschitz readout. Colours come from the lab's figure, so the
screen and an exported figure agree.

The arrows are drawn on an absolute scale by default (``arrow_scale`` data units per unit of
gradient norm, capped at ``ARROW_FRACTION`` of the view), so a vanishing gradient shows as
vanishing arrows; "per frame" rescales every frame so the 95th-percentile arrow has the cap's
length. A reference arrow in the corner is the legend."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QTabWidget, QVBoxLayout, QWidget

from workbench.core import colormaps
from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.ganlab import Snapshot
from workbench.core.ganlab.config import LOSS_LABELS
from workbench.core.ganlab.snapshot import arrow_segments
from workbench.figure.ganlab import (ARROW_COLOR, ARROW_FRACTION, COLORMAP, D_LOSS_COLOR, FAKE_COLOR, G_LOSS_COLOR,
                                     REAL_COLOR, SURFACE_OPACITY)
from workbench.ui.colorbar_widget import ColorbarWidget
from workbench.ui.ganlab.theory_plots import SHORT_NAMES, LipschitzPlot, SaturationPlot, gradient_norm_plot

DEFAULT_ARROW_SCALE = 3.0      # data units of arrow per unit of gradient norm (the default setting: 0.05-0.1)


class LabPlots(QWidget):
    clicked = Signal(float, float)     # a left click on the lab plot, in data coordinates

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot: Snapshot | None = None     # the one drawn
        self.arrow_scale: float | None = DEFAULT_ARROW_SCALE    # None: rescaled every frame
        self.optimal = False           # show D* = p_r / (p_r + p_g) (EBGAN: its optimal energy) rather than D
        # the latest D* with its levels and label (frames without metrics have none)
        self._optimal_d: tuple[np.ndarray, tuple[float, float], str] | None = None
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.surface_item = pg.ImageItem(axisOrder="row-major")
        self.surface_item.setOpacity(SURFACE_OPACITY)
        self.surface_item.setLookupTable(colormaps.lut(COLORMAP))
        self.real_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*REAL_COLOR, 200))
        self.fake_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*FAKE_COLOR, 220))
        self.arrow_item = pg.PlotCurveItem(pen=pg.mkPen(*ARROW_COLOR, 160, width=1), connect="pairs")
        self.key_arrow = pg.PlotCurveItem(pen=pg.mkPen(*ARROW_COLOR, 255, width=2), connect="pairs")
        self.key_text = pg.TextItem(color="k", anchor=(0, 0.5), fill=pg.mkBrush(255, 255, 255, 200))
        for item in (self.surface_item, self.arrow_item, self.real_item, self.fake_item, self.key_arrow,
                     self.key_text):
            self.plot.addItem(item)
        self.plot.addLegend(offset=(5, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
        self.plot.plotItem.legend.addItem(self.real_item, "real")
        self.plot.plotItem.legend.addItem(self.fake_item, "generated")
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.colorbar = ColorbarWidget()
        self._colorbar_shows: tuple[str, tuple[float, float]] | None = None
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.hideButtons()
        self.loss_plot.setLabel("bottom", "step")
        # the key sits in the title: a legend inside the plot would hide the newest losses, which
        # the curves draw at the right-hand end, where a corner legend goes
        self.loss_plot.setTitle(f"<span style='color:{_hex(D_LOSS_COLOR)}'>━ D loss</span>&nbsp;&nbsp;&nbsp;"
                                f"<span style='color:{_hex(G_LOSS_COLOR)}'>━ G loss</span>", size="9pt")
        self.d_curve = self.loss_plot.plot(pen=pg.mkPen(*D_LOSS_COLOR, width=1.5), name="D loss")
        self.g_curve = self.loss_plot.plot(pen=pg.mkPen(*G_LOSS_COLOR, width=1.5), name="G loss")
        self.grad_plot, self.grad_curve = gradient_norm_plot()
        self.saturation = SaturationPlot()
        self.lipschitz = LipschitzPlot()
        self.tabs = TheoryTabs()
        self.tabs.setObjectName("ganLabTheoryTabs")
        for widget, name in [(self.loss_plot, "Losses"), (self.grad_plot, "G gradient"),
                             (self.saturation, "Same D, all losses"), (self.lipschitz, "Lipschitz")]:
            self.tabs.addTab(widget, name)
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot, 1)
        row.addWidget(self.colorbar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setSizes([470, 230])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def show_snapshot(self, snap: Snapshot) -> None:
        x0, x1, y0, y1 = snap.bounds
        if snap.optimal_d is not None or (self.snapshot is not None and self.snapshot.step > snap.step):
            self._optimal_d = None if snap.optimal_d is None else (snap.optimal_d, snap.optimal_levels,
                                                                   snap.optimal_label)
        self._draw_surface(snap)
        self.surface_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        last = self.snapshot
        if last is None or snap.real is not last.real:
            self.real_item.setData(pos=snap.real)
        self.fake_item.setData(pos=snap.fake)
        self._draw_arrows(snap)
        self.d_curve.setData(snap.loss_steps, snap.d_loss)
        self.g_curve.setData(snap.loss_steps, snap.g_loss)
        self._draw_theory(snap)
        if last is None or last.bounds != snap.bounds:
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.snapshot = snap

    def set_optimal(self, optimal: bool) -> None:
        self.optimal = optimal
        if self.snapshot is not None:
            self._draw_surface(self.snapshot)

    def _draw_surface(self, snap: Snapshot) -> None:
        if self.optimal and self._optimal_d is not None:
            image, levels, label = self._optimal_d
        else:
            image, levels, label = snap.surface, snap.surface_levels, snap.surface_label
        self.surface_item.setImage(image, levels=levels, autoLevels=False)
        if self._colorbar_shows != (label, levels):   # repaint only on change
            self._colorbar_shows = (label, levels)
            self.colorbar.set_layer(HeatmapLayer(name=label, colormap=COLORMAP, levels=levels))
            self.plot.setTitle(f"surface: {label}", color="k", size="10pt")

    def set_arrow_scale(self, scale: float | None) -> None:
        self.arrow_scale = scale
        if self.snapshot is not None:
            self._draw_arrows(self.snapshot)

    def _draw_arrows(self, snap: Snapshot) -> None:
        x0, x1, y0, y1 = snap.bounds
        cap = ARROW_FRACTION * (x1 - x0)
        arrows = snap.arrow_segments(cap, scale=self.arrow_scale)
        self.arrow_item.setData(arrows[:, 0], arrows[:, 1], connect="pairs")
        if self.arrow_scale is None:      # the key shows the 95th-percentile norm at the cap's length
            norms = np.linalg.norm(snap.fake_grad, axis=1)
            ref = float(np.percentile(norms, 95)) if len(norms) else 0.0
            length, label = cap, f"|grad| {ref:.2g} (rescaled per frame)"
        else:
            ref = _round_down(min(1.0, cap / self.arrow_scale))     # a round gradient that fits the cap
            length, label = ref * self.arrow_scale, f"|grad| {ref:g}  (scale fixed)"
        start = np.array([[x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)]])
        key = snap_arrow(start, length)
        self.key_arrow.setData(key[:, 0], key[:, 1], connect="pairs")
        self.key_text.setText(label)
        self.key_text.setPos(start[0, 0] + length + 0.02 * (x1 - x0), start[0, 1])

    def _draw_theory(self, snap: Snapshot) -> None:
        self.grad_curve.setData(snap.grad_steps, np.maximum(snap.g_grad, 1e-12))
        if snap.saturation is not None:
            self.saturation.set_curves(*snap.saturation)
        loss = snap.config.loss
        probabilistic = snap.surface_label.startswith("D(x) = P")
        verdict = 1 / (1 + np.exp(-snap.fake_output)) if probabilistic else snap.fake_output
        if loss in ("hinge", "wgan-gp", "wgan-clip", "ebgan"):
            verdict = np.full(len(snap.fake_output), np.nan)     # a critic value or energy has no place on [0, 1]
        self.saturation.set_samples(verdict, snap.fake_output_grad, _same_d_text(snap))
        lip = snap.lipschitz
        if lip is not None:
            top = max(2.0, 1.05 * float(lip.line_norms.max(initial=0.0)))    # the GP's target 1 inside
            counts, edges = np.histogram(lip.line_norms, bins=30, range=(0.0, top))
            self.lipschitz.set_readout(lip.layer_norms, lip.raw_layer_norms, edges, counts,
                                       f"Empirical Lipschitz constant of D: {lip.constant:.3g} (grid max "
                                       f"{lip.grid_max:.3g}); product of layer norms{' + 1' if lip.offset else ''} {lip.bound:.3g}; "
                                       f"median |grad D| on real-fake lines {np.median(lip.line_norms):.3g}")

    def show_drawing_area(self) -> None:
        """No target yet: an empty plot of the drawing area."""
        self.real_item.setData(pos=np.zeros((0, 2)))
        self.fake_item.setData(pos=np.zeros((0, 2)))
        self.arrow_item.setData([], [])
        self.plot.setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)

    def _on_click(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            p = self.plot.plotItem.vb.mapSceneToView(ev.scenePos())
            self.clicked.emit(p.x(), p.y())


class TheoryTabs(QTabWidget):
    """The tabs under the lab plot. A modest size hint: the tab's scroll area grows the panel to
    its size hint, and the pages' own hints (two plots side by side) would push it off the window."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(600, 230)


def _same_d_text(snap: Snapshot) -> str:
    loss = snap.config.loss
    if loss == "ebgan":
        return ("EBGAN: L_G = D(G(z)), the energy, so |dL_G/dD| = 1 for every sample (dotted): no sigmoid to "
                f"saturate; median |dL_G/dx| {snap.same_d.get('ebgan', np.nan):.2g} per point. The other losses "
                "need a score, not an energy: not compared on this D.")
    medians = ", ".join(f"{SHORT_NAMES.get(k, k)} {v:.2g}" for k, v in snap.same_d.items())
    ratio = snap.same_d.get("nonsaturating", np.nan) / max(snap.same_d.get("minimax", np.nan), 1e-30)
    return (f"Dots: the current samples under {LOSS_LABELS.get(loss, loss)}. "
            f"Median |dL_G/dx| per point on this D: {medians}. Non-saturating / minimax = {ratio:.3g}")


def _round_down(x: float) -> float:
    """The largest of 1, 2 or 5 times a power of ten that is at most ``x``."""
    power = 10.0 ** np.floor(np.log10(x))
    return next(m * power for m in (5, 2, 1) if m * power <= x * (1 + 1e-9))


def snap_arrow(start: np.ndarray, length: float) -> np.ndarray:
    """A rightward arrow of ``length`` from ``start`` as connect="pairs" segments."""
    return arrow_segments(start, np.array([[1.0, 0.0]]), length, scale=length)


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb[:3])
