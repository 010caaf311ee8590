"""The Projector tab: t-SNE redraws as it converges, Stop keeps the last layout, hover shows the image,
a click shows its neighbours in feature and pixel space, colour by label or prediction, exports."""
import numpy as np
import pytest
from matplotlib.path import Path
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.tiny import builtin_registry
from workbench.ui.projector.panel import ProjectorPanel

TIMEOUT_MS = 90000


@pytest.fixture
def ready(bind, workspace, bundled):
    workspace.set_registry(builtin_registry())
    workspace.set_model(bundled("digits-cnn"))
    panel = bind(ProjectorPanel)
    panel.resize(1100, 800)
    panel.show()
    return panel


def finished(qtbot, panel, values):
    panel.set_values(values)
    ticket = panel.run()
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS):
        pass
    return panel.current_result()


def view_pos(panel, index) -> QPoint:
    """Where point ``index`` is drawn, in the plot viewport's pixels."""
    scatter = panel.scatter
    x, y = panel.current_result().points[index]
    scene = scatter.plot.vb.mapViewToScene(QPointF(float(x), float(y)))
    return scatter.plot_widget.mapFromScene(scene)


def move_mouse(widget, pos: QPoint) -> None:
    """A real mouse move event (QTest's moves only the cursor on the offscreen platform)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_tsne_redraws_as_it_converges_and_separates_the_digits(qtbot, ready):
    result = finished(qtbot, ready, {"count": 300, "projection": "tsne"})
    assert ready.partials >= 10 and result.finished and result.points.shape == (300, 2)
    assert len(ready.scatter.items) == 10
    assert sum(len(item.data) for item in ready.scatter.items) == 300
    for item in ready.scatter.items:     # the partials moved the points; the last layout is the one drawn
        x, y = item.getData()
        assert np.allclose(x, result.points[item.indices, 0]) and np.allclose(y, result.points[item.indices, 1])
    qtbot.mouseClick(ready.scatter.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=view_pos(ready, 9))
    qtbot.waitUntil(lambda: ready.selected is not None, timeout=5000)
    assert np.allclose(result.points[ready.selected], result.points[9], atol=0.5)
    assert "share the label" in ready.status.text() and result.agreement > 0.95


def test_stop_keeps_the_last_partial_layout(qtbot, ready):
    ready.set_values({"count": 1000, "projection": "tsne", "threads": 1})
    ticket = ready.run()
    qtbot.waitUntil(lambda: ready.partials >= 2, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        ready.stop()
    shown = ready.current_result()
    assert not ready.running() and shown is not None and not shown.finished and len(shown) == 1000
    assert "stopped" in ready.status.text()


def test_hover_shows_the_thumbnail_and_click_the_neighbours_in_both_spaces(qtbot, ready):
    result = finished(qtbot, ready, {"count": 400, "projection": "pca"})
    index = 17
    viewport = ready.scatter.plot_widget.viewport()
    move_mouse(viewport, view_pos(ready, index))
    qtbot.waitUntil(lambda: ready.scatter.thumb.isVisible(), timeout=5000)
    hovered = ready.scatter.hovered
    assert hovered >= 0 and np.allclose(result.points[hovered], result.points[index], atol=0.5)
    assert ready.scatter.thumb.pixmap().width() > result.thumbnails.shape[1]
    ready.choose(index)
    near = ready.strips.neighbours
    assert index not in near["features"] and len(near["features"]) == ready.strips.k
    same_label = (result.labels[near["features"]] == result.labels[index]).mean()
    assert same_label >= 0.75 and "same label" in ready.strips.heading.text()
    assert set(near["features"]) != set(near["pixels"])
    assert ready.strips.tiles["pixels"][0].index == near["pixels"][0]
    assert len(ready.scatter.neighbour_marks.data) == ready.strips.k
    ready.strips.tiles["features"][0].clicked.emit(int(near["features"][0]))
    assert ready.selected == near["features"][0]


def test_a_click_on_the_plot_chooses_the_point(qtbot, ready):
    finished(qtbot, ready, {"count": 200, "projection": "pca"})
    qtbot.mouseClick(ready.scatter.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=view_pos(ready, 5))
    qtbot.waitUntil(lambda: ready.selected is not None, timeout=5000)
    assert np.allclose(ready.current_result().points[ready.selected], ready.current_result().points[5], atol=0.5)


def test_colour_by_prediction_groups_the_points_by_the_models_class(qtbot, bind, workspace, bundled):
    workspace.set_registry(builtin_registry())
    workspace.set_model(bundled("shapes-cnn"))
    panel = bind(ProjectorPanel)
    result = finished(qtbot, panel, {"dataset": "shapes", "count": 300, "projection": "pca"})
    panel.colour_box.setCurrentIndex(panel.colour_box.findData("prediction"))
    counts = {item.category: len(item.data) for item in panel.scatter.items}
    assert counts == {int(c): int(n) for c, n in zip(*np.unique(result.predictions, return_counts=True))}
    panel.colour_box.setCurrentIndex(panel.colour_box.findData("label"))
    counts = {item.category: len(item.data) for item in panel.scatter.items}
    assert counts == {int(c): int(n) for c, n in zip(*np.unique(result.labels, return_counts=True))}


def test_exports_png_svg_and_csv(qtbot, ready, tmp_path):
    assert ready.missing() == "" and not ready.export_button.isEnabled()
    with pytest.raises(ValueError, match="nothing to export"):
        ready.export_figure(tmp_path / "x.png")
    result = finished(qtbot, ready, {"count": 150, "projection": "pca"})
    ready.choose(3)
    png = QImage(str(ready.export_figure(tmp_path / "p.png", 2.0)))
    assert png.width() > 1000 and png.pixel(png.width() // 3, png.height() // 2) is not None
    svg = ready.export_figure(tmp_path / "p.svg").read_text()
    assert "<svg" in svg and "3 (" in svg
    rows = ready.export_csv(tmp_path / "p.csv").read_text().splitlines()
    assert len(rows) == 151 and rows[1].split(",")[0] == "0"
    assert float(rows[1].split(",")[1]) == pytest.approx(result.points[0, 0], rel=1e-4)


def test_a_model_that_is_not_a_classifier_is_refused(qtbot, bind, workspace, bundled):
    workspace.set_registry(builtin_registry())
    panel = bind(ProjectorPanel)
    assert "Load a classifier" in panel.note.text() and not panel.run_button.isEnabled()
    assert panel.run() is None


def drag(qtbot, widget, path: list[QPoint], modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A left-button drag through ``path`` as real mouse events (pyqtgraph takes a press held under
    ``minDragTime``, half a second, for a click, and drops moves closer than a 60 Hz frame)."""
    def send(kind, pos, buttons):
        button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button,
                                                   buttons, modifiers))
    send(QEvent.Type.MouseButtonPress, path[0], Qt.MouseButton.LeftButton)
    qtbot.wait(int(1000 * widget.parent().scene().minDragTime) + 100)
    for a, b in zip(path, path[1:]):
        for t in np.linspace(0.25, 1, 4):     # small steps, as a hand moves
            send(QEvent.Type.MouseMove, QPoint(round(a.x() + t * (b.x() - a.x())), round(a.y() + t * (b.y() - a.y()))),
                 Qt.MouseButton.LeftButton)
            qtbot.wait(25)
    send(QEvent.Type.MouseButtonRelease, path[-1], Qt.MouseButton.NoButton)


