"""The Attribution panel: top-k classes from the engine, click a class to explain it, display options."""
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench import plugins
from workbench.core import colormaps, runner
from workbench.core.attribution.display import DisplayOptions
from workbench.core.attribution.methods import BUILTIN_ORDER
from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.registry import Method
from workbench.core.renderers import IMAGE
from workbench.core.results import Heatmap
from workbench.ui.attribution.dock import CLASS, PROBABILITY, AttributionPanel
from workbench.ui.image_view import ImageView

TIMEOUT_MS = 20000


def ordered_handle(bias=(0.0, 3.0, 1.5)):
    """The tiny net with class biases large enough to fix the ranking: b, then c, then a."""
    handle = tiny_handle()
    with torch.no_grad():
        handle.module.fc.bias.copy_(torch.tensor(bias))
    return handle


@pytest.fixture
def dock(bind, workspace):
    workspace.set_registry(builtin_registry())
    return bind(AttributionPanel)


def load(qtbot, dock, handle, image):
    dock.workspace.set_model(handle)
    dock.workspace.set_image(image)
    assert dock.topk_ticket is not None
    qtbot.waitSignal(dock.topk_ticket.done, timeout=TIMEOUT_MS).wait()


def probabilities(handle, image):
    with torch.no_grad():
        return torch.softmax(handle.module(handle.preprocess(image))[0], 0).numpy()


def test_top_k_lists_classes_by_probability(qtbot, dock):
    handle, image = ordered_handle(), picture()
    load(qtbot, dock, handle, image)
    probs = probabilities(handle, image)
    order = list(np.argsort(-probs))
    assert order == [1, 2, 0]
    table = dock.table
    assert table.rowCount() == 3
    assert [table.item(r, CLASS).data(Qt.ItemDataRole.UserRole) for r in range(3)] == order
    assert [table.item(r, CLASS).text().split()[0] for r in range(3)] == ["b", "c", "a"]
    shown = [table.cellWidget(r, PROBABILITY).text() for r in range(3)]
    assert shown == [f"{probs[i] * 100:.1f}%" for i in order]
    assert "top prediction: b" in dock.target_label.text()


def test_top_k_follows_a_new_model(qtbot, dock):
    load(qtbot, dock, ordered_handle(), picture())
    load(qtbot, dock, ordered_handle(bias=(4.0, 0.0, 2.0)), picture())
    assert [dock.table.item(r, CLASS).data(Qt.ItemDataRole.UserRole) for r in range(3)] == [0, 2, 1]


def test_only_attribution_methods_are_offered(dock, workspace):
    workspace.set_model(tiny_handle())
    names = dock.method_names()
    assert names == list(BUILTIN_ORDER)
    assert "activations" not in names and "filters" not in names


def test_the_edge_baseline_plugin_is_offered(bind, workspace):
    workspace.set_registry(plugins.default_registry())
    workspace.set_model(tiny_handle())
    dock = bind(AttributionPanel)
    names = dock.method_names()
    assert names[:len(BUILTIN_ORDER)] == list(BUILTIN_ORDER)
    assert "edge-baseline" in names[len(BUILTIN_ORDER):]


@dataclass
class NoParams:
    pass


def flat_map(ctx, _p):
    return Heatmap(method="flat", heatmap=np.ones(ctx.image.shape[:2], np.float32), title="flat")


def test_a_method_registered_with_the_attribution_kind_is_offered_and_runs(qtbot, dock, workspace):
    registry = builtin_registry()
    registry.add(Method(name="flat", tasks=("classify",), params=NoParams, run=flat_map, kind="attribution",
                        title="A flat map"))
    registry.add(Method(name="elsewhere", tasks=("classify",), params=NoParams, run=flat_map, title="Other kind"))
    workspace.set_registry(registry)
    load(qtbot, dock, ordered_handle(), picture())
    assert dock.method_names() == list(BUILTIN_ORDER) + ["flat"]
    dock.select_method("flat")
    with qtbot.waitSignal(workspace.view(IMAGE).changed, timeout=TIMEOUT_MS) as shown:
        dock.run()
    assert shown.args[0].method == "flat" and shown.args[0].heatmap.shape == picture().shape[:2]


