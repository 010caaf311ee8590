"""The Region panel: the selected detection's ROI Align grid on the canvas, its pooled channels in
the Grid view, and Grad-CAM / occlusion of its score, all through the engine and the workspace."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.tiny import builtin_registry
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, PointsLayer
from workbench.core.renderers import DETECTION, GRID
from workbench.core.results import Heatmap
from workbench.core.results.roi import RoiPooling
from workbench.ui.detection.dock import DetectionPanel
from workbench.ui.detection.region import RegionPanel

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def models(bundled):
    return {name: bundled(name) for name in ("shapes-maskrcnn", "shapes-fcos")}


@pytest.fixture(scope="module")
def image():
    from workbench.core.samples import sample_image
    return sample_image("scene-1")


@pytest.fixture
def panels(qtbot, bind, workspace, canvas, models, image):
    """The Detection and Region panels on one workspace, engine and canvas, as the window binds them."""
    workspace.set_registry(builtin_registry())
    workspace.set_model(models["shapes-maskrcnn"])
    workspace.set_image(image, "sample:scene-1")
    canvas.set_image(image)
    return bind(DetectionPanel), bind(RegionPanel)


def detect(qtbot, workspace, detection):
    """Detections through the Detection panel, as a user runs them."""
    with qtbot.waitSignal(workspace.view(DETECTION).changed, timeout=TIMEOUT_MS):
        detection.run_button.click()
    return detection.result


def click_box(canvas, qtbot, box):
    x0, y0, x1, y1 = box
    pos = canvas.map_from_image((x0 + x1) / 2, y0 + 2)   # near the top edge, inside the box
    qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def roi_layers(canvas):
    return [l for l in canvas.layers() if l.name.startswith("ROI")]


def test_the_panel_declares_itself():
    assert (RegionPanel.title, RegionPanel.area, RegionPanel.object_name) == ("Region", "right", "regionDock")


def test_clicking_a_detection_shows_its_roi_grid_and_pooled_channels(qtbot, panels, workspace, canvas):
    detection, region = panels
    result = detect(qtbot, workspace, detection)
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        click_box(canvas, qtbot, result.boxes[1])
    assert workspace.selection == 1
    roi = blocker.args[0]
    assert isinstance(roi, RoiPooling) and roi.detection == 1 and region.current_result() is roi
    np.testing.assert_allclose(roi.box, result.boxes[1], atol=1e-3)
    bins, box, points = roi_layers(canvas)
    assert isinstance(bins, BoxesLayer) and len(bins.boxes) == 49 and isinstance(points, PointsLayer)
    np.testing.assert_array_equal(points.points, roi.points)
    # the detections stay under the grid, and nothing else is put in front of the image
    assert detection.layer_id("detections") in {l.id for l in canvas.layers()}
    assert workspace.result(GRID) is None
    assert "level 0" in region.summary.text() and "2×2" in region.summary.text()
    # ROI Pool of the same box replaces the grid
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        region.pooling.setCurrentIndex(1)
    pooled = blocker.args[0]
    assert pooled.pool == "pool" and len(roi_layers(canvas)) == 3
    # the pooled channels go to the Grid view on request
    with qtbot.waitSignal(workspace.view(GRID).changed) as shown:
        region.to_grid.click()
    assert shown.args[0] is pooled.grid and workspace.result(GRID) is pooled.grid
    assert pooled.grid.tiles.shape == (16, 7, 7)


def test_selecting_a_row_follows_and_explain_puts_a_heatmap_under_the_grid(qtbot, panels, workspace, canvas, engine):
    detection, region = panels
    result = detect(qtbot, workspace, detection)
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        detection.select_row(0)
    assert blocker.args[0].detection == 0 and blocker.args[0].label == result.labels[0]
    with qtbot.waitSignal(region.explained, timeout=TIMEOUT_MS) as blocker:
        region.gradcam.click()
    hm = blocker.args[0]
    assert isinstance(hm, Heatmap) and hm.method == "explain_box" and hm.target == result.labels[0]
    assert hm.params["index"] == 0 and hm.params["explainer"] == "gradcam"
    assert region.current_result() is hm
    names = [l.name for l in canvas.layers()]
    heat = next(l for l in canvas.layers() if isinstance(l, HeatmapLayer))
    assert names.index(heat.name) < names.index("ROI bins")
    np.testing.assert_array_equal(heat.data, hm.heatmap)
    # a click on the grid itself selects nothing new
    keys = []
    engine.submitted.connect(lambda ticket: keys.append(ticket.key))
    bins = next(l for l in canvas.layers() if l.name == "ROI bins")
    canvas.boxClicked.emit(bins.id, 3)
    qtbot.wait(50)
    assert keys == [] and region.index == 0 and workspace.selection == 0


def test_selection_flows_from_the_workspace_and_a_new_result_resets(qtbot, panels, workspace, canvas, engine):
    """A detect result shown in the workspace by another panel (the Method panel) is drawn by the
    Detection panel, and the selection reaches the Region panel through the workspace."""
    detection, region = panels
    with qtbot.waitSignal(workspace.view(DETECTION).changed, timeout=TIMEOUT_MS):
        ticket = engine.run_method("method", workspace.registry.get("detect"), workspace.handle, workspace.image)
        ticket.done.connect(workspace.show)
    result = detection.result
    assert result is workspace.result(DETECTION) and detection.layer_id("detections") is not None
    detection.threshold.setValue(0)
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        click_box(canvas, qtbot, result.boxes[1])
    assert workspace.selection == 1 and blocker.args[0].detection == 1
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        workspace.set_selection(2)     # any panel may select a detection
    assert blocker.args[0].detection == 2 and region.index == 2 and detection.selected_row() == 2
    assert blocker.args[0].label == result.labels[2]
    workspace.set_selection(None)
    assert region.index is None and roi_layers(canvas) == [] and not region.gradcam.isEnabled()
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS):
        workspace.set_selection(1)
    workspace.show(result.stage_detections("final"))    # another detection result: a new set of boxes
    assert region.index is None and workspace.selection is None and roi_layers(canvas) == []
    workspace.set_selection(len(result.boxes) + 5)
    assert region.index is None and "not one of the model's final detections" in region.summary.text()


def test_a_one_stage_detector_explains_but_has_no_roi_pooling(qtbot, panels, workspace, canvas, models):
    detection, region = panels
    workspace.set_model(models["shapes-fcos"])
    result = detect(qtbot, workspace, detection)
    detection.select_row(0)
    assert "two-stage" in region.summary.text() and roi_layers(canvas) == []
    with qtbot.waitSignal(region.explained, timeout=TIMEOUT_MS) as blocker:
        region.occlusion.click()
    hm = blocker.args[0]
    assert hm.params["explainer"] == "occlusion" and hm.params["source"] == "anchor"
    assert hm.target == result.labels[0]
    qtbot.waitUntil(lambda: not region.progress.isVisible())


def test_the_roi_grid_stays_while_the_detection_options_change(qtbot, panels, workspace, canvas):
    detection, region = panels
    result = detect(qtbot, workspace, detection)
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS):
        detection.select_row(0)
    grid = [l.id for l in roi_layers(canvas)]
    assert grid
    detection.threshold.setValue(detection.threshold.value() + 5)
    detection.proposals.setChecked(True)       # adds a layer: the panel swaps its own
    ids = {l.id for l in canvas.layers()}
    assert set(grid) <= ids and detection.layer_id("proposals") in ids
    assert len(result.boxes) and region.index == 0


def test_export_draws_the_canvas_with_the_grid(qtbot, panels, workspace, canvas, tmp_path):
    detection, region = panels
    with pytest.raises(ValueError, match="select a detection"):
        region.export_figure(tmp_path / "none.png")
    detect(qtbot, workspace, detection)
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS) as blocker:
        detection.select_row(0)
    path = region.export_figure(tmp_path / "region.png", scale=2.0)
    img = QImage(str(path))
    bins = next(l for l in canvas.layers() if l.name == "ROI bins")
    assert img.width() >= 2 * canvas.image().shape[1]
    assert any(img.pixelColor(x, y).getRgb()[:3] == tuple(bins.colors[0])
               for x in range(0, img.width(), 2) for y in range(0, img.height(), 2))
    assert blocker.args[0].detection == 0
