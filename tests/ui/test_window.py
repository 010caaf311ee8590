import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent, QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.images import save_image
from workbench.core.methods import builtin_methods
from workbench.core.registry import Method, Registry
from workbench.core.results import ActivationGrid, Heatmap
from workbench.core.canvas_layers import HeatmapLayer
from workbench.ui import theme
from workbench.ui.image_io import rgb_to_qimage
from workbench.ui.settings import Settings

IMAGE_TAB, GRID_TAB = 0, 1


def picture(h=40, w=50, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def tiny_handle():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    handle = ModelHandle(id="test:tiny", module=net, task="classify", preprocess=Preprocess(Geometry((16, 16))),
                         labels=["ant", "bee", "cat"])
    handle.layers()
    return handle


def registry():
    reg = Registry()
    for m in builtin_methods():
        reg.add(m)
    reg.add(Method(name="only-generate", tasks=("generate",), params=Empty, run=lambda ctx, p: None))
    return reg


@dataclass
class Empty:
    pass


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def ready(window):
    """A window with the tiny model, the built-in methods and an image."""
    window.workspace.set_registry(registry())
    window.workspace.set_model(tiny_handle())
    window.workspace.set_image(picture(), "picture")
    return window


def dock_of(window, object_name):
    return next(d for d in window.docks if d.objectName() == object_name)


def lazy_tab(window, object_name):
    return next(p for p in window.tabs if p.object_name == object_name)


def heatmap_result(h=40, w=50):
    return Heatmap(method="test", model="test:tiny", heatmap=np.linspace(0, 1, h * w, dtype=np.float32).reshape(h, w),
                   title="a heatmap", params={"k": 1})


def test_window_has_views_docks_and_menus(window):
    assert [window.views.tabText(i) for i in range(window.views.count())] == [
        "Image", "Grid", "Compare", "Attention", "DETR", "Captions", "Latent", "GAN lab", "Detectors", "Features",
        "Projector", "Style", "Super-res", "Inpaint"]
    assert [window.views.tabToolTip(i) for i in range(window.views.count())] == \
        [window.views.tabText(i) for i in range(window.views.count())]
    bar = window.views.tabBar()
    for i in range(bar.count()):       # every title whole: the bar scrolls rather than cut names to a letter
        assert bar.tabRect(i).width() >= bar.fontMetrics().horizontalAdvance(bar.tabText(i))
    assert window.canvas.parent() is window.views.widget(IMAGE_TAB)
    assert {d.windowTitle() for d in window.docks} >= {"Model", "Method", "Layers", "Attribution", "Detection",
                                                       "Region", "Segmentation", "Batch"}
    for dock in (dock_of(window, "modelDock"), dock_of(window, "methodDock"), dock_of(window, "LayersDock")):
        assert dock.isVisible() and dock.objectName()
        assert dock.features() & dock.DockWidgetFeature.DockWidgetFloatable
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString()
                 for menu in window.menuBar().findChildren(QMenu) for a in menu.actions()}
    assert shortcuts["Open Image…"] == "Ctrl+O"
    assert shortcuts["Export Figure…"] == "Ctrl+S"
    assert shortcuts["Copy Figure"] == "Ctrl+C" and shortcuts["Paste Image"] == "Ctrl+V"
    assert shortcuts["Run Method"] == "Ctrl+R" and shortcuts["Quit"] == "Ctrl+Q"


def test_opening_an_image_shows_it_on_the_canvas(window, tmp_path):
    image = picture()
    window.images.open_path(save_image(tmp_path / "p.png", image))
    np.testing.assert_array_equal(window.canvas.image(), image)
    np.testing.assert_array_equal(window.workspace.image, image)
    assert "p.png" in window.windowTitle()