def test_clicking_a_class_explains_that_class(qtbot, dock, workspace):
    handle, image = ordered_handle(), picture()
    load(qtbot, dock, handle, image)
    dock.select_method("gradient-x-input")
    row = 2  # class "a", the least probable
    rect = dock.table.visualItemRect(dock.table.item(row, CLASS))
    with qtbot.waitSignal(workspace.view(IMAGE).changed, timeout=TIMEOUT_MS) as got, \
            qtbot.waitSignal(workspace.targetChanged) as target:
        qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    heatmap = got.args[0]
    assert target.args == [0] and workspace.target == 0 and dock.target == 0
    assert heatmap.method == "gradient-x-input" and heatmap.target == 0
    assert heatmap.heatmap.shape == image.shape[:2]
    assert workspace.result(IMAGE) is heatmap and dock.current_result() is heatmap
    method = builtin_registry().get("gradient-x-input")
    expected = runner.run_method(method, runner.context(handle, image, target=0))
    np.testing.assert_allclose(heatmap.heatmap, expected.heatmap, rtol=1e-5, atol=1e-7)
    top = runner.run_method(method, runner.context(handle, image, target=1))
    assert not np.allclose(heatmap.heatmap, top.heatmap)
    assert "class 0: a" in dock.target_label.text()


def test_run_uses_the_form_values(qtbot, dock):
    load(qtbot, dock, ordered_handle(), picture())
    dock.select_method("saliency")
    dock.form.set_values({"channels": "sum"})
    with qtbot.waitSignal(dock.workspace.view(IMAGE).changed, timeout=TIMEOUT_MS) as got:
        dock.run_button.click()
    assert got.args[0].params["channels"] == "sum"
    assert got.args[0].target == 1  # no class clicked: the top prediction


def test_display_options_restyle_the_canvas_heatmap(qtbot, dock, bind, workspace, canvas):
    bind(ImageView)   # the Image tab draws what the workspace shows on the canvas
    image = picture()
    load(qtbot, dock, ordered_handle(), image)
    dock.select_method("gradient-x-input")
    ticket = dock.explain(1)
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as got:
        pass
    raw = got.args[0].heatmap
    assert raw.min() < 0 < raw.max()

    def layer():
        return [l for l in canvas.layers() if isinstance(l, HeatmapLayer)][-1]

    clip = dock.clip.value()
    m = np.percentile(np.abs(raw), clip)
    assert layer().levels == pytest.approx((-m, m)) and layer().colormap == colormaps.SIGNED_DEFAULT
    with qtbot.waitSignal(workspace.displayChanged) as changed:
        dock.mode.setCurrentIndex(dock.mode.findData("absolute"))
    assert changed.args[0] == DisplayOptions("absolute", clip, dock.shared.isChecked())
    assert workspace.display == changed.args[0]
    assert layer().levels[0] == 0 and layer().levels[1] == pytest.approx(m)
    np.testing.assert_allclose(layer().data, np.abs(raw))
    assert layer().colormap == colormaps.UNSIGNED_DEFAULT
    dock.clip.setValue(90.0)
    assert layer().levels[1] == pytest.approx(np.percentile(np.abs(raw), 90.0))
    assert len([l for l in canvas.layers() if isinstance(l, HeatmapLayer)]) == 1


def test_display_options_written_elsewhere_reach_the_widgets_and_the_canvas(qtbot, dock, bind, workspace, canvas):
    bind(ImageView)
    load(qtbot, dock, ordered_handle(), picture())
    dock.select_method("gradient-x-input")
    qtbot.waitSignal(dock.run().done, timeout=TIMEOUT_MS).wait()
    raw = dock.heatmap.heatmap
    workspace.set_display(DisplayOptions("absolute", 80.0, shared=True))
    assert (dock.mode.currentData(), dock.clip.value(), dock.shared.isChecked()) == ("absolute", 80.0, True)
    heat = [l for l in canvas.layers() if isinstance(l, HeatmapLayer)][-1]
    assert heat.levels == pytest.approx((0.0, np.percentile(np.abs(raw), 80.0)))


def test_running_without_a_model_says_so(qtbot, dock):
    with qtbot.waitSignal(dock.message) as msg:
        assert dock.run() is None
    assert "model" in msg.args[0].lower()
    assert dock.engine.is_busy is False


def test_progress_bar_shows_while_attribution_runs(qtbot, dock):
    load(qtbot, dock, ordered_handle(), picture())
    dock.select_method("integrated-gradients")
    ticket = dock.run()
    with qtbot.waitSignal(ticket.started, timeout=TIMEOUT_MS):
        pass
    assert dock.progress.isVisible()
    qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS).wait()
    qtbot.waitUntil(lambda: not dock.progress.isVisible(), timeout=TIMEOUT_MS)
