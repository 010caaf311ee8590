"""The Detectors tab: two detectors on the workspace's image, own engine keys, a shared threshold,
one figure; its jobs are core functions."""
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench import api
from workbench.core.detection.pipeline import COCO_SKELETON
from workbench.core.results import Detections
from workbench.core.canvas_layers import LinesLayer, PointsLayer
from workbench.core.detection.jobs import RUN_THRESHOLD, catalogue_detectors, detect_with
from workbench.core.samples import sample_image
from workbench.ui.canvas import Canvas
from workbench.ui.detection.detectors import CATALOGUE_KEY, DEFAULT_MODELS, KEY_PREFIX, SIDES, DetectorsPanel, above

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def image():
    return sample_image("scene-1")


@pytest.fixture
def keys(engine):
    """The key of every job submitted from here on."""
    out = []
    engine.submitted.connect(lambda ticket: out.append(ticket.key))
    return out


@pytest.fixture
def view(qtbot, bind, keys):
    v = bind(DetectorsPanel)   # on screen, as when its tab is shown
    v.resize(1000, 600)
    return v


def run_both(qtbot, view, workspace, image):
    workspace.set_image(image)  # a new image, while the tab is on screen, runs both sides
    qtbot.waitUntil(lambda: all(s in view.results for s in SIDES), timeout=TIMEOUT_MS)


def test_the_panel_declares_itself():
    assert (DetectorsPanel.title, DetectorsPanel.area, DetectorsPanel.object_name) == (
        "Detectors", "tab", "detectorsTab")


def test_every_detector_runs_on_its_own_key_and_titles_its_panel(qtbot, view, workspace, image, keys):
    run_both(qtbot, view, workspace, image)
    assert keys == [CATALOGUE_KEY] + [KEY_PREFIX + s for s in SIDES]
    one, two, three = view.sides()
    assert (one.title, two.title, three.title) == DEFAULT_MODELS
    assert one.stats.startswith("one-stage · ") and " ms · " in one.stats and "proposals" not in one.stats
    assert two.stats.startswith("two-stage · ") and two.stats.endswith(" proposals")
    assert three.stats.startswith("set prediction · ") and "proposals" not in three.stats
    for side, model_id in zip(SIDES, DEFAULT_MODELS):
        result = view.results[side]
        shown = int((result.scores >= view.threshold).sum())
        assert f"· {shown} detection" in view.sides()[SIDES.index(side)].stats
        want = api.run("detect", model_id, image, score_threshold=RUN_THRESHOLD)
        # the engine's worker and this thread may split a convolution over different thread counts
        np.testing.assert_allclose(result.boxes, want.boxes, rtol=0, atol=1e-3)
        np.testing.assert_array_equal(result.labels, want.labels)
    assert "3 of 3" in view.status.text()
    assert set(view.side_models) == set(DEFAULT_MODELS)
    assert view.current_result() is view.results["left"]


def test_the_threshold_filters_both_panels_without_running_again(qtbot, view, workspace, image, keys):
    run_both(qtbot, view, workspace, image)
    results = dict(view.results)
    keys.clear()
    counts = {}
    for t in (0.05, 0.5, 0.99):
        view.set_threshold(t)
        counts[t] = [len(p.layers[0].boxes) for p in view.sides()]
        assert counts[t] == [len(above(results[s], t).boxes) for s in SIDES]
    assert counts[0.05] >= counts[0.5] >= counts[0.99] and counts[0.05] != counts[0.99]
    qtbot.wait(50)
    assert keys == [] and view.results == results


def test_a_new_image_clears_both_sides_and_runs_them_again(qtbot, view, workspace, image, keys):
    run_both(qtbot, view, workspace, image)
    first = dict(view.results)
    keys.clear()
    workspace.set_image(image[::-1].copy())
    assert view.results == {} or all(view.results[s] is not first[s] for s in view.results)
    qtbot.waitUntil(lambda: all(s in view.results for s in SIDES), timeout=TIMEOUT_MS)
    assert keys == [KEY_PREFIX + s for s in SIDES]
    assert all(view.results[s] is not first[s] for s in SIDES)


def test_a_hidden_tab_runs_on_its_next_show(qtbot, bind, workspace, image, keys):
    view = bind(DetectorsPanel)
    view.hide()
    workspace.set_image(image)
    qtbot.wait(50)
    assert keys == [CATALOGUE_KEY] and view.results == {}
    view.show()
    qtbot.waitUntil(lambda: all(s in view.results for s in SIDES), timeout=TIMEOUT_MS)
    assert keys == [CATALOGUE_KEY] + [KEY_PREFIX + s for s in SIDES]


def test_changing_one_model_reruns_that_side_only(qtbot, view, workspace, image):
    run_both(qtbot, view, workspace, image)
    left = view.results["left"]
    view.set_model("right", "zoo:shapes-maskrcnn")
    view.pickers["right"].activated.emit(0)
    qtbot.waitUntil(lambda: view.results.get("right") is not None and
                    view.results["right"].model == "zoo:shapes-maskrcnn", timeout=TIMEOUT_MS)
    assert view.results["left"] is left
    assert view.sides()[SIDES.index("right")].title == "zoo:shapes-maskrcnn"