def test_a_bad_image_changes_nothing_and_says_why(window, tmp_path):
    image = picture()
    window.workspace.set_image(image, "good")
    window.workspace.show(heatmap_result())
    overlays_before = [l.id for l in window.canvas.layers()]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    assert not window.images.open_path(bad)
    np.testing.assert_array_equal(window.canvas.image(), image)
    assert [l.id for l in window.canvas.layers()] == overlays_before
    assert window.workspace.result("image").title == "a heatmap"
    assert window.notice.isVisible() and "bad.jpg" in window.notice.text()
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_recent_files_update_and_persist(window, tmp_path, settings_path):
    paths = [save_image(tmp_path / f"r{i}.png", picture(8, 8, i)) for i in range(2)]
    for p in paths:
        window.images.open_path(p)
    recent = Settings(settings_path).recent_files()
    assert recent == [str(paths[1].resolve()), str(paths[0].resolve())]
    assert "r1.png" in settings_path.read_text()


def test_dropping_an_image_file_opens_it(window, tmp_path):
    image = picture(20, 30, 3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(save_image(tmp_path / "d.png", image)))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    np.testing.assert_array_equal(window.canvas.image(), image)


def test_paste_action_opens_the_clipboard_image(window):
    image = picture(24, 31, 5)
    QGuiApplication.clipboard().setImage(rgb_to_qimage(image))
    action = next(a for a in window.findChildren(QAction) if a.text() == "&Paste Image")
    action.trigger()
    np.testing.assert_array_equal(window.canvas.image(), image)


def test_geometry_docks_and_theme_are_restored(make_window, settings_path):
    first = make_window()
    first.resize(761, 563)  # the offscreen screen is 800x600
    first.set_theme("dark")
    dock_of(first, "LayersDock").hide()
    first.close()
    second = make_window()
    assert (second.width(), second.height()) == (761, 563)
    assert not dock_of(second, "LayersDock").isVisible() and dock_of(second, "modelDock").isVisible()
    assert Settings(settings_path).theme() == "dark"
    dark_window = theme.palette("dark").color(QPalette.ColorRole.Window)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window) == dark_window
    assert second.canvas.view.backgroundBrush().color() == dark_window
    second.set_theme("light")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window) != dark_window


def test_heatmap_results_go_on_the_canvas_and_export(window, tmp_path):
    window.workspace.set_image(picture(), "p")
    result = heatmap_result()
    window.workspace.show(result)
    heat = [l for l in window.canvas.layers() if isinstance(l, HeatmapLayer)]
    assert len(heat) == 1 and np.array_equal(heat[0].data, result.heatmap)
    assert window.views.currentIndex() == IMAGE_TAB
    out = window.export_result(str(tmp_path / "res.npz"))
    with np.load(out) as saved:
        np.testing.assert_array_equal(saved["heatmap"], result.heatmap)
    params = json.loads((tmp_path / "res.json").read_text())
    assert params["method"] == "test" and params["params"] == {"k": 1}
    figure = window.export_figure(str(tmp_path / "fig.png"), scale=2.0)
    assert figure.stat().st_size > 0


def test_copy_figure_puts_the_exported_figure_on_the_clipboard(window, tmp_path):
    window.workspace.set_image(picture(), "p")
    window.workspace.show(heatmap_result())
    QGuiApplication.clipboard().clear()
    window.copy_figure()
    copied = QGuiApplication.clipboard().image()
    expected = QImage(str(window.canvas.export(tmp_path / "f.png", 1.0, title="a heatmap")))
    assert not copied.isNull() and copied.size() == expected.size()
    assert copied.convertToFormat(expected.format()) == expected


def test_method_dock_lists_methods_and_builds_forms_for_the_model(ready):
    dock = ready.panel("methodDock")
    handle = ready.workspace.handle
    assert dock.method_names() == [m.name for m in ready.workspace.registry.for_model("classify", handle.module)
                                   if m.kind != "attribution"]
    assert {"activations", "filters"} <= set(dock.method_names()) and "saliency" not in dock.method_names()
    assert "attention" not in dock.method_names()      # a CNN: the transformer methods are not offered
    assert "only-generate" not in dock.method_names()
    dock.select_method("filters")
    layer = dock.form.editor("layer")
    assert [layer.itemText(i) for i in range(layer.count())] == ["(default)", "0", "2"]
    ready.workspace.set_layer("2")   # what a double-click in the model's layer list does
    assert dock.form.values()["layer"] == "2"


