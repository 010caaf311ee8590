"""GAN lab panel: train a small GAN on 2-D toy data live, watch D's surface, G's gradients, losses
and the measured divergence and mode coverage.

Training runs on the engine's worker, one job per frame (key "ganlab"): apply the current
settings, take some steps, return a Snapshot. At most one frame job is out at a time; what is
asked for meanwhile (Step clicks, a Reset, changed settings) is gathered and sent when it lands,
so latest-wins never throws a frame's steps away. While running, the next frame is sent as soon
as one lands and before it is drawn, so the worker trains while the GUI thread draws. The GanLab
object is only ever touched inside those jobs, on the engine's single worker thread.
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout,
                               QHBoxLayout, QLabel, QMessageBox, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from workbench.core import colormaps
from workbench.core.ganlab import LOSSES, GanLab, LabConfig, Metrics, Snapshot
from workbench.core.scene import HeatmapLayer
from workbench.engine import Engine
from workbench.figure.colorbar import paint_colorbar
from workbench.figure.render import check_format, write_figure
from workbench.ui.colorbar_widget import ColorbarWidget

KEY = "ganlab"
DISTRIBUTIONS = {"ring": "Ring of 8 Gaussians", "grid": "Grid of 25 Gaussians", "spiral": "Spiral",
                 "moons": "Two moons", "drawn": "Draw: click the plot"}
COLORMAP = "coolwarm"
REAL_COLOR, FAKE_COLOR, ARROW_COLOR = (0, 150, 60), (110, 40, 170), (40, 40, 40)
ARROW_FRACTION = 0.06       # the longest gradient arrow, as a share of the view's width
RATE_WINDOW_S = 2.0
METRICS_EVERY_S = 0.25      # while running, frames carry metrics (10,000 samples) at most this often


class GanLabPanel(QWidget):
    frameShown = Signal(int)       # the training step of the frame just drawn

    def __init__(self, engine: Engine | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine if engine is not None else Engine(device="cpu", parent=self)
        self.config = LabConfig()
        self.lab: GanLab | None = None     # created and used by jobs on the worker thread
        self.snapshot: Snapshot | None = None
        self.metrics: Metrics | None = None     # the latest measured, shown until the next
        self._metrics_asked = 0.0
        self.redraws = 0
        self._drawn: list[tuple[float, float]] = []
        self._running = False
        self._in_flight = False
        self._pending: tuple[int, bool] | None = None     # (steps, reset) to send when a frame lands
        self._rate: deque[tuple[float, int]] = deque()
        self._build_controls()
        self._build_plots()
        layout = QHBoxLayout(self)
        layout.addWidget(self._controls)
        layout.addWidget(self._plots, 1)
        self.engine.done.connect(self._on_done)
        self.engine.failed.connect(self._on_failed)
        self.engine.cancelled.connect(self._on_cancelled)
        self._update_buttons()
        self._request()

    # -- construction -----------------------------------------------------------------------

    def _build_controls(self) -> None:
        c = self.config
        self.distribution = _combo(DISTRIBUTIONS, c.distribution)
        self.loss = _combo({k: v.label for k, v in LOSSES.items()}, c.loss)
        self.spectral = QCheckBox("on D")
        self.spectral.setChecked(c.spectral_norm)
        self.lr_d, self.lr_g = _lr_box(c.lr_d), _lr_box(c.lr_g)
        self.latent = _spin(1, 8, c.latent_dim)
        self.steps_per_frame = _spin(1, 500, 10)
        self.seed = _spin(0, 2**31 - 1, c.seed)
        self.clear_points = QPushButton("Clear drawn points")
        self.clear_points.setVisible(False)
        form = QFormLayout()
        for label, widget in [("Target", self.distribution), ("", self.clear_points), ("Loss", self.loss),
                              ("Spectral norm", self.spectral), ("D learning rate", self.lr_d),
                              ("G learning rate", self.lr_g), ("Latent dim", self.latent),
                              ("Steps per frame", self.steps_per_frame), ("Seed", self.seed)]:
            form.addRow(label, widget)
        self.step_button, self.run_button = QPushButton("Step"), QPushButton("Run")
        self.pause_button, self.reset_button = QPushButton("Pause"), QPushButton("Reset")
        self.export_button = QPushButton("Export…")
        self.step_button.setToolTip("One training step: a D update (5 critic updates for WGAN-GP), then a G update")
        buttons = QGridLayout()
        for i, b in enumerate([self.step_button, self.run_button, self.pause_button, self.reset_button]):
            buttons.addWidget(b, i // 2, i % 2)
        buttons.addWidget(self.export_button, 2, 0, 1, 2)
        self.readout = QLabel()
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.readout.setFont(mono)
        column = QVBoxLayout()
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.readout)
        column.addStretch(1)
        self._controls = QWidget()
        self._controls.setLayout(column)
        self._controls.setMaximumWidth(320)

        for combo in (self.distribution, self.loss):
            combo.currentIndexChanged.connect(self._settings_changed)
        self.spectral.toggled.connect(self._settings_changed)
        for box in (self.lr_d, self.lr_g, self.latent, self.seed):
            box.valueChanged.connect(self._settings_changed)
        self.clear_points.clicked.connect(self._clear_drawn)
        self.step_button.clicked.connect(self.step)
        self.run_button.clicked.connect(self.run)
        self.pause_button.clicked.connect(self.pause)
        self.reset_button.clicked.connect(self.reset)
        self.export_button.clicked.connect(self._ask_export)

    def _build_plots(self) -> None:
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.surface_item = pg.ImageItem(axisOrder="row-major")
        self.surface_item.setOpacity(0.75)
        self.surface_item.setLookupTable(colormaps.lut(COLORMAP))
        self.real_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*REAL_COLOR, 200))
        self.fake_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*FAKE_COLOR, 220))
        self.arrow_item = pg.PlotCurveItem(pen=pg.mkPen(*ARROW_COLOR, 160, width=1), connect="pairs")
        for item in (self.surface_item, self.arrow_item, self.real_item, self.fake_item):
            self.plot.addItem(item)
        self.plot.addLegend(offset=(5, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
        self.plot.plotItem.legend.addItem(self.real_item, "real")
        self.plot.plotItem.legend.addItem(self.fake_item, "generated")
        self.plot.scene().sigMouseClicked.connect(self._on_plot_click)
        self.colorbar = ColorbarWidget()
        self._colorbar_shows: tuple[str, tuple[float, float]] | None = None
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.hideButtons()
        self.loss_plot.setLabel("bottom", "step")
        # the key sits in the title: a legend inside the plot would hide the newest losses, which
        # the curves draw at the right-hand end, where a corner legend goes
        d_color = (200, 60, 40)
        self.loss_plot.setTitle(f"<span style='color:{_hex(d_color)}'>━ D loss</span>&nbsp;&nbsp;&nbsp;"
                                f"<span style='color:{_hex(FAKE_COLOR)}'>━ G loss</span>", size="9pt")
        self.d_curve = self.loss_plot.plot(pen=pg.mkPen(*d_color, width=1.5), name="D loss")
        self.g_curve = self.loss_plot.plot(pen=pg.mkPen(*FAKE_COLOR, width=1.5), name="G loss")
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot, 1)
        row.addWidget(self.colorbar)
        self._plots = QSplitter(Qt.Orientation.Vertical)
        self._plots.addWidget(top)
        self._plots.addWidget(self.loss_plot)
        self._plots.setSizes([500, 170])

    # -- actions ----------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._running

    def step(self) -> None:
        if not self._running:
            self._request(1)

    def run(self) -> None:
        if not self._running:
            self._running = True
            self._rate.clear()
            self._update_buttons()
            self._request(self.steps_per_frame.value())

    def pause(self) -> None:
        self._running = False
        self._update_buttons()

    def reset(self) -> None:
        self._rate.clear()
        self._pending = None           # steps asked for before the reset are moot
        self._request(reset=True)

    def _settings_changed(self) -> None:
        self.config = self.config.replace(
            distribution=self.distribution.currentData(), points=tuple(self._drawn), loss=self.loss.currentData(),
            spectral_norm=self.spectral.isChecked(), lr_d=self.lr_d.value(), lr_g=self.lr_g.value(),
            latent_dim=self.latent.value(), seed=self.seed.value())
        self.clear_points.setVisible(self.config.distribution == "drawn")
        if not self._running:        # a running lab picks the settings up with its next frame
            self._request()

    def _clear_drawn(self) -> None:
        self._drawn.clear()
        self._settings_changed()

    def _on_plot_click(self, ev) -> None:
        if self.config.distribution != "drawn" or ev.button() != Qt.MouseButton.LeftButton:
            return
        p = self.plot.plotItem.vb.mapSceneToView(ev.scenePos())
        self.add_drawn_point(p.x(), p.y())

    def add_drawn_point(self, x: float, y: float) -> None:
        self._drawn.append((float(x), float(y)))
        self._settings_changed()

    # -- jobs -------------------------------------------------------------------------------

    def _request(self, steps: int = 0, reset: bool = False) -> None:
        """Ask for a frame of ``steps`` steps (after a reset if asked); merged with what is
        already waiting, and sent now unless a frame is in flight."""
        waiting_steps, waiting_reset = self._pending or (0, False)
        self._pending = (waiting_steps + steps, waiting_reset or reset)
        if not self._in_flight:
            self._send()

    def _send(self) -> None:
        if self._pending is None:
            return
        (steps, reset), self._pending = self._pending, None
        config = self.config
        if config.distribution == "drawn" and not config.points:
            self._running = False
            self._update_buttons()
            self._show_drawing_prompt()
            return
        now = time.perf_counter()
        with_metrics = reset or not self._running or now - self._metrics_asked >= METRICS_EVERY_S
        if with_metrics:
            self._metrics_asked = now
        self._in_flight = True
        # quiet: frames follow each other while running; the lab's own Pause stops them, and the
        # status bar stays still instead of flashing a progress bar for every frame
        self.engine.submit(KEY, lambda jc: self._train(jc, config, steps, reset, with_metrics), quiet=True)

    def _train(self, jc, config: LabConfig, steps: int, reset: bool, with_metrics: bool) -> Snapshot:
        """On the worker thread: adopt ``config``, train ``steps`` steps, return a snapshot."""
        if self.lab is None:
            # the CPU whatever the engine's device: networks of a few thousand weights, and the
            # lab's budgets are set and measured there
            self.lab = GanLab(config, device="cpu")
        elif not self.lab.configure(config) and reset:
            self.lab.reset()
        self.lab.step(steps, check=jc.check)
        return self.lab.snapshot(with_metrics)

    def _on_done(self, key: str, snapshot: Snapshot) -> None:
        if key != KEY:
            return
        self._in_flight = False
        if self._running:
            self._request(self.steps_per_frame.value())   # train the next frame while this one draws
            self.show_snapshot(snapshot)
        else:
            self.show_snapshot(snapshot)
            self._send()

    def _on_failed(self, key: str, message: str) -> None:
        if key == KEY:
            self._in_flight = self._running = False
            self._update_buttons()
            self.readout.setText(f"training failed:\n{message}")

    def _on_cancelled(self, key: str) -> None:
        """Someone else cancelled the frame (the status bar's Cancel): stop running."""
        if key == KEY:
            self._in_flight = self._running = False
            self._update_buttons()
            self._send()

    def _update_buttons(self) -> None:
        self.step_button.setEnabled(not self._running)
        self.run_button.setEnabled(not self._running)
        self.pause_button.setEnabled(self._running)

    # -- drawing ----------------------------------------------------------------------------

    def show_snapshot(self, snap: Snapshot) -> None:
        x0, x1, y0, y1 = snap.bounds
        self.surface_item.setImage(snap.surface, levels=snap.surface_levels, autoLevels=False)
        self.surface_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if self._colorbar_shows != (snap.surface_label, snap.surface_levels):   # repaint only on change
            self._colorbar_shows = (snap.surface_label, snap.surface_levels)
            self.colorbar.set_layer(HeatmapLayer(name=snap.surface_label, colormap=COLORMAP, levels=snap.surface_levels))
        if self.snapshot is None or snap.real is not self.snapshot.real:
            self.real_item.setData(pos=snap.real)
        self.fake_item.setData(pos=snap.fake)
        arrows = snap.arrow_segments(ARROW_FRACTION * (x1 - x0))
        self.arrow_item.setData(arrows[:, 0], arrows[:, 1], connect="pairs")
        self.d_curve.setData(snap.loss_steps, snap.d_loss)
        self.g_curve.setData(snap.loss_steps, snap.g_loss)
        if self.snapshot is None or self.snapshot.bounds != snap.bounds:
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        if self.snapshot is None or self.snapshot.surface_label != snap.surface_label:
            self.plot.setTitle(f"surface: {snap.surface_label}", color="k", size="10pt")
        self.snapshot = snap
        if snap.metrics is not None:
            self.metrics = snap.metrics
        self.redraws += 1
        self._rate.append((time.perf_counter(), snap.step))
        while len(self._rate) > 2 and self._rate[-1][0] - self._rate[0][0] > RATE_WINDOW_S:
            self._rate.popleft()
        self.readout.setText(self.readout_text())
        self.frameShown.emit(snap.step)

    def steps_per_second(self) -> float:
        if len(self._rate) < 2 or not self._running:
            return 0.0
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 >= s0 else 0.0

    def readout_text(self) -> str:
        snap = self.snapshot
        if snap is None:
            return ""
        rate = f"{self.steps_per_second():.0f}" if self._running else "paused"
        lines = [f"step        {snap.step}", f"steps/s     {rate}"]
        m = self.metrics
        if m is not None:
            lines += [f"KL(real|G)  {m.kl:.3f}", f"JS          {m.js:.3f}  (max ln 2 = 0.693)",
                      f"TV          {m.tv:.3f}", f"modes       {m.modes_text()}"]
            if m.high_quality is not None:
                lines.append(f"near a mode {100 * m.high_quality:.0f}%")
        return "\n".join(lines)

    def _show_drawing_prompt(self) -> None:
        self.real_item.setData(pos=np.zeros((0, 2)))
        self.fake_item.setData(pos=np.zeros((0, 2)))
        self.arrow_item.setData([], [])
        self.plot.setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
        self.readout.setText("Click on the plot to add\npoints to the target.")

    # -- export -----------------------------------------------------------------------------

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export GAN lab", "ganlab.png",
                                              "Figures (*.png *.svg *.pdf);;Arrays (*.npz)")
        if path:
            try:
                self.export(path)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Export GAN lab", str(exc))

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """The plot, its colorbar, the loss curves and the readout as .png/.svg/.pdf; or the
        snapshot's arrays and settings as .npz."""
        path = Path(path)
        if path.suffix.lower() == ".npz":
            if self.snapshot is None:
                raise ValueError("nothing to export yet")
            np.savez_compressed(path, config=np.asarray(repr(self.snapshot.config)), **self.snapshot.arrays())
            return path
        s = scale if check_format(path) == ".png" else 1.0
        plot, bar, losses = self.plot.size(), self.colorbar.width() if self.colorbar.isVisible() else 0, self.loss_plot.size()
        text, font = self.readout_text(), QFont("monospace", 9)
        text_w = QFontMetricsF(font).boundingRect(QRectF(0, 0, 1000, 1000), 0, text).width() + 20
        w, h = plot.width() + bar + text_w, plot.height() + losses.height()

        def paint(painter: QPainter) -> None:
            painter.scale(s, s)
            self.plot.render(painter, QRectF(0, 0, plot.width(), plot.height()))
            if bar and self.colorbar.levels is not None:
                paint_colorbar(painter, QRectF(plot.width() + 4, 8, bar - 8, plot.height() - 16),
                               self.colorbar.colormap, self.colorbar.levels, 11)
            self.loss_plot.render(painter, QRectF(0, plot.height(), losses.width(), losses.height()))
            painter.setPen(QColor(0, 0, 0))
            painter.setFont(font)
            painter.drawText(QRectF(plot.width() + bar + 8, 8, text_w - 12, h - 16),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), text)

        return write_figure(path, (w * s, h * s), paint, "GAN lab")


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb[:3])


def _combo(choices: dict[str, str], current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in choices.items():
        combo.addItem(label, value)
    combo.setCurrentIndex(list(choices).index(current))
    return combo


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return box


def _lr_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(5)
    box.setRange(1e-5, 0.1)
    box.setSingleStep(1e-4)
    box.setValue(value)
    return box
