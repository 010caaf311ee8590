"""The Region dock: a selected detection's ROI Align grid on the canvas, its pooled channels in
the Grid tab, and Grad-CAM / occlusion of its score, all through the engine."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.methods import builtin_methods
from workbench.core.registry import Registry
from workbench.core.results import Heatmap
from workbench.core.roi_results import RoiPooling
from workbench.core.scene import BoxesLayer, HeatmapLayer, PointsLayer
from workbench.engine import Engine
from workbench.ui.settings import Settings
from workbench.ui.window import IMAGE_TAB, MainWindow

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def models(bundled):
    return {name: bundled(name) for name in ("shapes-maskrcnn", "shapes-fcos")}


@pytest.fixture(scope="module")
def scene():
    from workbench.core.samples import sample_image
    return sample_image("scene-1")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, models, scene):
    monkeypatch.setenv("WORKBENCH_SETTINGS", str(tmp_path / "settings.ini"))
    engine = Engine(device="cpu")
    w = MainWindow(engine, Settings())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    reg = Registry()
    for m in builtin_methods():
        reg.add(m)
    w.method_dock.set_registry(reg)
    w.model_dock.set_handle(models["shapes-maskrcnn"])
    w.set_image(scene, "sample:scene-1")
    yield w
    engine.shutdown(10000)


def detect(window, qtbot):
    """Detections through the Detection dock, as a user runs them."""
    with qtbot.waitSignal(window.detection_dock.detectionsShown, timeout=TIMEOUT_MS):
        window.detection_dock.run_button.click()
    return window.detection_dock.result


def click_box(window, qtbot, box):
    x0, y0, x1, y1 = box
    pos = window.canvas.map_from_image((x0 + x1) / 2, y0 + 2)   # near the top edge, inside the box
    qtbot.mouseClick(window.canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def roi_layers(window):
    return [l for l in window.canvas.layers() if l.name.startswith("ROI")]


def test_clicking_a_detection_shows_its_roi_grid_and_pooled_channels(window, qtbot):
    result = detect(window, qtbot)
    dock = window.region_dock
    assert dock.objectName() == "regionDock" and dock in window.docks
    with qtbot.waitSignal(dock.roiShown, timeout=TIMEOUT_MS) as blocker:
        click_box(window, qtbot, result.boxes[1])
    roi = blocker.args[0]
    assert isinstance(roi, RoiPooling) and roi.detection == 1
    np.testing.assert_allclose(roi.box, result.boxes[1], atol=1e-3)
    bins, box, points = roi_layers(window)
    assert isinstance(bins, BoxesLayer) and len(bins.boxes) == 49 and isinstance(points, PointsLayer)
    np.testing.assert_array_equal(points.points, roi.points)
    # the detections stay under the grid, and the image stays in view
    assert window.detection_dock.layer_id("detections") in {l.id for l in window.canvas.layers()}
    assert window.views.currentIndex() == IMAGE_TAB
    assert window.grid_result is roi.grid and roi.grid.tiles.shape == (16, 7, 7)
    assert "level 0" in dock.summary.text() and "2×2" in dock.summary.text()
    # ROI Pool of the same box replaces the grid
    with qtbot.waitSignal(dock.roiShown, timeout=TIMEOUT_MS) as blocker:
        dock.pooling.setCurrentIndex(1)
    assert blocker.args[0].pool == "pool" and len(roi_layers(window)) == 3
    dock.to_grid.click()
    assert window.views.currentWidget() is window.grid_view


def test_selecting_a_row_follows_and_explain_puts_a_heatmap_under_the_grid(window, qtbot):
    result = detect(window, qtbot)
    dock = window.region_dock
    with qtbot.waitSignal(dock.roiShown, timeout=TIMEOUT_MS) as blocker:
        window.detection_dock.select_row(0)
    assert blocker.args[0].detection == 0 and blocker.args[0].label == result.labels[0]
    with qtbot.waitSignal(dock.explained, timeout=TIMEOUT_MS) as blocker:
        dock.gradcam.click()
    hm = blocker.args[0]
    assert isinstance(hm, Heatmap) and hm.method == "explain_box" and hm.target == result.labels[0]
    assert hm.params["index"] == 0 and hm.params["explainer"] == "gradcam"
    names = [l.name for l in window.canvas.layers()]
    heat = next(l for l in window.canvas.layers() if isinstance(l, HeatmapLayer))
    assert names.index(heat.name) < names.index("ROI bins")
    np.testing.assert_array_equal(heat.data, hm.heatmap)
    # a click on the grid itself selects nothing new
    starts = []
    window.engine.started.connect(starts.append)
    bins = next(l for l in window.canvas.layers() if l.name == "ROI bins")
    window.canvas.boxClicked.emit(bins.id, 3)
    qtbot.wait(50)
    assert starts == [] and dock.index == 0


def test_a_one_stage_detector_explains_but_has_no_roi_pooling(window, qtbot, models):
    window.model_dock.set_handle(models["shapes-fcos"])
    result = detect(window, qtbot)
    dock = window.region_dock
    window.detection_dock.select_row(0)
    assert "two-stage" in dock.summary.text() and roi_layers(window) == []
    with qtbot.waitSignal(dock.explained, timeout=TIMEOUT_MS) as blocker:
        dock.occlusion.click()
    hm = blocker.args[0]
    assert hm.params["explainer"] == "occlusion" and hm.params["source"] == "anchor"
    assert hm.target == result.labels[0] and not dock.progress.isVisible()


def test_the_roi_grid_stays_while_the_detection_options_change(window, qtbot):
    result = detect(window, qtbot)
    with qtbot.waitSignal(window.region_dock.roiShown, timeout=TIMEOUT_MS):
        window.detection_dock.select_row(0)
    grid = [l.id for l in roi_layers(window)]
    assert grid
    window.detection_dock.threshold.setValue(window.detection_dock.threshold.value() + 5)
    window.detection_dock.proposals.setChecked(True)       # adds a layer: the dock swaps its own
    ids = {l.id for l in window.canvas.layers()}
    assert set(grid) <= ids and window.detection_dock.layer_id("proposals") in ids
    assert len(result.boxes)


def test_detect_from_the_method_dock_lands_in_the_detection_panel(window, qtbot):
    from workbench.core.methods import detect
    with qtbot.waitSignal(window.detection_dock.detectionsShown, timeout=TIMEOUT_MS) as blocker:
        window.run_method(detect.METHOD, {}, None)
    result = blocker.args[0]
    threshold = window.detection_dock.threshold.value() / 100
    assert window.detection_dock.result is result and window.image_result is result
    assert window.detection_dock.table.rowCount() == int((result.scores >= threshold).sum()) > 0
    assert window.detection_dock.layer_id("detections") in {l.id for l in window.canvas.layers()}
