import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.core.results import Curves
from workbench.ui.ganlab.panel import KEY, GanLabPanel
from workbench.ui.panel import Panel

TIMEOUT_MS = 30000


@pytest.fixture
def panel(qtbot, bind):
    p = bind(GanLabPanel)
    p.resize(1000, 700)
    qtbot.waitUntil(lambda: p.snapshot is not None, timeout=TIMEOUT_MS)    # the step-0 frame
    yield p
    p.pause()
    qtbot.waitUntil(lambda: not p.in_flight, timeout=TIMEOUT_MS)


def frame(qtbot, panel, action):
    with qtbot.waitSignal(panel.frameShown, timeout=TIMEOUT_MS) as blocker:
        action()
    return blocker.args[0]


def test_panel_declares_a_tab_and_trains_nothing_before_it_is_bound(qtbot):
    assert issubclass(GanLabPanel, Panel)
    assert (GanLabPanel.title, GanLabPanel.area, GanLabPanel.object_name) == ("GAN lab", "tab", "ganLabTab")
    unbound = GanLabPanel()
    qtbot.addWidget(unbound)
    assert unbound.snapshot is None and unbound.lab is None and not unbound.in_flight
    with pytest.raises(ValueError, match="nothing to export"):
        unbound.export_figure("lab.png")
    assert unbound.current_result() is None


def test_ui_modules_import_no_torch():
    code = ("import sys; import workbench.ui.ganlab.panel; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == "False"


def test_first_frame_shows_the_ring_and_an_untrained_generator(panel):
    snap, plots = panel.snapshot, panel.plots
    assert snap.step == 0 and panel.lab.steps == 0
    x, y = plots.real_item.getData()
    np.testing.assert_allclose(np.hypot(x, y).mean(), 2.0, atol=0.05)
    assert plots.surface_item.image.shape == (64, 64)
    lo, hi = plots.surface_item.levels
    assert (lo, hi) == pytest.approx(snap.surface_levels) and lo + hi == pytest.approx(1.0)   # centred on 0.5
    assert plots.colorbar.levels == pytest.approx((lo, hi)) and plots.colorbar.isVisibleTo(panel)
    text = panel.controls.readout.text()
    assert "step        0" in text and "modes" in text


def test_step_advances_the_count_and_redraws(qtbot, panel):
    plots = panel.plots
    before_fake = plots.fake_item.getData()[0].copy()
    before_surface = plots.surface_item.image.copy()
    assert frame(qtbot, panel, panel.controls.step_button.click) == 1
    assert frame(qtbot, panel, panel.controls.step_button.click) == 2
    assert panel.lab.steps == 2 and panel.redraws == 3
    assert not np.array_equal(plots.fake_item.getData()[0], before_fake)
    assert not np.array_equal(plots.surface_item.image, before_surface)
    steps, d_loss = plots.d_curve.getData()
    np.testing.assert_array_equal(steps, [1, 2])
    np.testing.assert_allclose(d_loss, panel.snapshot.d_loss)
    assert len(plots.arrow_item.getData()[0]) > 0
    assert "step        2" in panel.controls.readout.text()


def test_step_clicks_while_a_frame_is_in_flight_are_not_lost(qtbot, panel):
    for _ in range(3):
        panel.controls.step_button.click()
    qtbot.waitUntil(lambda: panel.snapshot.step == 3 and not panel.in_flight, timeout=TIMEOUT_MS)
    assert panel.lab.steps == 3


def test_run_trains_until_paused_and_reset_returns_to_step_zero(qtbot, panel):
    c = panel.controls
    c.steps_per_frame.setValue(5)
    c.run_button.click()
    assert panel.is_running and not c.step_button.isEnabled()
    qtbot.waitUntil(lambda: panel.snapshot.step >= 15, timeout=TIMEOUT_MS)
    assert panel.snapshot.step % 5 == 0
    c.pause_button.click()
    qtbot.waitUntil(lambda: not panel.in_flight, timeout=TIMEOUT_MS)
    stopped = panel.lab.steps
    qtbot.wait(200)
    assert panel.lab.steps == stopped and panel.snapshot.step == stopped
    first_fake = panel.snapshot.fake.copy()
    assert frame(qtbot, panel, c.reset_button.click) == 0
    assert panel.lab.steps == 0 and len(panel.snapshot.d_loss) == 0
    assert len(panel.plots.d_curve.getData()[0] or []) == 0
    assert not np.allclose(panel.snapshot.fake, first_fake)


def test_loss_combo_changes_the_trainers_loss_and_the_surface(qtbot, panel):
    index = panel.controls.loss.findData("hinge")
    frame(qtbot, panel, lambda: panel.controls.loss.setCurrentIndex(index))
    assert panel.lab.loss.name == "hinge" and panel.lab.config.loss == "hinge"
    assert panel.snapshot.surface_label == "D(x)"          # raw critic values, not a probability
    lo, hi = panel.plots.surface_item.levels       # centred on hinge's boundary 0
    assert lo == pytest.approx(-hi) and np.abs(panel.snapshot.surface).max() <= hi
    assert frame(qtbot, panel, panel.controls.step_button.click) == 1


def test_spectral_norm_and_seed_rebuild_the_networks(qtbot, panel):
    frame(qtbot, panel, panel.controls.step_button.click)
    frame(qtbot, panel, lambda: panel.controls.spectral.setChecked(False))
    assert panel.lab.steps == 0 and not panel.lab.config.spectral_norm
    assert not any("parametrizations" in name for name, _ in panel.lab.d.named_modules())
    fake0 = panel.snapshot.fake.copy()
    frame(qtbot, panel, lambda: panel.controls.seed.setValue(7))
    assert not np.allclose(panel.snapshot.fake, fake0)


def test_drawing_points_makes_them_the_target(qtbot, panel):
    c = panel.controls
    c.distribution.setCurrentIndex(c.distribution.findData("drawn"))
    assert "Click on the plot" in c.readout.text() and c.clear_points.isVisibleTo(panel)
    c.run_button.click()
    assert not panel.is_running              # nothing to train on yet
    frame(qtbot, panel, lambda: panel.add_drawn_point(1.0, 1.0))
    frame(qtbot, panel, lambda: panel.plots.clicked.emit(-1.0, -1.0))    # a click on the plot
    assert panel.lab.toy.name == "drawn" and panel.lab.toy.n_modes == 2
    real = panel.snapshot.real
    near = np.minimum(np.hypot(*(real - [1, 1]).T), np.hypot(*(real + [1, 1]).T))
    assert near.max() < 0.6
    assert "modes       " in c.readout.text() and "/2" in c.readout.text()


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".npz"])
def test_export_writes_the_view(tmp_path, qtbot, panel, suffix):
    frame(qtbot, panel, panel.controls.step_button.click)
    path = panel.export(tmp_path / f"lab{suffix}", scale=1.0)
    assert path.stat().st_size > 1000
    if suffix == ".npz":
        data = np.load(path)
        np.testing.assert_array_equal(data["fake"], panel.snapshot.fake)
        assert int(data["step"]) == 1
    if suffix == ".png":
        img = QImage(str(path))
        assert img.width() > 400 and not img.isNull()
        colours = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
        assert len(colours) > 20                  # the surface, points and curves, not a blank page
    if suffix == ".svg":
        text = path.read_text()
        assert "<svg" in text and "D loss" in text and "generated" in text and "step" in text
    if suffix == ".pdf":
        assert path.read_bytes().startswith(b"%PDF")


