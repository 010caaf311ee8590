"""The Method panel: methods for the workspace's model (attribution ones run from the Attribution
panel), Run through the engine, results to the workspace."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench.core import runner
from workbench.core.context import Partial, Progress
from workbench.core.methods import activations
from workbench.core.registry import Method, Registry
from workbench.core.results import ActivationGrid, Heatmap, Scores
from workbench.ui.method_dock import MethodPanel

TIMEOUT_MS = 30000


@dataclass
class Empty:
    pass


def counting_run(ctx, p):
    for i in range(3):
        yield Progress((i + 1) / 3, f"step {i + 1}")
        yield Partial(Heatmap(method="counting", heatmap=np.full((2, 2), i, np.float32)))
    return Heatmap(method="counting", heatmap=np.full((2, 2), 9, np.float32))


def slow_run(ctx, p):
    while True:
        yield Progress(0.5, "waiting")
        time.sleep(0.005)


def scores_run(ctx, p):
    return Scores(method="scores", values={"n": np.arange(3)})


def target_run(ctx, p):
    return Heatmap(method="targeted", heatmap=np.full((2, 2), -1 if ctx.target is None else ctx.target, np.float32))


COUNTING = Method(name="counting", tasks=("classify",), params=Empty, run=counting_run, needs_image=False)
SLOW = Method(name="slow", tasks=("classify",), params=Empty, run=slow_run, needs_image=False)
SCORES = Method(name="scores", tasks=("classify",), params=Empty, run=scores_run, needs_image=False)
ONLY_GENERATE = Method(name="only-generate", tasks=("generate",), params=Empty, run=lambda ctx, p: None)
TARGETED = Method(name="targeted", tasks=("classify",), params=Empty, run=target_run, needs_image=False)


def registry() -> Registry:
    reg = builtin_registry()
    for method in (COUNTING, SLOW, SCORES, ONLY_GENERATE, TARGETED):
        reg.add(method)
    return reg


@pytest.fixture
def panel(bind):
    return bind(MethodPanel)


@pytest.fixture
def ready(panel, workspace):
    """The panel with the tiny model, the built-in methods and an image in the workspace."""
    workspace.set_registry(registry())
    workspace.set_model(tiny_handle())
    workspace.set_image(picture(), "picture")
    return panel


def direct(method, handle, image, values, target=None):
    return runner.run_method(method, runner.context(handle, image, target=target), values)


def test_the_panel_declares_where_it_lives_and_waits_for_methods(panel):
    assert (MethodPanel.title, MethodPanel.area, MethodPanel.object_name) == ("Method", "left", "methodDock")
    assert panel.method_names() == [] and panel.combo.currentText() == "(loading methods…)"
    assert not panel.run_button.isEnabled()


def test_methods_follow_the_workspaces_model_and_registry(panel, workspace):
    workspace.set_registry(registry())
    assert "activations" in panel.method_names() and not panel.run_button.isEnabled()   # no model yet
    handle = tiny_handle()
    workspace.set_model(handle)
    names = panel.method_names()
    assert names == [m.name for m in workspace.registry.for_model("classify", handle.module)
                     if m.kind != "attribution"]
    assert "rollout" in [m.name for m in workspace.registry.for_task("classify")] and "rollout" not in names
    assert {"activations", "filters", "counting"} <= set(names) and "only-generate" not in names
    assert panel.run_button.isEnabled()
    panel.select_method("filters")
    layer = panel.form.editor("layer")
    assert [layer.itemText(i) for i in range(layer.count())] == ["(default)", "conv1", "conv2"]
    with pytest.raises(KeyError):
        panel.select_method("only-generate")


def test_use_layer_sets_the_first_layer_field_that_holds_it(ready):
    ready.select_method("filters")            # conv layers only
    assert ready.use_layer("conv2") and ready.form.values()["layer"] == "conv2"
    assert not ready.use_layer("act1") and ready.form.values()["layer"] == "conv2"
    ready.select_method("activations")        # any layer
    assert ready.use_layer("act1") and ready.form.values()["layer"] == "act1"
    ready.select_method("counting")           # no layer field at all
    assert not ready.use_layer("conv1")


def test_attribution_methods_and_the_target_live_in_the_attribution_panel(ready, workspace, qtbot):
    attribution = [m.name for m in workspace.registry.of_kind("attribution", "classify")]
    assert {"saliency", "gradcam", "occlusion"} <= set(attribution)
    assert not set(attribution) & set(ready.method_names())
    assert not hasattr(ready, "target") and "Attribution dock" in ready.attribution_note.text()
    with qtbot.waitSignal(ready.raisePanel) as blocker:
        ready.attribution_button.click()
    assert blocker.args == ["attributionDock"]


def test_run_shows_activations_in_the_grid_view(ready, workspace, qtbot):
    ready.select_method("activations")
    ready.form.set_values({"layer": "conv2"})
    with qtbot.waitSignal(workspace.view("grid").changed, timeout=TIMEOUT_MS) as blocker:
        ticket = ready.request_run()
    grid = blocker.args[0]
    assert ticket.key == "method" and ticket.result is grid
    assert isinstance(grid, ActivationGrid) and workspace.result("grid") is grid
    expected = direct(activations.METHOD, workspace.handle, workspace.image, {"layer": "conv2"})
    assert grid.tiles.shape == (6, 8, 8) and grid.layer == "conv2"
    np.testing.assert_allclose(grid.tiles, expected.tiles, rtol=1e-5, atol=1e-6)


def test_a_method_that_uses_a_target_gets_the_workspaces(ready, workspace, qtbot):
    ready.select_method("targeted")
    workspace.set_target(2)                  # what a click in the Attribution panel's class table does
    with qtbot.waitSignal(workspace.view("image").changed, timeout=TIMEOUT_MS) as blocker:
        ready.request_run()
    assert float(blocker.args[0].heatmap[0, 0]) == 2.0
    workspace.set_target(None)
    with qtbot.waitSignal(workspace.view("image").changed, timeout=TIMEOUT_MS) as blocker:
        ready.request_run()
    assert float(blocker.args[0].heatmap[0, 0]) == -1.0


def test_partial_results_reach_the_view_as_they_come(ready, workspace, qtbot):
    shown: list[float] = []
    workspace.view("image").changed.connect(lambda r: shown.append(float(r.heatmap[0, 0])))
    ready.select_method("counting")
    ticket = ready.request_run()
    with qtbot.waitSignal(ticket.finished, timeout=TIMEOUT_MS):
        pass
    assert shown == [0.0, 1.0, 2.0, 9.0]
    assert float(workspace.result("image").heatmap[0, 0]) == 9.0


def test_a_result_no_view_draws_goes_to_the_image_view(ready, workspace, qtbot):
    ready.select_method("scores")
    with qtbot.waitSignal(workspace.resultChanged, timeout=TIMEOUT_MS) as blocker:
        ready.request_run()
    view, result = blocker.args
    assert view == "image" and isinstance(result, Scores) and workspace.result("image") is result
    np.testing.assert_array_equal(result.values["n"], [0, 1, 2])


def test_auto_run_reruns_on_a_new_image(ready, workspace, qtbot):
    ready.select_method("activations")
    ready.form.set_values({"layer": "conv1"})
    ready.auto_run.setChecked(True)
    new_image = picture(30, 20, seed=5)
    with qtbot.waitSignal(workspace.view("grid").changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda r: r is not None) as blocker:
        workspace.set_image(new_image, "new")
    grid = blocker.args[0]
    expected = direct(activations.METHOD, workspace.handle, new_image, {"layer": "conv1"})
    assert grid.image_hw == (30, 20)
    np.testing.assert_allclose(grid.tiles, expected.tiles, rtol=1e-5, atol=1e-6)
    with qtbot.waitSignal(workspace.view("grid").changed, timeout=TIMEOUT_MS) as blocker:
        ready.form.set_values({"layer": "conv2"})   # and on a parameter change
    assert blocker.args[0].layer == "conv2"


def test_without_auto_run_a_new_image_cancels_the_run_under_way(ready, workspace, qtbot):
    ready.select_method("slow")
    ticket = ready.request_run()
    qtbot.waitUntil(lambda: ticket.state == "running", timeout=TIMEOUT_MS)
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        workspace.set_image(picture(seed=3), "another")
    assert workspace.result("image") is None


def test_a_new_model_cancels_the_run_under_way(ready, workspace, qtbot):
    ready.select_method("slow")
    ticket = ready.request_run()
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        workspace.set_model(tiny_handle(seed=2))
    assert ticket.state == "cancelled"


@pytest.mark.parametrize("missing, says", [("model", "Load a model first"), ("image", "Open an image first")])
def test_run_says_what_is_missing(panel, workspace, engine, qtbot, missing, says):
    submitted = []
    engine.submitted.connect(submitted.append)
    workspace.set_registry(registry())
    if missing == "image":
        workspace.set_model(tiny_handle())
        panel.select_method("activations")
    with qtbot.waitSignal(panel.message) as blocker:
        assert panel.request_run() is None
    assert blocker.args[0].startswith(says)
    assert submitted == []


def test_load_registry_builds_it_on_the_worker_for_the_workspace(panel, workspace, qtbot):
    workspace.set_model(tiny_handle())
    with qtbot.waitSignal(workspace.registryChanged, timeout=60000) as blocker:
        ticket = panel.load_registry()
    from workbench.plugins import default_registry
    assert ticket.key == "registry" and blocker.args[0] is default_registry() is workspace.registry
    assert "activations" in panel.method_names() and "saliency" not in panel.method_names()
