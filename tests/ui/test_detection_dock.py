"""The Detection panel: run once on the engine, then filter, select and replay NMS without rerunning;
detect results shown in the workspace by any panel land here."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from workbench.core.canvas_layers import BoxesLayer, MaskLayer
from workbench.core.renderers import DETECTION
from workbench.ui.detection.dock import DETECTION_KEY, DetectionPanel

TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def maskrcnn(bundled):
    return bundled("shapes-maskrcnn")


@pytest.fixture(scope="module")
def image():
    from workbench.core.samples import sample_image
    return sample_image("scene-0")


@pytest.fixture
def panel(qtbot, bind, workspace, engine, canvas, maskrcnn, image):
    workspace.set_model(maskrcnn)
    workspace.set_image(image)
    canvas.set_image(image)       # the Image tab's part in the window
    p = bind(DetectionPanel)
    keys = []
    engine.submitted.connect(lambda ticket: keys.append(ticket.key))
    p.keys = keys
    with qtbot.waitSignal(workspace.view(DETECTION).changed, timeout=TIMEOUT_MS):
        p.run_button.click()
    return p


def boxes_on_canvas(panel) -> BoxesLayer:
    return panel.canvas.layer(panel.layer_id("detections"))


def test_the_panel_declares_itself():
    assert (DetectionPanel.title, DetectionPanel.area, DetectionPanel.object_name, DetectionPanel.views) == (
        "Detection", "right", "detectionDock", ("detection",))


def test_run_puts_boxes_masks_and_a_table_on_the_canvas(panel, workspace):
    result = panel.result
    assert workspace.result(DETECTION) is result and panel.current_result() is result
    threshold = panel.threshold.value() / 100
    shown = result.scores >= threshold
    assert 0 < shown.sum() < len(result.boxes)
    np.testing.assert_allclose(boxes_on_canvas(panel).boxes, result.boxes[shown])
    masks = panel.canvas.layer(panel.layer_id("masks"))
    assert isinstance(masks, MaskLayer) and len(masks.masks) == shown.sum()
    assert panel.table.rowCount() == shown.sum()
    assert panel.table.item(0, 1).text() == result.label_names[result.labels[0]]
    assert "ms" in panel.summary.text() and "proposals" in panel.summary.text()
    assert panel.classes.count() == len(result.label_names) - 1
    assert panel.keys == [DETECTION_KEY]
    assert not panel.progress.isVisible() and panel.run_button.isEnabled()


def test_threshold_slider_filters_without_another_job(qtbot, panel):
    before = len(boxes_on_canvas(panel).boxes)
    layer_id = panel.layer_id("detections")
    panel.threshold.setValue(95)
    after = len(boxes_on_canvas(panel).boxes)
    assert after < before
    assert after == (panel.result.scores >= 0.95).sum() == panel.table.rowCount()
    assert panel.layer_id("detections") == layer_id  # updated in place, not replaced
    panel.threshold.setValue(0)
    assert len(boxes_on_canvas(panel).boxes) == len(panel.result.boxes)
    qtbot.wait(50)
    assert panel.keys == [DETECTION_KEY]
    assert not panel.engine.is_busy


def test_class_filter_hides_a_class(panel):
    panel.threshold.setValue(0)
    first = int(panel.result.labels[0])
    item = next(panel.classes.item(i) for i in range(panel.classes.count())
                if panel.classes.item(i).data(Qt.ItemDataRole.UserRole) == first)
    item.setCheckState(Qt.CheckState.Unchecked)
    np.testing.assert_allclose(boxes_on_canvas(panel).boxes, panel.result.boxes[panel.result.labels != first])


def test_table_row_and_canvas_box_select_each_other_through_the_workspace(qtbot, panel, workspace):
    panel.threshold.setValue(0)
    lid = panel.layer_id("detections")
    rect = panel.table.visualItemRect(panel.table.item(2, 1))
    with qtbot.waitSignal(workspace.selectionChanged) as got:
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert got.args == [2] and workspace.selection == 2
    assert panel.canvas.selected_box() == (lid, 2)
    # a click on a box of the canvas selects its row, and says what it is
    messages = []
    panel.statusMessage.connect(messages.append)
    panel.canvas.boxClicked.emit(lid, 1)
    assert workspace.selection == 1 and panel.selected_row() == 1
    r = panel.result
    assert messages == [f"{r.label_names[r.labels[1]]} {r.scores[1]:.3f} [{', '.join(f'{v:.0f}' for v in r.boxes[1])}]"]
    # a selection made elsewhere is highlighted here
    workspace.set_selection(3)
    assert panel.selected_row() == 3 and panel.canvas.selected_box() == (lid, 3)
    workspace.set_selection(None)
    assert panel.selected_row() is None and panel.canvas.selected_box() is None
    workspace.set_selection(1)
    # the selection follows its detection when the rows change
    panel.threshold.setValue(int(panel.result.scores[1] * 100) - 1)
    assert panel.selected_row() == 1 and panel.canvas.selected_box() == (lid, 1)
    panel.threshold.setValue(int(panel.result.scores[1] * 100) + 1)
    assert panel.selected_row() is None and panel.canvas.selected_box() is None


def test_iou_slider_replays_nms(qtbot, panel):
    panel.threshold.setValue(0)
    own = len(boxes_on_canvas(panel).boxes)
    assert panel.own_nms.isChecked() and panel.iou.value() == round(panel.result.nms_threshold * 100)
    panel.iou.setValue(95)
    assert not panel.own_nms.isChecked()
    loose = len(boxes_on_canvas(panel).boxes)
    panel.iou.setValue(10)
    strict = len(boxes_on_canvas(panel).boxes)
    assert strict <= own < loose  # boxes of different classes never suppress each other
    assert "after NMS at 0.10" in panel.summary.text()
    panel.own_nms.setChecked(True)
    assert len(boxes_on_canvas(panel).boxes) == own
    qtbot.wait(50)
    assert panel.keys == [DETECTION_KEY]


def test_proposals_and_before_nms_layers(panel):
    panel.proposals.setChecked(True)
    panel.top_k.setValue(20)
    proposals = panel.canvas.layer(panel.layer_id("proposals"))
    assert len(proposals.boxes) == 20
    assert panel.canvas.layers()[1] is proposals  # right above the image
    panel.stage.setCurrentIndex(panel.stage.findData("both"))
    assert panel.layer_id("pre-nms") is not None
    panel.stage.setCurrentIndex(panel.stage.findData("before"))
    assert panel.table.rowCount() == (panel.result.pre_nms_scores >= panel.threshold.value() / 100).sum()
    assert panel.layer_id("masks") is None


def test_new_image_clears_the_detections(panel, workspace, image):
    workspace.set_selection(0)
    workspace.set_image(image[::-1].copy())
    assert panel.result is None and panel.table.rowCount() == 0
    assert len(panel.canvas.layers()) == 1
    assert workspace.selection is None and panel.canvas.selected_box() is None
    assert panel.summary.text() == "Run to detect"


def test_a_result_shown_by_another_panel_is_drawn_here(qtbot, bind, workspace, engine, canvas, maskrcnn, image):
    """What the Method panel does: run detect under its own key and show the result."""
    from workbench.core.methods.detect import METHOD
    workspace.set_model(maskrcnn)
    workspace.set_image(image)
    canvas.set_image(image)
    panel = bind(DetectionPanel)
    with qtbot.waitSignal(workspace.view(DETECTION).changed, timeout=TIMEOUT_MS) as got:
        ticket = engine.run_method("method", METHOD, maskrcnn, image, {})
        ticket.done.connect(workspace.show)
    result = got.args[0]
    assert panel.result is result
    threshold = panel.threshold.value() / 100
    assert panel.table.rowCount() == int((result.scores >= threshold).sum()) > 0
    np.testing.assert_allclose(boxes_on_canvas(panel).boxes, result.boxes[result.scores >= threshold])
    # a plain Detections (no pipeline) is drawn too
    plain = result.stage_detections("final")
    workspace.show(plain)
    assert panel.result is plain and panel.table.rowCount() == int((plain.scores >= threshold).sum())


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_export_draws_the_image_and_the_detections(panel, tmp_path, suffix):
    path = panel.export_figure(tmp_path / f"detections{suffix}", scale=2.0)
    assert path.stat().st_size > 1000
    if suffix == ".png":
        img = QImage(str(path))
        assert img.width() >= 2 * panel.canvas.image().shape[1]
        color = boxes_on_canvas(panel).colors[0]
        assert any(img.pixelColor(x, y).getRgb()[:3] == color
                   for x in range(0, img.width(), 2) for y in range(0, img.height(), 2))


def test_export_without_detections_says_so(bind, tmp_path):
    panel = bind(DetectionPanel)
    with pytest.raises(ValueError, match="run a detector"):
        panel.export_figure(tmp_path / "d.png")
    assert panel.current_result() is None


def test_a_detr_shows_its_object_queries_as_the_candidates(qtbot, bind, workspace, engine, canvas, bundled, image):
    detr = bundled("shapes-detr")
    workspace.set_model(detr)
    workspace.set_image(image)
    canvas.set_image(image)
    p = bind(DetectionPanel)
    with qtbot.waitSignal(workspace.view(DETECTION).changed, timeout=TIMEOUT_MS):
        p.run_button.click()
    assert p.result.architecture == "set prediction" and len(p.result.pre_nms_boxes) == detr.module.num_queries
    assert f"{detr.module.num_queries} object queries" in p.summary.text() and "NMS" not in p.summary.text()
    p.threshold.setValue(p.threshold.minimum())
    p.stage.setCurrentIndex(p.stage.findData("both"))
    faint = p.canvas.layer(p.layer_id("pre-nms"))
    assert len(faint.boxes) > 0 and faint.name.endswith("object queries")
    assert p.box_text(faint.id, 0).startswith("query ")
