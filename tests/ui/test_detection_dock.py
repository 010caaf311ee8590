"""The Detection dock: run once on the engine, then filter, select and replay NMS without rerunning."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.scene import BoxesLayer, MaskLayer
from workbench.ui.canvas import Canvas
from workbench.ui.detection_dock import DETECTION_KEY, DetectionDock

TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def maskrcnn(bundled):
    return bundled("shapes-maskrcnn")


@pytest.fixture(scope="module")
def image():
    from workbench.core.samples import sample_image
    return sample_image("scene-0")


@pytest.fixture
def dock(qtbot, engine, maskrcnn, image):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.set_image(image)
    d = DetectionDock(engine)
    qtbot.addWidget(d)
    d.attach_canvas(canvas)
    d.set_model(maskrcnn)
    d.set_image(image)
    d.show()
    d.canvas = canvas
    starts = []
    engine.started.connect(starts.append)
    d.starts = starts
    with qtbot.waitSignal(d.detectionsShown, timeout=TIMEOUT_MS):
        d.run_button.click()
    return d


def boxes_on_canvas(dock) -> BoxesLayer:
    return dock.canvas.layer(dock.layer_id("detections"))


def test_run_puts_boxes_masks_and_a_table_on_the_canvas(dock):
    result = dock.result
    threshold = dock.threshold.value() / 100
    shown = result.scores >= threshold
    assert 0 < shown.sum() < len(result.boxes)
    np.testing.assert_allclose(boxes_on_canvas(dock).boxes, result.boxes[shown])
    masks = dock.canvas.layer(dock.layer_id("masks"))
    assert isinstance(masks, MaskLayer) and len(masks.masks) == shown.sum()
    assert dock.table.rowCount() == shown.sum()
    assert dock.table.item(0, 1).text() == result.label_names[result.labels[0]]
    assert "ms" in dock.summary.text() and "proposals" in dock.summary.text()
    assert dock.classes.count() == len(result.label_names) - 1
    assert dock.starts == [DETECTION_KEY]


def test_threshold_slider_filters_without_another_job(qtbot, dock):
    before = len(boxes_on_canvas(dock).boxes)
    layer_id = dock.layer_id("detections")
    dock.threshold.setValue(95)
    after = len(boxes_on_canvas(dock).boxes)
    assert after < before
    assert after == (dock.result.scores >= 0.95).sum() == dock.table.rowCount()
    assert dock.layer_id("detections") == layer_id  # updated in place, not replaced
    dock.threshold.setValue(0)
    assert len(boxes_on_canvas(dock).boxes) == len(dock.result.boxes)
    qtbot.wait(50)
    assert dock.starts == [DETECTION_KEY]
    assert not dock.engine.is_busy


def test_class_filter_hides_a_class(dock):
    dock.threshold.setValue(0)
    first = int(dock.result.labels[0])
    item = next(dock.classes.item(i) for i in range(dock.classes.count())
                if dock.classes.item(i).data(Qt.ItemDataRole.UserRole) == first)
    item.setCheckState(Qt.CheckState.Unchecked)
    np.testing.assert_allclose(boxes_on_canvas(dock).boxes, dock.result.boxes[dock.result.labels != first])


def test_table_row_and_canvas_box_select_each_other(qtbot, dock):
    dock.threshold.setValue(0)
    lid = dock.layer_id("detections")
    rect = dock.table.visualItemRect(dock.table.item(2, 1))
    with qtbot.waitSignal(dock.detectionSelected) as got:
        qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert got.args == [2]
    assert dock.canvas.selected_box() == (lid, 2)
    # a click on a box of the canvas selects its row
    with qtbot.waitSignal(dock.detectionSelected) as got:
        dock.canvas.boxClicked.emit(lid, 1)
    assert got.args == [1] and dock.selected_row() == 1
    # the selection follows its detection when the rows change
    dock.threshold.setValue(int(dock.result.scores[1] * 100) - 1)
    assert dock.selected_row() == 1 and dock.canvas.selected_box() == (lid, 1)
    dock.threshold.setValue(int(dock.result.scores[1] * 100) + 1)
    assert dock.selected_row() is None and dock.canvas.selected_box() is None


def test_iou_slider_replays_nms(qtbot, dock):
    dock.threshold.setValue(0)
    own = len(boxes_on_canvas(dock).boxes)
    assert dock.own_nms.isChecked() and dock.iou.value() == round(dock.result.nms_threshold * 100)
    dock.iou.setValue(95)
    assert not dock.own_nms.isChecked()
    loose = len(boxes_on_canvas(dock).boxes)
    dock.iou.setValue(10)
    strict = len(boxes_on_canvas(dock).boxes)
    assert strict <= own < loose  # boxes of different classes never suppress each other
    assert "after NMS at 0.10" in dock.summary.text()
    dock.own_nms.setChecked(True)
    assert len(boxes_on_canvas(dock).boxes) == own
    qtbot.wait(50)
    assert dock.starts == [DETECTION_KEY]


def test_proposals_and_before_nms_layers(dock):
    dock.proposals.setChecked(True)
    dock.top_k.setValue(20)
    proposals = dock.canvas.layer(dock.layer_id("proposals"))
    assert len(proposals.boxes) == 20
    assert dock.canvas.layers()[1] is proposals  # right above the image
    dock.stage.setCurrentIndex(dock.stage.findData("both"))
    assert dock.layer_id("pre-nms") is not None
    dock.stage.setCurrentIndex(dock.stage.findData("before"))
    assert dock.table.rowCount() == (dock.result.pre_nms_scores >= dock.threshold.value() / 100).sum()
    assert dock.layer_id("masks") is None


def test_new_image_clears_the_detections(dock, image):
    dock.set_image(image[::-1].copy())
    assert dock.result is None and dock.table.rowCount() == 0
    assert len(dock.canvas.layers()) == 1