def panned(before, after) -> bool:
    """Whether the view's centre moved by more than 3% of its width (the lasso's rings may pad the range)."""
    before, after = np.asarray(before), np.asarray(after)
    return bool(np.abs(after.mean(axis=1) - before.mean(axis=1)).max() > 0.03 * (before[:, 1] - before[:, 0]).min())


def data_rect_path(panel, lo, hi) -> list[QPoint]:
    scatter = panel.scatter
    corners = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1]), (lo[0], lo[1])]
    return [scatter.plot_widget.mapFromScene(scatter.plot.vb.mapViewToScene(QPointF(float(x), float(y))))
            for x, y in corners]


@pytest.mark.parametrize("how", ["lasso mode", "shift"])
def test_the_lasso_selects_the_points_it_encloses_and_says_what_they_are(qtbot, ready, tmp_path, how):
    result = finished(qtbot, ready, {"count": 300, "projection": "pca"})
    zeros = result.points[result.labels == 0]
    lo, hi = zeros.min(axis=0), zeros.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo) / 4          # the middle of the zeros' cluster
    lo, hi = centre - half, centre + half
    if how == "lasso mode":
        ready.lasso_button.setChecked(True)
    modifiers = Qt.KeyboardModifier.ShiftModifier if how == "shift" else Qt.KeyboardModifier.NoModifier
    view_range = ready.scatter.plot.vb.viewRange()
    drawn = []
    ready.scatter.lassoed.connect(drawn.append)
    drag(qtbot, ready.scatter.plot_widget.viewport(), data_rect_path(ready, lo, hi), modifiers)
    in_rect = np.flatnonzero(np.all((result.points >= lo) & (result.points <= hi), axis=1))
    assert len(in_rect) >= 5 and ready.lassoed is not None and len(drawn) == 1
    # the lasso holds what the drawn polygon holds, and the polygon follows the hand's rectangle
    inside_drawn = (Path(drawn[0]).contains_points(result.points))
    assert np.array_equal(np.sort(ready.lassoed), np.flatnonzero(inside_drawn))
    assert len(set(ready.lassoed) & set(in_rect)) / len(set(ready.lassoed) | set(in_rect)) >= 0.6
    assert not panned(view_range, ready.scatter.plot.vb.viewRange())
    zero_share = round(100 * float(np.mean(result.labels[ready.lassoed] == 0)))
    assert f"{len(ready.lassoed)} points selected: {zero_share}% 0" in ready.lasso_text.text()
    assert len(ready.scatter.lasso_marks.data) == len(ready.lassoed)
    rows = ready.export_csv(tmp_path / "l.csv").read_text().splitlines()
    assert rows[0].endswith(",selected") and sum(r.endswith(",1") for r in rows[1:]) == len(ready.lassoed)
    svg = ready.export_figure(tmp_path / "l.svg").read_text()
    assert "<svg" in svg
    QApplication.sendEvent(ready, QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier))
    ready.select_points(None)
    assert ready.lassoed is None and len(ready.scatter.lasso_marks.data) == 0