def test_export_figure_png_scales_with_the_scale_factor(tmp_path, qtbot, panel):
    frame(qtbot, panel, panel.controls.step_button.click)
    one = QImage(str(panel.export_figure(tmp_path / "one.png", scale=1.0)))
    two = QImage(str(panel.export_figure(tmp_path / "two.png", scale=2.0)))
    assert abs(two.width() - 2 * one.width()) <= 1 and abs(two.height() - 2 * one.height()) <= 1
    assert not panel.isHidden()          # drawn from the snapshot, whatever the window shows
    with pytest.raises(ValueError, match="unsupported format"):
        panel.export_figure(tmp_path / "lab.bmp")


def test_current_result_is_the_runs_curves(qtbot, panel, tmp_path):
    frame(qtbot, panel, panel.controls.step_button.click)
    frame(qtbot, panel, panel.controls.step_button.click)
    result = panel.current_result()
    assert isinstance(result, Curves)
    snap = panel.snapshot
    np.testing.assert_array_equal(result.x, [0, 1, 2])      # metrics at every paused frame, losses from step 1
    np.testing.assert_allclose(result.series["d_loss"][1:], snap.d_loss)
    assert np.isnan(result.series["d_loss"][0])
    np.testing.assert_allclose(result.series["js"][-1], panel.metrics.js)
    assert result.series["modes_covered"][-1] == panel.metrics.modes_covered
    saved = np.load(result.save_npz(tmp_path / "curves.npz"))
    np.testing.assert_allclose(saved["series_g_loss"][1:], snap.g_loss)
    assert '"loss": "nonsaturating"' in str(saved["params"])


