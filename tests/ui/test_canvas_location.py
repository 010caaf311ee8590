"""A click on the image sets the location of a method that reads one (the anchors method) and runs
it there; other methods ignore clicks."""
from __future__ import annotations

import numpy as np
import pytest

from tests.tiny import builtin_registry
from workbench.core.renderers import IMAGE
from workbench.ui.canvas_location import location_fields
from workbench.ui.method_dock import MethodPanel
from workbench.zoo.shapes import render_scene

TIMEOUT_MS = 30000


@pytest.fixture
def panel(bind, workspace, bundled):
    panel = bind(MethodPanel)
    workspace.set_registry(builtin_registry())
    workspace.set_model(bundled("shapes-fasterrcnn"))
    workspace.set_image(render_scene(1).image, "sample:scene-1")
    panel.select_method("anchors")
    return panel


def test_only_methods_that_read_a_location_take_clicks(panel, workspace):
    assert location_fields(workspace.registry.get("anchors")) == ("x", "y")
    assert location_fields(workspace.registry.get("detect")) is None
    panel.select_method("detect")
    assert not panel.click_location.on_click(30.0, 40.0)


def test_a_click_reruns_the_shown_anchors_at_the_clicked_point(panel, workspace, canvas, qtbot):
    with qtbot.waitSignal(workspace.view(IMAGE).changed, timeout=TIMEOUT_MS):
        panel.request_run()                                   # the first run: Run, at the centre
    np.testing.assert_allclose(workspace.result(IMAGE).location, [64, 64])
    with qtbot.waitSignal(workspace.view(IMAGE).changed, timeout=TIMEOUT_MS) as blocker:
        canvas.clicked.emit(70.5, 86.0)
    result = blocker.args[0]
    assert result.method == "anchors" and panel.form.values()["x"] == 70.5 and panel.form.values()["y"] == 86.0
    np.testing.assert_allclose(result.location, [70.5, 86.0])
    assert not panel.click_location.on_click(500.0, 10.0)     # off the image: nothing changes
    assert panel.form.values()["x"] == 70.5


def test_with_run_on_every_change_one_click_runs_once(panel, workspace, canvas, qtbot):
    panel.auto_run.setChecked(True)
    runs = []
    panel.form.changed.connect(lambda: runs.append(panel.form.values()))
    with qtbot.waitSignal(workspace.view(IMAGE).changed, timeout=TIMEOUT_MS) as blocker:
        canvas.clicked.emit(20.0, 30.0)
    assert [(r["x"], r["y"]) for r in runs] == [(20.0, 30.0)]
    np.testing.assert_allclose(blocker.args[0].location, [20, 30])
