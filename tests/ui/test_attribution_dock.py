"""The Attribution dock: top-k classes from the engine, click a class to explain it, display options."""
import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench.core import colormaps, runner, scene
from workbench.core.display import ATTRIBUTION_METHODS, DisplayOptions
from workbench.core.scene import HeatmapLayer
from workbench.ui.attribution_dock import ATTRIBUTION_KEY, CLASS, PROBABILITY, AttributionDock
from workbench.ui.canvas import Canvas

TIMEOUT_MS = 20000


def ordered_handle(bias=(0.0, 3.0, 1.5)):
    """The tiny net with class biases large enough to fix the ranking: b, then c, then a."""
    handle = tiny_handle()
    with torch.no_grad():
        handle.module.fc.bias.copy_(torch.tensor(bias))
    return handle





@pytest.fixture
def dock(qtbot, engine):
    d = AttributionDock(engine)
    qtbot.addWidget(d)
    d.set_registry(builtin_registry())
    d.show()
    return d


def load(qtbot, dock, handle, image):
    dock.set_model(handle)
    with qtbot.waitSignal(dock.engine.done, check_params_cb=lambda key, _r: key == "topk", timeout=TIMEOUT_MS):
        dock.set_image(image)


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


def test_only_attribution_methods_are_offered(dock):
    names = dock.method_names()
    assert names == [n for n in ATTRIBUTION_METHODS if n in builtin_registry()]
    assert "activations" not in names and "filters" not in names


def test_clicking_a_class_explains_that_class(qtbot, dock):
    handle, image = ordered_handle(), picture()
    load(qtbot, dock, handle, image)
    dock.select_method("gradient-x-input")
    row = 2  # class "a", the least probable
    rect = dock.table.visualItemRect(dock.table.item(row, CLASS))
    with qtbot.waitSignal(dock.heatmapReady, timeout=TIMEOUT_MS) as got, \
            qtbot.waitSignal(dock.targetChanged) as target:
        qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    heatmap = got.args[0]
    assert target.args == [0] and dock.target == 0
    assert heatmap.method == "gradient-x-input" and heatmap.target == 0
    assert heatmap.heatmap.shape == image.shape[:2]
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
    with qtbot.waitSignal(dock.heatmapReady, timeout=TIMEOUT_MS) as got:
        dock.run_button.click()
    assert got.args[0].params["channels"] == "sum"
    assert got.args[0].target == 1  # no class clicked: the top prediction


def test_display_options_restyle_the_canvas_heatmap(qtbot, dock):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    image = picture()
    canvas.set_image(image)
    dock.attach_canvas(canvas)
    dock.heatmapReady.connect(lambda r: canvas.replace_overlays(scene.layers_for(r)))  # as the window does
    load(qtbot, dock, ordered_handle(), image)
    dock.select_method("gradient-x-input")
    with qtbot.waitSignal(dock.heatmapReady, timeout=TIMEOUT_MS) as got:
        dock.explain(1)
    raw = got.args[0].heatmap
    assert raw.min() < 0 < raw.max()

    def layer():
        return [l for l in canvas.layers() if isinstance(l, HeatmapLayer)][-1]

    clip = dock.clip.value()
    m = np.percentile(np.abs(raw), clip)
    assert layer().levels == pytest.approx((-m, m)) and layer().colormap == colormaps.SIGNED_DEFAULT
    with qtbot.waitSignal(dock.displayChanged) as changed:
        dock.mode.setCurrentIndex(dock.mode.findData("absolute"))
    assert changed.args[0] == DisplayOptions("absolute", clip, dock.shared.isChecked())
    assert layer().levels[0] == 0 and layer().levels[1] == pytest.approx(m)
    np.testing.assert_allclose(layer().data, np.abs(raw))
    assert layer().colormap == colormaps.UNSIGNED_DEFAULT
    dock.clip.setValue(90.0)
    assert layer().levels[1] == pytest.approx(np.percentile(np.abs(raw), 90.0))
    assert len([l for l in canvas.layers() if isinstance(l, HeatmapLayer)]) == 1


def test_running_without_a_model_says_so(qtbot, dock):
    with qtbot.waitSignal(dock.message) as msg:
        dock.run()
    assert "model" in msg.args[0].lower()
    assert dock.engine.is_busy is False


def test_progress_bar_shows_while_attribution_runs(qtbot, dock):
    load(qtbot, dock, ordered_handle(), picture())
    dock.select_method("integrated-gradients")
    with qtbot.waitSignal(dock.engine.started, check_params_cb=lambda k: k == ATTRIBUTION_KEY, timeout=TIMEOUT_MS):
        dock.run()
    assert dock.progress.isVisible()
    qtbot.waitSignal(dock.heatmapReady, timeout=TIMEOUT_MS).wait()
    qtbot.waitUntil(lambda: not dock.progress.isVisible(), timeout=TIMEOUT_MS)