def test_a_model_that_is_not_a_detector_fails_in_its_own_panel(qtbot, view, workspace, image):
    view.set_model("left", "zoo:shapes-cnn")
    workspace.set_image(image)
    qtbot.waitUntil(lambda: "failed" in view.notes.get("left", ""), timeout=TIMEOUT_MS)
    assert "not a detector" in view.notes["left"]
    qtbot.waitUntil(lambda: "right" in view.results, timeout=TIMEOUT_MS)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_export_puts_both_panels_in_one_figure(qtbot, view, workspace, image, tmp_path, suffix):
    with pytest.raises(ValueError, match="run a comparison"):
        view.export_figure(tmp_path / f"none{suffix}")
    run_both(qtbot, view, workspace, image)
    path = view.export_figure(tmp_path / f"detectors{suffix}")
    assert path.stat().st_size > 1000
    if suffix == ".svg":
        text = path.read_text()
        assert all(m in text for m in DEFAULT_MODELS)
    if suffix == ".png":
        img = QImage(str(path))
        h, w = image.shape[:2]
        assert img.width() > 2 * img.height() * w / h * 0.8  # two panels side by side
        big = QImage(str(view.export_figure(tmp_path / "big.png", scale=2.0)))
        assert big.width() > 1.5 * img.width()                # the PNG follows the scale


def test_keypoints_are_drawn_in_a_panel(qtbot, view, workspace, image, tmp_path):
    view.hide()       # no runs: the result is set by hand
    workspace.set_image(image)
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, :, 0], kp[0, :, 1], kp[0, :, 2] = np.linspace(20, 100, 17), np.linspace(30, 90, 17), 1
    result = Detections(method="detect", model="torchvision:keypointrcnn_resnet50_fpn", boxes=np.array(
        [[15, 25, 105, 95]], np.float32), scores=np.array([0.9], np.float32), labels=np.array([1]),
        label_names=["__background__", "person"], keypoints=kp, keypoint_names=[str(i) for i in range(17)],
        skeleton=list(COCO_SKELETON))
    view.set_result("left", result)
    layers = view.sides()[0].layers
    lines = next(l for l in layers if isinstance(l, LinesLayer))
    points = next(l for l in layers if isinstance(l, PointsLayer))
    assert len(lines.segments) == len(COCO_SKELETON) and len(points.points) == 17
    img = QImage(str(view.export_figure(tmp_path / "kp.png")))
    color = lines.colors[0]
    found = any(img.pixelColor(x, y).getRgb()[:3] == color for x in range(0, img.width(), 2)
                for y in range(0, img.height(), 2))
    assert found, "the skeleton's colour is in the figure"


def test_skeleton_lines_draw_on_the_canvas(qtbot, image):
    from PySide6.QtWidgets import QGraphicsLineItem
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.set_image(image)
    segments = np.array([[[10, 10], [50, 60]], [[50, 60], [90, 20]]], np.float32)
    layer_id = canvas.add_layer(LinesLayer(name="skeleton", segments=segments, colors=[(255, 0, 0)]))
    items = [i for i in canvas._graphics[layer_id].items if isinstance(i, QGraphicsLineItem)]
    assert [(i.line().x1(), i.line().y2()) for i in items] == [(10, 60), (50, 20)]
    assert all(i.pen().color().getRgb()[:3] == (255, 0, 0) for i in items)


def test_the_jobs_are_core_functions_reachable_without_the_ui(image):
    class Job:   # what the engine hands a job: the device, cancel checks, progress
        device = "cpu"
        chunk_scale = 1.0

        def __init__(self):
            from workbench.core.context import CancelToken
            self.cancel = CancelToken()

        def check(self):
            self.cancel.check()

        def progress(self, fraction, message=""):
            pass

    from workbench.core.methods.detect import METHOD
    assert detect_with.__module__ == catalogue_detectors.__module__ == "workbench.core.detection.jobs"
    run = detect_with(Job(), METHOD, "zoo:shapes-fcos", None, image)
    want = api.run("detect", "zoo:shapes-fcos", image, score_threshold=RUN_THRESHOLD)
    assert run.handle.id == "zoo:shapes-fcos"
    np.testing.assert_array_equal(run.result.boxes, want.boxes)
    again = detect_with(Job(), METHOD, "zoo:shapes-fcos", run.handle, image)   # the loaded model, reused
    assert again.handle is run.handle
    with pytest.raises(ValueError, match="not a detector"):
        detect_with(Job(), METHOD, "zoo:shapes-cnn", None, image)
    rows = catalogue_detectors(Job())
    ids = [row["id"] for row in rows]
    assert set(DEFAULT_MODELS) <= set(ids) and "torchvision:fasterrcnn_resnet50_fpn" in ids
    assert all(row["status"] for row in rows)


def test_the_window_has_a_detectors_tab_built_on_first_show(qtbot, engine, tmp_path):
    from workbench.ui.lazy_tab import LazyTab
    from workbench.ui.settings import Settings
    from workbench.ui.window import MainWindow
    window = MainWindow(engine, Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    titles = [window.views.tabText(i) for i in range(window.views.count())]
    assert "Detectors" in titles
    tab = next(p for p in window.tabs if p.object_name == "detectorsTab")
    assert isinstance(tab, LazyTab) and tab.content is None  # built on first show
    assert isinstance(window.panel("detectorsTab"), DetectorsPanel)


def test_a_narrow_panel_keeps_the_numbers_and_drops_the_family_first(qtbot):
    from PySide6.QtGui import QFont, QFontMetricsF
    from workbench.figure.detectors import fitting_stats
    font = QFont()
    font.setPixelSize(13)
    metrics = QFontMetricsF(font)
    stats = "region classifier · 891 ms · 4 detections · 250 proposals"
    assert fitting_stats(stats, metrics, 1000) == stats
    numbers = "891 ms · 4 detections · 250 proposals"
    narrow = metrics.horizontalAdvance(numbers) + 1
    assert metrics.horizontalAdvance(stats) > narrow
    assert fitting_stats(stats, metrics, narrow) == numbers
    assert fitting_stats(stats, metrics, 5) == "250 proposals"      # then elided, never emptied
