"""The Inpaint tab: it says what it needs, paints through the main canvas's brush, fills the workspace's
mask with both fillers (the latent optimisation live, its curves growing), keeps the mask over a rerun,
stops, and exports the figure (PNG, SVG, PDF) and the script."""
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage

from tests.tiny import builtin_registry
from workbench.core.inpaint import masks as M
from workbench.core.samples import sample_image
from workbench.ui.inpaint.panel import InpaintPanel
from workbench.ui.mask_brush import MaskBrush

TIMEOUT_MS = 90000
SMALL = {"steps": 30, "restarts": 2, "preview_every": 10}


@pytest.fixture
def panel(qtbot, bind, workspace):
    workspace.set_registry(builtin_registry())
    return bind(InpaintPanel)


def test_it_says_what_it_needs_and_paints_on_the_main_canvas(qtbot, panel, workspace, canvas, tmp_path):
    assert "Open an image" in panel.controls.note.text() and not panel.controls.run_button.isEnabled()
    assert panel.run() is None
    workspace.set_image(sample_image("digit-3"), "digit-3")
    assert "Paint a hole" in panel.controls.note.text() and not panel.controls.run_button.isEnabled()
    brush = MaskBrush.for_canvas(canvas, workspace)
    with qtbot.waitSignal(panel.raisePanel, check_params_cb=lambda name: name == "imageTab"):
        panel.controls.paint_button.click()
    assert brush.active
    brush.stroke([(30.5, 64.5), (90.5, 64.5)])
    assert panel.controls.run_button.isEnabled() and "Hole:" in panel.controls.mask_label.text()
    assert "128×128, hole" in panel.preview.caption("mask")
    tinted = panel.preview.pictures["mask"].shown
    assert tuple(tinted[64, 60]) != tuple(tinted[10, 10]) and tinted[64, 60, 0] > tinted[64, 60, 2]   # red hole
    panel.controls.clear_button.click()
    assert workspace.mask is None and not panel.controls.run_button.isEnabled()
    M.save_mask(tmp_path / "m.png", M.centre_square((64, 64)))
    assert panel.load_mask(tmp_path / "m.png") and workspace.mask.shape == (128, 128) and workspace.mask.sum() == 48 * 48
    messages = []
    panel.message.connect(messages.append)
    assert not panel.load_mask(tmp_path / "missing.png") and "missing.png" in messages[-1]
    assert workspace.mask.sum() == 48 * 48


def test_both_fills_run_side_by_side_live_and_export(qtbot, panel, workspace, tmp_path):
    workspace.set_image(sample_image("digit-3"), "digit-3")
    panel.centre_hole()
    mask = workspace.mask.copy()
    panel.set_values(SMALL)
    ticket = panel.run()
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: len(panel.results) == 2, timeout=TIMEOUT_MS)
    latent, encoder = panel.results["latent"], panel.results["encoder"]
    assert panel.partials == 2 and latent.step == latent.steps == 30 and latent.model == "zoo:digits-dcgan"
    assert encoder.model == "zoo:digits-inpaint" and np.isnan(encoder.prior_loss)
    assert latent.context_curve[-1] < latent.context_curve[0]
    x, y = panel.context_line.getData()
    assert len(x) == 30 and 10 ** y[-1] == pytest.approx(latent.context_curve[-1], rel=1e-5)   # log axis
    for fill in ("latent", "encoder"):
        assert "context" in panel.preview.caption(fill) and panel.preview.pictures[fill].shown is not None
    assert "latent optimisation: context" in panel.status.text() and "context encoder: context" in panel.status.text()
    np.testing.assert_array_equal(workspace.mask, mask)            # the painted mask outlives the run
    grid = panel.current_result()
    assert grid.tiles.shape == (8, 32, 32, 3) and grid.titles[6].startswith("filled (context encoder)")
    png = panel.export_figure(tmp_path / "i.png", 2.0)
    assert QImage(str(png)).width() > QImage(str(panel.export_figure(tmp_path / "j.png", 1.0))).width()
    assert "<svg" in panel.export_figure(tmp_path / "i.svg").read_text()
    assert panel.export_figure(tmp_path / "i.pdf").read_bytes().startswith(b"%PDF")
    script = panel.export_script(tmp_path / "fig.py")
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "fig.png")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert QImage(str(tmp_path / "fig.png")).width() > 100


def test_stop_keeps_the_last_preview(qtbot, panel, workspace):
    workspace.set_image(sample_image("digit-5"), "digit-5")
    panel.centre_hole()
    panel.set_values({"steps": 5000, "restarts": 2, "preview_every": 5})
    ticket = panel.run()
    qtbot.waitUntil(lambda: panel.partials >= 2, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        panel.stop()
    latent = panel.results["latent"]
    assert 0 < latent.step < 5000 and "stopped" in panel.status.text()
    assert not panel.controls.stop_button.isEnabled()
