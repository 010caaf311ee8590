import numpy as np
import pytest

from workbench.engine import Engine
from workbench.ui.gan_lab import GanLabPanel

TIMEOUT_MS = 30000


@pytest.fixture
def panel(qtbot):
    engine = Engine(device="cpu")
    p = GanLabPanel(engine)
    qtbot.addWidget(p)
    p.resize(1000, 700)
    with qtbot.waitSignal(p.frameShown, timeout=TIMEOUT_MS):    # the step-0 frame
        pass
    yield p
    p.pause()
    engine.shutdown()


def frame(qtbot, panel, action):
    with qtbot.waitSignal(panel.frameShown, timeout=TIMEOUT_MS) as blocker:
        action()
    return blocker.args[0]


def test_first_frame_shows_the_ring_and_an_untrained_generator(panel):
    snap = panel.snapshot
    assert snap.step == 0 and panel.lab.steps == 0
    x, y = panel.real_item.getData()
    np.testing.assert_allclose(np.hypot(x, y).mean(), 2.0, atol=0.05)
    assert panel.surface_item.image.shape == (64, 64)
    lo, hi = panel.surface_item.levels
    assert (lo, hi) == pytest.approx(snap.surface_levels) and lo + hi == pytest.approx(1.0)   # centred on 0.5
    assert panel.colorbar.levels == pytest.approx((lo, hi)) and panel.colorbar.isVisibleTo(panel)
    assert "step        0" in panel.readout.text() and "modes" in panel.readout.text()


def test_step_advances_the_count_and_redraws(qtbot, panel):
    before_fake = panel.fake_item.getData()[0].copy()
    before_surface = panel.surface_item.image.copy()
    assert frame(qtbot, panel, panel.step_button.click) == 1
    assert frame(qtbot, panel, panel.step_button.click) == 2
    assert panel.lab.steps == 2 and panel.redraws == 3
    assert not np.array_equal(panel.fake_item.getData()[0], before_fake)
    assert not np.array_equal(panel.surface_item.image, before_surface)
    steps, d_loss = panel.d_curve.getData()
    np.testing.assert_array_equal(steps, [1, 2])
    np.testing.assert_allclose(d_loss, panel.snapshot.d_loss)
    assert len(panel.arrow_item.getData()[0]) > 0
    assert "step        2" in panel.readout.text()


def test_step_clicks_while_a_frame_is_in_flight_are_not_lost(qtbot, panel):
    panel.step_button.click()
    panel.step_button.click()
    panel.step_button.click()
    qtbot.waitUntil(lambda: panel.snapshot.step == 3 and not panel._in_flight, timeout=TIMEOUT_MS)
    assert panel.lab.steps == 3


def test_run_trains_until_paused_and_reset_returns_to_step_zero(qtbot, panel):
    panel.steps_per_frame.setValue(5)
    panel.run_button.click()
    assert panel.is_running and not panel.step_button.isEnabled()
    qtbot.waitUntil(lambda: panel.snapshot.step >= 15, timeout=TIMEOUT_MS)
    assert panel.snapshot.step % 5 == 0
    panel.pause_button.click()
    qtbot.waitUntil(lambda: not panel._in_flight, timeout=TIMEOUT_MS)
    stopped = panel.lab.steps
    qtbot.wait(200)
    assert panel.lab.steps == stopped and panel.snapshot.step == stopped
    first_fake = panel.snapshot.fake.copy()
    assert frame(qtbot, panel, panel.reset_button.click) == 0
    assert panel.lab.steps == 0 and len(panel.snapshot.d_loss) == 0
    assert len(panel.d_curve.getData()[0] or []) == 0
    fresh = panel.snapshot.fake
    assert not np.allclose(fresh, first_fake)


def test_loss_combo_changes_the_trainers_loss_and_the_surface(qtbot, panel):
    index = panel.loss.findData("hinge")
    frame(qtbot, panel, lambda: panel.loss.setCurrentIndex(index))
    assert panel.lab.loss.name == "hinge" and panel.lab.config.loss == "hinge"
    assert panel.snapshot.surface_label == "D(x)"          # raw critic values, not a probability
    lo, hi = panel.surface_item.levels       # centred on hinge's boundary 0
    assert lo == pytest.approx(-hi) and np.abs(panel.snapshot.surface).max() <= hi
    assert frame(qtbot, panel, panel.step_button.click) == 1


def test_spectral_norm_and_seed_rebuild_the_networks(qtbot, panel):
    frame(qtbot, panel, panel.step_button.click)
    frame(qtbot, panel, lambda: panel.spectral.setChecked(False))
    assert panel.lab.steps == 0 and not panel.lab.config.spectral_norm
    assert not any("parametrizations" in name for name, _ in panel.lab.d.named_modules())
    fake0 = panel.snapshot.fake.copy()
    frame(qtbot, panel, lambda: panel.seed.setValue(7))
    assert not np.allclose(panel.snapshot.fake, fake0)


def test_drawing_points_makes_them_the_target(qtbot, panel):
    panel.distribution.setCurrentIndex(panel.distribution.findData("drawn"))
    assert "Click on the plot" in panel.readout.text()
    panel.run_button.click()
    assert not panel.is_running              # nothing to train on yet
    frame(qtbot, panel, lambda: panel.add_drawn_point(1.0, 1.0))
    frame(qtbot, panel, lambda: panel.add_drawn_point(-1.0, -1.0))
    assert panel.lab.toy.name == "drawn" and panel.lab.toy.n_modes == 2
    real = panel.snapshot.real
    near = np.minimum(np.hypot(*(real - [1, 1]).T), np.hypot(*(real + [1, 1]).T))
    assert near.max() < 0.6
    assert "modes       " in panel.readout.text() and "/2" in panel.readout.text()


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".npz"])
def test_export_writes_the_view(tmp_path, qtbot, panel, suffix):
    frame(qtbot, panel, panel.step_button.click)
    path = panel.export(tmp_path / f"lab{suffix}", scale=1.0)
    assert path.stat().st_size > 1000
    if suffix == ".npz":
        data = np.load(path)
        np.testing.assert_array_equal(data["fake"], panel.snapshot.fake)
        assert int(data["step"]) == 1
    if suffix == ".png":
        from PySide6.QtGui import QImage
        img = QImage(str(path))
        assert img.width() > panel.plot.width() and not img.isNull()
        colours = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
        assert len(colours) > 20                  # the surface, points and curves, not a blank page


def test_cancel_from_elsewhere_stops_the_run(qtbot, panel):
    panel.steps_per_frame.setValue(50)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel._in_flight, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(panel.engine.cancelled, timeout=TIMEOUT_MS):
        panel.engine.cancel("ganlab")
    assert not panel.is_running and panel.run_button.isEnabled()
