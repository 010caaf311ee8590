"""GAN lab tab: train a small GAN on 2-D toy data live, watch D's surface, G's gradients, losses
and the measured divergence and mode coverage.

The training lives in core: the panel holds a ``LabSession`` and sends it one engine job per
frame (``train_steps``, key "ganlab"): adopt the current settings, take some steps, return a
Snapshot. At most one frame job is out at a time; what is asked for meanwhile (Step clicks, a
Reset, changed settings) is gathered and sent when it lands, so latest-wins never throws a
frame's steps away. While running, the next frame is sent as soon as one lands and before it
is drawn, so the worker trains while the GUI thread draws. The session is only touched by
those jobs, on the engine's single worker thread.
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMessageBox, QWidget

from workbench.core.atomic import atomic_open
from workbench.core.ganlab import LabConfig, LabSession, Snapshot, lab_curves, train_steps
from workbench.core.ganlab.presets import PRESETS
from workbench.core.results import Curves
from workbench.figure.ganlab import export_lab
from workbench.ui.ganlab.controls import LabControls
from workbench.ui.ganlab.plots import LabPlots
from workbench.ui.panel import TAB, Panel

KEY = "ganlab"
RATE_WINDOW_S = 2.0
METRICS_EVERY_S = 0.25      # while running, frames carry metrics (10,000 samples) at most this often


class GanLabPanel(Panel):
    title = "GAN lab"
    area = TAB
    object_name = "ganLabTab"

    frameShown = Signal(int)       # the training step of the frame just drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = None
        self.session = LabSession()
        self.config = LabConfig()
        self.snapshot: Snapshot | None = None
        self.metrics = None            # the latest measured Metrics, shown until the next
        self.ticket = None             # the frame job in flight
        self._metrics_asked = 0.0
        self.redraws = 0
        self._drawn: list[tuple[float, float]] = []
        self._running = False
        self._pending: tuple[int, bool] | None = None     # (steps, reset) to send when a frame lands
        self._stop_at: int | None = None       # a preset's step count: Run pauses there
        self._rate: deque[tuple[float, int]] = deque()
        self.controls = LabControls(self.config)
        self.plots = LabPlots()
        layout = QHBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.plots, 1)
        c = self.controls
        c.settingsChanged.connect(self._settings_changed)
        c.presetChosen.connect(self.run_preset)
        c.arrowScaleChanged.connect(self.plots.set_arrow_scale)
        c.surfaceChanged.connect(self.plots.set_optimal)
        c.clear_points.clicked.connect(self._clear_drawn)
        c.step_button.clicked.connect(self.step)
        c.run_button.clicked.connect(self.run)
        c.pause_button.clicked.connect(self.pause)
        c.reset_button.clicked.connect(self.reset)
        c.export_button.clicked.connect(self._ask_export)
        self.plots.clicked.connect(self._on_plot_click)
        c.set_running(False)
        c.show_warnings(self.config)

    def bind(self, workspace, engine, canvas) -> None:
        self.engine = engine
        self._request()               # the step-0 frame

    @property
    def lab(self):
        """The session's trainer (for inspection between frames; jobs own it while one runs)."""
        return self.session.lab

    # -- actions ----------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def in_flight(self) -> bool:
        return self.ticket is not None

    def step(self) -> None:
        if not self._running:
            self._request(1)

    def run(self) -> None:
        if not self._running:
            self._set_running(True)
            self._rate.clear()
            self._request(self.controls.steps_per_frame.value())

    def pause(self) -> None:
        self._set_running(False)
        self._stop_at = None

    def run_preset(self, name: str) -> None:
        """Load a preset's settings, start again from step 0 and run to its step count."""
        preset = PRESETS[name]
        self.pause()
        self.controls.show_config(preset.config)
        self.config = preset.config
        self.controls.show_warnings(self.config)
        self.reset()
        self._stop_at = preset.steps
        self._set_running(True)
        self._request(self._frame_steps(0))

    def _frame_steps(self, at: int) -> int:
        """The next frame's steps from step ``at``: steps per frame, short of a preset's end."""
        n = self.controls.steps_per_frame.value()
        return n if self._stop_at is None else max(0, min(n, self._stop_at - at))

    def reset(self) -> None:
        self._rate.clear()
        self._pending = None           # steps asked for before the reset are moot
        self._request(reset=True)

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.controls.set_running(running)

    def _settings_changed(self) -> None:
        self.config = self.controls.config(self.config, tuple(self._drawn))
        self.controls.show_warnings(self.config)
        if not self._running:        # a running lab picks the settings up with its next frame
            self._request()

    def _clear_drawn(self) -> None:
        self._drawn.clear()
        self._settings_changed()

    def _on_plot_click(self, x: float, y: float) -> None:
        if self.config.distribution == "drawn":
            self.add_drawn_point(x, y)

    def add_drawn_point(self, x: float, y: float) -> None:
        self._drawn.append((float(x), float(y)))
        self._settings_changed()

    # -- jobs -------------------------------------------------------------------------------

    def _request(self, steps: int = 0, reset: bool = False) -> None:
        """Ask for a frame of ``steps`` steps (after a reset if asked); merged with what is
        already waiting, and sent now unless a frame is in flight."""
        waiting_steps, waiting_reset = self._pending or (0, False)
        self._pending = (waiting_steps + steps, waiting_reset or reset)
        if self.ticket is None:
            self._send()

    def _send(self) -> None:
        if self._pending is None or self.engine is None:
            return
        (steps, reset), self._pending = self._pending, None
        config = self.config
        if config.distribution == "drawn" and not config.points:
            self._set_running(False)
            self.plots.show_drawing_area()
            self.controls.readout.setText("Click on the plot to add\npoints to the target.")
            return
        now = time.perf_counter()
        with_metrics = reset or not self._running or now - self._metrics_asked >= METRICS_EVERY_S
        if with_metrics:
            self._metrics_asked = now
        # quiet: frames follow each other while running; the lab's own Pause stops them, and the
        # status bar stays still instead of flashing a progress bar for every frame
        ticket = self.engine.submit(KEY, train_steps, self.session, config, steps, reset, with_metrics, quiet=True)
        ticket.done.connect(self._on_done)
        ticket.failed.connect(self._on_failed)
        ticket.cancelled.connect(self._on_cancelled)
        self.ticket = ticket

    def _on_done(self, snapshot: Snapshot) -> None:
        self.ticket = None
        if self._running and self._stop_at is not None and snapshot.step >= self._stop_at \
                and self._pending is None:
            self.pause()                 # a preset's run is complete
        if self._running:
            # train the next frame while this one draws (counting steps already asked for)
            waiting = self._pending[0] if self._pending else 0
            steps = self._frame_steps(snapshot.step + waiting)
            if steps:
                self._request(steps)
            else:
                self._send()
            self.show_snapshot(snapshot)
        else:
            self.show_snapshot(snapshot)
            if snapshot.metrics is None and self._pending is None:
                # paused on a frame trained while running, without metrics: measure it (no steps),
                # so the readout's divergences are those of the step it shows
                self._pending = (0, False)
            self._send()

    def _on_failed(self, message: str) -> None:
        self.ticket = None
        self._set_running(False)
        self.controls.readout.setText(f"training failed:\n{message}")
        self.message.emit(f"GAN lab: {message}")

    def _on_cancelled(self) -> None:
        """Someone else cancelled the frame (the status bar's Cancel): stop running."""
        self.ticket = None
        self._set_running(False)
        self._send()

    # -- drawing ----------------------------------------------------------------------------

    def show_snapshot(self, snap: Snapshot) -> None:
        self.plots.show_snapshot(snap)
        self.snapshot = snap
        if snap.metrics is not None:
            self.metrics = snap.metrics
        self.redraws += 1
        self._rate.append((time.perf_counter(), snap.step))
        while len(self._rate) > 2 and self._rate[-1][0] - self._rate[0][0] > RATE_WINDOW_S:
            self._rate.popleft()
        self.controls.readout.setText(self.readout_text())
        self.frameShown.emit(snap.step)

    def steps_per_second(self) -> float:
        if len(self._rate) < 2 or not self._running:
            return 0.0
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 >= s0 else 0.0

    def readout_text(self, live: bool = True) -> str:
        """Step, rate (``live`` only) and the latest measured divergences and coverage."""
        snap = self.snapshot
        if snap is None:
            return ""
        lines = [f"step        {snap.step}"]
        if live:
            lines.append(f"steps/s     {self.steps_per_second():.0f}" if self._running else "steps/s     paused")
        m = self.metrics
        if m is not None:
            lines += [f"KL(real|G)  {m.kl:.3f}", f"JS          {m.js:.3f}  (max ln 2 = 0.693)",
                      f"TV          {m.tv:.3f}", f"modes       {m.modes_text()}"]
            if m.high_quality is not None:
                lines.append(f"near a mode {100 * m.high_quality:.0f}%")
        if snap.f_bound is not None:     # the divergence an f-GAN's D estimates, beside the measured ones
            lines.append(f"D's bound   {snap.f_bound:.3f}  ({snap.f_label})")
        return "\n".join(lines)

    # -- export -----------------------------------------------------------------------------

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export GAN lab", "ganlab.png",
                                              "Figures (*.png *.svg *.pdf);;Arrays (*.npz)")
        if path:
            try:
                self.export(path)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Export GAN lab", str(exc))

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The lab plot with its colorbar and readout over the loss curves, as .png/.svg/.pdf."""
        if self.snapshot is None:
            raise ValueError("the GAN lab has nothing to export yet: no frame has been trained")
        return export_lab(self.snapshot, path, scale, self.readout_text(live=False))

    def current_result(self) -> Curves | None:
        """The run's losses and measured divergences over steps."""
        return None if self.snapshot is None else lab_curves(self.snapshot)

    def export(self, path: str | Path, scale: float = 1.0) -> Path:
        """A figure (.png/.svg/.pdf), or the current frame's arrays and settings as .npz."""
        path = Path(path)
        if path.suffix.lower() != ".npz":
            return self.export_figure(path, scale)
        if self.snapshot is None:
            raise ValueError("the GAN lab has nothing to export yet: no frame has been trained")
        with atomic_open(path) as fh:
            np.savez_compressed(fh, config=np.asarray(repr(self.snapshot.config)), **self.snapshot.arrays())
        return path
