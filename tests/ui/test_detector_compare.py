"""The Detectors tab: two detectors on one image, own engine keys, a shared threshold, one figure."""
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench import api
from workbench.core.detection import COCO_SKELETON
from workbench.core.results import Detections
from workbench.core.samples import sample_image
from workbench.core.scene import LinesLayer, PointsLayer
from workbench.ui.canvas import Canvas
from workbench.ui.detector_compare import (CATALOGUE_KEY, DEFAULT_MODELS, KEY_PREFIX, SIDES, DetectorCompare,
                                           above)

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def scene():
    return sample_image("scene-1")


@pytest.fixture
def view(qtbot, engine, scene):
    v = DetectorCompare(engine, image_source=lambda: scene)
    qtbot.addWidget(v)
    v.resize(1000, 600)
    return v


def run_both(qtbot, view):
    view.show()  # showing the tab takes the image from its source and runs both sides
    qtbot.waitUntil(lambda: all(s in view.results for s in SIDES), timeout=TIMEOUT_MS)


def test_both_detectors_run_on_their_own_keys_and_title_their_panels(qtbot, view, scene):
    keys = []
    view.engine.done.connect(lambda key, _r: keys.append(key))
    run_both(qtbot, view)
    assert sorted(k for k in keys if k != CATALOGUE_KEY) == [KEY_PREFIX + s for s in SIDES]
    one, two = view.panels()
    assert (one.title, two.title) == DEFAULT_MODELS
    assert one.stats.startswith("one-stage · ") and " ms · " in one.stats and "proposals" not in one.stats
    assert two.stats.startswith("two-stage · ") and two.stats.endswith(" proposals")
    for side, model_id in zip(SIDES, DEFAULT_MODELS):
        result = view.results[side]
        shown = int((result.scores >= view.threshold).sum())
        assert f"· {shown} detection" in view.panels()[SIDES.index(side)].stats
        want = api.run("detect", model_id, scene, score_threshold=0.05)
        np.testing.assert_array_equal(result.boxes, want.boxes)
    assert "2 of 2" in view.status.text()
    assert set(view.handles) == set(DEFAULT_MODELS)


def test_the_threshold_filters_both_panels_without_running_again(qtbot, view):
    run_both(qtbot, view)
    results = dict(view.results)
    started = []
    view.engine.started.connect(started.append)
    counts = {}
    for t in (0.05, 0.5, 0.99):
        view.set_threshold(t)
        counts[t] = [len(p.layers[0].boxes) for p in view.panels()]
        assert counts[t] == [len(above(results[s], t).boxes) for s in SIDES]
    assert counts[0.05] >= counts[0.5] >= counts[0.99] and counts[0.05] != counts[0.99]
    qtbot.wait(50)
    assert started == [] and view.results == results


def test_changing_one_model_reruns_that_side_only(qtbot, view):
    run_both(qtbot, view)
    left = view.results["left"]
    view.set_model("right", "zoo:shapes-maskrcnn")
    view.pickers["right"].activated.emit(0)
    qtbot.waitUntil(lambda: view.results.get("right") is not None and
                    view.results["right"].model == "zoo:shapes-maskrcnn", timeout=TIMEOUT_MS)
    assert view.results["left"] is left
    assert view.panels()[1].title == "zoo:shapes-maskrcnn"


def test_a_model_that_is_not_a_detector_fails_in_its_own_panel(qtbot, view):
    view.set_model("left", "zoo:shapes-cnn")
    view.show()
    qtbot.waitUntil(lambda: "failed" in view.notes.get("left", ""), timeout=TIMEOUT_MS)
    assert "not a detector" in view.notes["left"]
    qtbot.waitUntil(lambda: "right" in view.results, timeout=TIMEOUT_MS)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_export_puts_both_panels_in_one_figure(qtbot, view, scene, tmp_path, suffix):
    run_both(qtbot, view)
    path = view.export(tmp_path / f"detectors{suffix}")
    assert path.stat().st_size > 1000
    if suffix == ".svg":
        text = path.read_text()
        assert all(m in text for m in DEFAULT_MODELS)
    if suffix == ".png":
        img = QImage(str(path))
        h, w = scene.shape[:2]
        assert img.width() > 2 * img.height() * w / h * 0.8  # two panels side by side


def test_keypoints_are_drawn_in_a_panel(qtbot, view, scene, tmp_path):
    view.show()
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, :, 0], kp[0, :, 1], kp[0, :, 2] = np.linspace(20, 100, 17), np.linspace(30, 90, 17), 1
    result = Detections(method="detect", model="torchvision:keypointrcnn_resnet50_fpn", boxes=np.array(
        [[15, 25, 105, 95]], np.float32), scores=np.array([0.9], np.float32), labels=np.array([1]),
        label_names=["__background__", "person"], keypoints=kp, keypoint_names=[str(i) for i in range(17)],
        skeleton=list(COCO_SKELETON))
    view.set_result("left", result)
    layers = view.panels()[0].layers
    lines = next(l for l in layers if isinstance(l, LinesLayer))
    points = next(l for l in layers if isinstance(l, PointsLayer))
    assert len(lines.segments) == len(COCO_SKELETON) and len(points.points) == 17
    img = QImage(str(view.export(tmp_path / "kp.png")))
    color = lines.colors[0]
    found = any(img.pixelColor(x, y).getRgb()[:3] == color for x in range(0, img.width(), 2)
                for y in range(0, img.height(), 2))
    assert found, "the skeleton's colour is in the figure"


def test_skeleton_lines_draw_on_the_canvas(qtbot, scene):
    from PySide6.QtWidgets import QGraphicsLineItem
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.set_image(scene)
    segments = np.array([[[10, 10], [50, 60]], [[50, 60], [90, 20]]], np.float32)
    layer_id = canvas.add_layer(LinesLayer(name="skeleton", segments=segments, colors=[(255, 0, 0)]))
    items = [i for i in canvas._graphics[layer_id].items if isinstance(i, QGraphicsLineItem)]
    assert [(i.line().x1(), i.line().y2()) for i in items] == [(10, 60), (50, 20)]
    assert all(i.pen().color().getRgb()[:3] == (255, 0, 0) for i in items)


def test_the_window_has_a_detectors_tab(qtbot, engine, tmp_path):
    from workbench.ui.settings import Settings
    from workbench.ui.window import MainWindow
    window = MainWindow(engine, Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    titles = [window.views.tabText(i) for i in range(window.views.count())]
    assert "Detectors" in titles
    assert window.detectors.content is None  # built on first show
    assert isinstance(window.detectors.ensure_built(), DetectorCompare)