def test_running_activations_fills_the_grid_and_a_tile_click_overlays_the_channel(ready, qtbot, tmp_path):
    dock = ready.panel("methodDock")
    dock.select_method("activations")
    dock.form.set_values({"layer": "2"})
    with qtbot.waitSignal(ready.workspace.view("grid").changed, timeout=30000) as blocker:
        dock.request_run()
    grid = blocker.args[0]
    qtbot.waitUntil(lambda: ready.status.device.text() == "device: cpu")
    assert isinstance(grid, ActivationGrid) and grid.tiles.shape == (6, 16, 16)
    assert ready.views.currentIndex() == GRID_TAB and ready.workspace.result("grid") is grid
    svg = ready.export_figure(str(tmp_path / "grid.svg"))
    assert "<svg" in svg.read_text()
    with np.load(ready.export_result(str(tmp_path / "grid.npz"))) as saved:
        np.testing.assert_array_equal(saved["tiles"], grid.tiles)
    ready.panel("gridTab").grid_view.tileClicked.emit(4)
    assert ready.views.currentIndex() == IMAGE_TAB
    heat = [l for l in ready.canvas.layers() if isinstance(l, HeatmapLayer)]
    assert len(heat) == 1
    np.testing.assert_allclose(heat[0].data, grid.channel_heatmap(4).heatmap)
    assert heat[0].data.shape == (40, 50)


def test_a_failed_job_is_a_non_modal_notice(ready, qtbot):
    ready.panel("methodDock").select_method("activations")
    ready.panel("methodDock").form.set_values({"layer": "6"})   # a Linear layer: not a (1, C, h, w) map
    ready.panel("methodDock").request_run()
    qtbot.waitUntil(lambda: ready.notice.isVisible(), timeout=30000)
    assert "not a (1, C, h, w) map" in ready.notice.text()
    assert "failed" in ready.statusBar().currentMessage()
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
    np.testing.assert_array_equal(ready.canvas.image(), ready.workspace.image)


def test_cli_subcommands_do_not_open_a_window(monkeypatch):
    from workbench import app, cli
    calls = []
    monkeypatch.setattr(cli, "main", lambda argv: calls.append(list(argv)) or 3)
    with pytest.raises(SystemExit) as exit_info:
        app.main(["models"])
    assert exit_info.value.code == 3 and calls == [["models"]]


def test_the_window_shows_before_torch_is_imported(tmp_path):
    env = {**os.environ, "WORKBENCH_REPORT_STARTUP": "1", "QT_QPA_PLATFORM": "offscreen",
           "WORKBENCH_SETTINGS": str(tmp_path / "s.ini")}
    done = subprocess.run([sys.executable, "-m", "workbench"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r"window-visible ([0-9.]+) torch-imported (True|False)", done.stdout)
    assert match and float(match[1]) > 0
    assert match[2] == "False"


def test_progress_shows_while_a_job_runs_and_cancel_stops_it(window, qtbot):
    import time

    def slow(jc):
        jc.progress(0.25, "quarter way")
        while True:
            jc.check()
            time.sleep(0.01)

    status = window.status
    with qtbot.waitSignal(window.engine.submitted) as submitted:
        window.engine.submit("slow", slow)
    ticket = submitted.args[0]
    qtbot.waitUntil(lambda: status.progress.value() == 250, timeout=30000)
    assert status.progress.isVisible() and status.cancel_button.isVisible()
    assert status.progress.value() == 250
    assert window.statusBar().currentMessage() == "slow: quarter way"
    with qtbot.waitSignal(ticket.cancelled, timeout=30000):
        status.cancel_button.click()
    assert ticket.state == "cancelled"
    qtbot.waitUntil(lambda: not status.progress.isVisible())
    assert not status.cancel_button.isVisible()


def test_engine_notes_are_shown_without_blocking(window):
    window.engine.note.emit("CUDA is not available; using the CPU")
    assert window.notice.isVisible() and "CPU" in window.notice.text()
    assert window.statusBar().currentMessage() == "CUDA is not available; using the CPU"


def test_demo_shows_the_activation_grid_and_channel_0_over_the_sample(window, qtbot, monkeypatch):
    import argparse

    from workbench import app
    from workbench.core.samples import sample_image
    monkeypatch.setattr(app, "DEMO_MODEL", "zoo:shapes-cnn?weights=none")  # needs no trained weights
    monkeypatch.setattr(window.panel("modelDock"), "refresh_catalogue", lambda: None)  # slow, and not shown here
    demo = app.start(window, argparse.Namespace(demo=True, image=None))
    assert demo is not None
    qtbot.waitUntil(lambda: any(isinstance(l, HeatmapLayer) for l in window.canvas.layers()), timeout=60000)
    np.testing.assert_array_equal(window.canvas.image(), sample_image(app.DEMO_SAMPLE))
    grid = window.workspace.result("grid")
    assert isinstance(grid, ActivationGrid) and grid.layer == window.workspace.handle.conv_layers()[-1]
    heat = next(l for l in window.canvas.layers() if isinstance(l, HeatmapLayer))
    np.testing.assert_allclose(heat.data, grid.channel_heatmap(0).heatmap)
    assert heat.show_colorbar and window.views.currentIndex() == IMAGE_TAB


def test_gan_lab_tab_is_built_when_first_opened(window, qtbot):
    tab = lazy_tab(window, "ganLabTab")
    assert tab.content is None
    window.views.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.content is not None, timeout=30000)
    from workbench.ui.ganlab.panel import GanLabPanel
    assert isinstance(tab.content, GanLabPanel)