def test_without_lasso_mode_a_drag_pans_and_selects_nothing(qtbot, ready):
    result = finished(qtbot, ready, {"count": 200, "projection": "pca"})
    lo, hi = result.points.min(axis=0), result.points.max(axis=0)
    before = ready.scatter.plot.vb.viewRange()
    drag(qtbot, ready.scatter.plot_widget.viewport(), data_rect_path(ready, lo + (hi - lo) / 3, hi - (hi - lo) / 3)[:3])
    assert ready.lassoed is None and panned(before, ready.scatter.plot.vb.viewRange())


def test_double_click_opens_the_points_image_in_the_workbench(qtbot, ready, workspace):
    result = finished(qtbot, ready, {"count": 200, "projection": "pca"})
    index = 42
    viewport, at = ready.scatter.plot_widget.viewport(), QPointF(view_pos(ready, index))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    move_mouse(viewport, at.toPoint())       # the pointer comes to the point before it clicks
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, none),
                          (QEvent.Type.MouseButtonDblClick, left), (QEvent.Type.MouseButtonRelease, none)):
        QApplication.sendEvent(viewport, QMouseEvent(kind, at, viewport.mapToGlobal(at), left, buttons,
                                                     Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: workspace.image is not None, timeout=5000)
    opened = ready.selected
    assert np.allclose(result.points[opened], result.points[index], atol=0.5)
    assert workspace.image_name == f"digits #{int(result.ids[opened])}"
    assert workspace.image.shape[:2] == (28, 28) or workspace.image.shape[0] > result.thumbnails.shape[1] - 1
    assert np.array_equal(workspace.image, result.image_of(opened)[0])
    assert ready.open_button.isEnabled()