def test_only_core_functions_are_submitted(qtbot, panel, monkeypatch):
    sent = []
    real_submit = panel.engine.submit
    monkeypatch.setattr(panel.engine, "submit", lambda key, fn, *a, **k: sent.append((key, fn)) or real_submit(key, fn, *a, **k))
    frame(qtbot, panel, panel.controls.step_button.click)
    assert [(key, fn.__module__) for key, fn in sent] == [(KEY, "workbench.core.ganlab.session")]


def test_cancel_from_elsewhere_stops_the_run(qtbot, panel):
    panel.controls.steps_per_frame.setValue(50)
    panel.controls.run_button.click()
    qtbot.waitUntil(lambda: panel.in_flight, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(panel.ticket.cancelled, timeout=TIMEOUT_MS):
        panel.engine.cancel(KEY)
    assert not panel.is_running and panel.controls.run_button.isEnabled()


def test_lab_figure_fills_its_axes_without_any_widget(tmp_path, qapp):
    from workbench.core.ganlab import LabConfig, LabSession
    from workbench.figure.ganlab import export_lab, lab_layout, loss_range, surface_rgba

    snap = LabSession().train(LabConfig(), 12)
    path = export_lab(snap, tmp_path / "lab.png", scale=1.0)
    img = QImage(str(path))
    fig = lab_layout(snap, "")
    assert (img.width(), img.height()) == (round(fig.size[0]), round(fig.size[1]))
    plot = fig.plot
    rgba = surface_rgba(snap)           # top row is the view's top (max y)
    for (x, y), (row, col) in [((plot.left() + 2, plot.bottom() - 3), (-1, 0)),
                               ((plot.right() - 3, plot.top() + 40), (6, -1)),
                               ((plot.right() - 3, plot.bottom() - 3), (-1, -1))]:
        colour = img.pixelColor(int(x), int(y))
        np.testing.assert_allclose([colour.red(), colour.green(), colour.blue()], rgba[row, col], atol=12)
    assert img.pixelColor(int(plot.right() + 4), int(plot.center().y())).name() == "#ffffff"   # outside: page
    (x0, x1), (y0, y1) = loss_range(snap)
    assert (x0, x1) == (0.0, 12.0)
    values = np.concatenate([snap.d_loss, snap.g_loss])
    span = values.max() - values.min()
    assert y0 < values.min() and y1 > values.max() and (y1 - y0) <= 1.1 * span


# -- theory views and presets ----------------------------------------------------------------

def test_preset_loads_its_settings_runs_to_its_step_count_and_shows_the_gradient_gap(qtbot, panel):
    from workbench.core.ganlab.presets import PRESETS
    c, plots = panel.controls, panel.plots
    preset = PRESETS["vanishing-gradients"]
    c.steps_per_frame.setValue(100)
    c.preset.setCurrentIndex(c.preset.findData("vanishing-gradients"))
    c.preset.activated.emit(c.preset.currentIndex())
    qtbot.waitUntil(lambda: not panel.is_running and not panel.in_flight and panel.snapshot.step == preset.steps,
                    timeout=60000)
    assert panel.lab.steps == preset.steps and panel.config == preset.config
    assert panel.snapshot.metrics is not None and panel.metrics is panel.snapshot.metrics   # measured at its last step
    assert c.loss.currentData() == "minimax" and not c.spectral.isChecked()
    assert "minimax" in c.preset_text.text() and "300 steps" in c.preset_text.text()
    steps, norms = plots.grad_curve.xData, plots.grad_curve.yData     # getData gives log10 on a log axis
    assert len(steps) == preset.steps and norms[-1] < 1e-4 < norms[0]       # vanished on a log axis
    assert plots.grad_plot.plotItem.ctrl.logYCheck.isChecked()
    same_d = panel.snapshot.same_d
    assert same_d["nonsaturating"] / same_d["minimax"] > 1e4
    assert "Non-saturating / minimax" in plots.saturation.readout.text()
    x, y = plots.saturation.curves["minimax"].getData()
    assert len(x) > 100
    sx, _ = plots.saturation.samples.getData()
    assert len(sx) == len(panel.snapshot.fake) and sx.max() < 0.05           # D rejects every sample
    # fixed arrows are as short as the gradient; rescaling per frame makes them long again
    arrows = plots.arrow_item.getData()
    fixed_len = np.abs(np.diff(arrows[0][:2])).max() if len(arrows[0]) else 0.0
    c.arrow_scale.setCurrentIndex(c.arrow_scale.findData(""))
    rel = plots.arrow_item.getData()
    assert plots.arrow_scale is None and np.hypot(*np.diff(np.stack(rel)[:, :2])).item() > 100 * fixed_len
    assert "rescaled per frame" in plots.key_text.toPlainText()


def test_wgan_gp_turns_spectral_norm_off_and_warns_when_it_is_turned_back_on(qtbot, panel):
    c = panel.controls
    assert c.spectral.isChecked() and not c.warning.isVisibleTo(panel)
    frame(qtbot, panel, lambda: c.loss.setCurrentIndex(c.loss.findData("wgan-gp")))
    assert not c.spectral.isChecked() and not panel.lab.config.spectral_norm
    assert not c.warning.isVisibleTo(panel)
    frame(qtbot, panel, lambda: c.spectral.setChecked(True))
    assert c.warning.isVisibleTo(panel) and "diverge" in c.warning.text()
    lip = panel.snapshot.lipschitz
    np.testing.assert_allclose(lip.layer_norms, 1.0, atol=0.03)
    assert "Lipschitz constant" in panel.plots.lipschitz.readout.text()


def test_an_f_gan_reads_out_its_bound_beside_the_measured_divergences(qtbot, panel):
    c = panel.controls
    frame(qtbot, panel, lambda: c.loss.setCurrentIndex(c.loss.findData("fgan-kl")))
    assert frame(qtbot, panel, c.step_button.click) == 1
    snap = panel.snapshot
    assert snap.f_label == "KL(P || Q)" and np.isfinite(snap.f_bound)
    assert f"D's bound   {snap.f_bound:.3f}  (KL(P || Q))" in c.readout.text() and "KL(real|G)" in c.readout.text()
    assert "fgan-kl" not in panel.plots.saturation.curves          # no D(G(z)) axis for an f-GAN


def test_the_surface_combo_shows_the_optimal_discriminator(qtbot, panel):
    c, plots = panel.controls, panel.plots
    c.surface.setCurrentIndex(c.surface.findData("optimal"))
    np.testing.assert_array_equal(plots.surface_item.image, panel.snapshot.optimal_d)
    assert plots.surface_item.levels == pytest.approx((0, 1)) and "D*(x)" in plots.plot.plotItem.titleLabel.text
    c.surface.setCurrentIndex(c.surface.findData("learned"))
    np.testing.assert_array_equal(plots.surface_item.image, panel.snapshot.surface)


def test_ebgan_shows_its_margin_draws_the_energy_and_reads_out_its_tv_bound(qtbot, panel, tmp_path):
    c, plots = panel.controls, panel.plots
    assert not c.form.isRowVisible(c.margin) and not c.form.isRowVisible(c.pull_away)
    frame(qtbot, panel, lambda: c.loss.setCurrentIndex(c.loss.findData("ebgan")))
    assert c.form.isRowVisible(c.margin) and c.form.isRowVisible(c.pull_away)
    assert not c.spectral.isChecked() and not c.warning.isVisibleTo(panel)
    frame(qtbot, panel, lambda: c.margin.setValue(2.0))
    assert frame(qtbot, panel, c.step_button.click) == 1
    snap = panel.snapshot
    assert panel.lab.loss.margin == 2.0 and snap.f_label == "TV >= 1 - L_D/m"
    assert f"D's bound   {snap.f_bound:.3f}  (TV >= 1 - L_D/m)" in c.readout.text() and "TV  " in c.readout.text()
    np.testing.assert_array_equal(plots.surface_item.image, snap.surface)
    assert plots.surface_item.levels == pytest.approx((0, 2)) and plots.colorbar.levels == pytest.approx((0, 2))
    assert "energy ||Dec(Enc(x)) - x||" in plots.plot.plotItem.titleLabel.text
    assert len(plots.arrow_item.getData()[0]) > 0                      # arrows on the fixed scale
    _, flat = plots.saturation.curves["ebgan"].getData()
    np.testing.assert_allclose(flat, 0.0)                               # log10 of |dL_G/dD| = 1
    assert "not compared on this D" in plots.saturation.readout.text()
    assert len(plots.saturation.samples.getData()[0]) == 0              # an energy has no place on [0, 1]
    assert "+ 1" in plots.lipschitz.readout.text()
    c.surface.setCurrentIndex(c.surface.findData("optimal"))          # EBGAN's optimal energy, 0 to m
    np.testing.assert_array_equal(plots.surface_item.image, snap.optimal_d)
    assert plots.surface_item.levels == pytest.approx((0, 2)) and "optimal energy" in plots.plot.plotItem.titleLabel.text
    c.surface.setCurrentIndex(c.surface.findData("learned"))
    frame(qtbot, panel, lambda: c.spectral.setChecked(True))
    assert c.warning.isVisibleTo(panel) and "EBGAN" in c.warning.text()
    frame(qtbot, panel, c.step_button.click)
    png = panel.export_figure(tmp_path / "ebgan.png")
    assert QImage(str(png)).width() > 400