def test_a_generative_model_opens_the_latent_tab_with_that_model(window, qtbot, bundled):
    handle = bundled("digits-vae")
    window.workspace.set_model(handle)
    tab = lazy_tab(window, "latentTab")
    qtbot.waitUntil(lambda: tab.content is not None, timeout=30000)
    assert window.views.currentWidget() is tab
    assert tab.content.workspace.handle is handle


def test_the_method_dock_sends_the_user_to_the_attribution_dock(window, qtbot):
    attribution = dock_of(window, "attributionDock")
    dock_of(window, "LayersDock").raise_()
    qtbot.waitUntil(lambda: attribution.visibleRegion().isEmpty())
    window.panel("methodDock").attribution_button.click()
    qtbot.waitUntil(lambda: not attribution.visibleRegion().isEmpty())


def test_any_class_is_explained_from_the_attribution_dock_alone(ready, qtbot):
    from workbench.core import runner
    from workbench.core.methods import saliency
    attribution = ready.panel("attributionDock")
    attribution.select_method("saliency")
    entry = attribution.class_entry
    entry.setText("cat")
    with qtbot.waitSignal(ready.workspace.view("image").changed, timeout=30000) as blocker:
        entry.returnPressed.emit()
    assert ready.workspace.target == 2
    ws = ready.workspace
    expected = runner.run_method(saliency.METHOD, runner.context(ws.handle, ws.image, target=2), {})
    other = runner.run_method(saliency.METHOD, runner.context(ws.handle, ws.image, target=0), {})
    np.testing.assert_allclose(blocker.args[0].heatmap, expected.heatmap, rtol=1e-5, atol=1e-7)
    assert not np.allclose(blocker.args[0].heatmap, other.heatmap), "the typed class must reach the method"
    for text, says in (("wasp", "wasp"), ("7", "out of range")):
        entry.setText(text)
        with qtbot.waitSignal(attribution.message) as refused:
            entry.returnPressed.emit()
        assert says in refused.args[0] and ready.workspace.target == 2


def test_a_vit_brings_the_attention_tab_forward(window, qtbot, bundled):
    window.workspace.set_model(bundled("shapes-vit"))
    tab = lazy_tab(window, "attentionTab")
    qtbot.waitUntil(lambda: tab.content is not None, timeout=30000)
    assert window.views.currentWidget() is tab
    window.views.setCurrentIndex(0)
    window.workspace.set_model(bundled("shapes-cnn"))
    assert window.views.currentIndex() == 0
