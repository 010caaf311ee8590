"""The Features tab: live previews while a mode runs, Stop, the inputs each mode needs, export, and a
channel picked in the Grid tab visualised at once."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.tiny import builtin_registry
from workbench.core.hooks import hook_count
from workbench.core.methods import activations
from workbench.core.runner import context, run_method
from workbench.core.samples import sample_image
from workbench.ui.features.panel import FeaturesPanel

TIMEOUT_MS = 60000


@pytest.fixture
def ready(bind, workspace, bundled):
    workspace.set_registry(builtin_registry())
    workspace.set_model(bundled("shapes-cnn"))
    return bind(FeaturesPanel)


def test_a_class_visualisation_previews_as_it_runs_and_ends_seen_as_its_class(qtbot, ready):
    panel = ready
    panel.controls.target.set_target("class", 3)
    panel.controls.set_values("actmax", {"steps": 96, "preview_every": 16})
    ticket = panel.run()
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS):
        pass
    result = panel.current_result()
    assert panel.partials == 5 and result.step == result.steps == 96     # previews at 16, 32, ... 80
    assert result.params["target"] == "class:3"
    assert result.prediction(0) == (3, pytest.approx(result.probabilities[0, 3]))
    assert result.probabilities[0, 3] > 0.8
    assert "star: p=" in panel.status.text() and not panel.controls.stop_button.isEnabled()
    assert len(panel.curve_line.getData()[1]) == 96


def test_stop_keeps_the_last_preview_and_leaves_no_hooks(qtbot, ready, workspace):
    panel = ready
    panel.controls.set_values("actmax", {"steps": 5000, "preview_every": 4})
    panel.controls.target.set_target("channel", 2)
    ticket = panel.run()
    qtbot.waitUntil(lambda: panel.partials >= 2, timeout=TIMEOUT_MS)
    assert panel.controls.stop_button.isEnabled()
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        panel.controls.stop_button.click()
    assert panel.current_result() is not None and panel.current_result().step < 5000
    assert "stopped" in panel.status.text()
    assert hook_count(workspace.handle.module) == 0


def test_inversion_and_dream_need_an_image_and_say_so(qtbot, ready, workspace):
    panel = ready
    panel.controls.set_mode("invert")
    notes = []
    panel.message.connect(notes.append)
    assert panel.run() is None and "Open an image" in notes[-1]
    assert not panel.controls.run_button.isEnabled()
    workspace.set_image(sample_image("shapes-0"), "shapes-0")
    panel.controls.set_values("invert", {"steps": 20, "layer": "features.conv1"})
    with qtbot.waitSignal(panel.run().done, timeout=TIMEOUT_MS):
        pass
    result = panel.current_result()
    assert result.layers == ["features.conv1"] and result.ssim[0] > 0.5
    assert panel.grid_view.grid().titles[0] == "original"


def test_a_channel_picked_in_the_grid_is_visualised_at_once(qtbot, make_window, bundled, tmp_path):
    window = make_window()
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(bundled("shapes-cnn"))
    ws.set_image(sample_image("shapes-2"), "shapes-2")
    grid = run_method(activations.METHOD, context(ws.handle, ws.image), {"layer": "features.conv3"})
    ws.show(grid)
    grid_panel = window.panel("gridTab")
    assert window.current_panel() is grid_panel
    view = grid_panel.grid_view
    centre = view.tile_rect(5).center()
    pos = view.view.mapFromScene(view.viewbox.mapViewToScene(QPointF(centre.x(), centre.y())))
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.RightButton, pos=pos)
    assert window.current_panel().object_name == "featuresTab"
    panel = window.panel("featuresTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None and not panel.running(), timeout=TIMEOUT_MS)
    result = panel.current_result()
    assert result.params["target"] == "channel:5" and result.layer == "features.conv3"
    assert ws.result("image").params["channel"] == 5       # the channel's map lies over the image too
    path = panel.export_figure(tmp_path / "f.png", 1.0)
    assert path.stat().st_size > 1000


def test_every_channel_mode_shows_a_tile_per_channel(qtbot, ready):
    panel = ready
    panel.controls.target.set_target("channels")
    panel.controls.set_values("actmax", {"layer": "features.conv1", "steps": 8, "batch": 8})
    with qtbot.waitSignal(panel.run().done, timeout=TIMEOUT_MS):
        pass
    assert panel.grid_view.grid().tiles.shape == (16, 64, 64, 3)
    assert np.ptp(panel.current_result().images) > 0.05
    panel.pick_tile(9)          # a click on tile 9 aims at channel 9 alone
    assert panel.controls.values()["target"] == "channel:9"
    assert panel.controls.values()["layer"] == "features.conv1"
