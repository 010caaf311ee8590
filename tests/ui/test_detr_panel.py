"""The DETR tab on a randomly initialised shapes DETR: the query list, picking a query (row or
box), the decoder layer and head, the encoder self-attention at a clicked pixel, the Hungarian
matching on a bundled scene (and why there is none elsewhere), the object threshold and export.
Everything after the one run is a view of its result: no control runs the model again."""
import functools

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from scipy.optimize import linear_sum_assignment

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer
from workbench.core.results.detr import DetrAttention
from workbench.core.samples import sample_image
from workbench.ui.attention.runs import attention_key
from workbench.ui.detr import views as V
from workbench.ui.detr.canvas import MAP, QUERIES
from workbench.ui.detr.panel import DetrPanel
from workbench.ui.panels import PANELS, Deferred

TIMEOUT_MS = 60000
KEY = attention_key("detr-attention")
SCENE = 3


@functools.cache
def detr():
    from workbench.core.sources import load_model
    return load_model("zoo:shapes-detr?weights=none")


@pytest.fixture
def jobs(engine):
    tickets = []
    engine.submitted.connect(tickets.append)
    yield tickets
    engine.submitted.disconnect(tickets.append)


def wait_result(qtbot, panel, jobs, count=1):
    mine = lambda: [t for t in jobs if t.key == KEY]   # noqa: E731
    qtbot.waitUntil(lambda: len(mine()) >= count and mine()[count - 1].ended, timeout=TIMEOUT_MS)
    assert mine()[count - 1].state == "done", mine()[count - 1].error
    qtbot.waitUntil(lambda: panel.result is mine()[count - 1].result, timeout=5000)
    return panel.result


@pytest.fixture
def panel(qtbot, bind, workspace, jobs):
    workspace.set_registry(builtin_registry())
    workspace.set_model(detr())
    workspace.set_image(sample_image(f"scene-{SCENE}"), f"sample:scene-{SCENE}")
    p = bind(DetrPanel)
    p.resize(1000, 900)
    wait_result(qtbot, p, jobs)
    return p


def layer_named(layers, name):
    return next((l for l in layers if l.name == name), None)


def map_data(p):
    return next(l for l in p.canvas.scene.map if isinstance(l, HeatmapLayer)).data


def test_the_detr_tab_is_a_deferred_tab_for_models_with_object_queries():
    assert Deferred("workbench.ui.detr.panel:DetrPanel", "DETR", "detrTab", (),
                    "workbench.core.model_traits:has_object_queries") in PANELS
    assert (DetrPanel.title, DetrPanel.area, DetrPanel.object_name) == ("DETR", "tab", "detrTab")


def test_the_query_list_has_every_query_with_its_class_scores_and_match(panel):
    result = panel.result
    assert isinstance(result, DetrAttention) and result.params["scene"] == SCENE
    rows = panel.query_table.rows_text()
    assert len(rows) == result.num_queries == 10
    scores, labels, empty = result.scores(-1), result.labels(-1), result.no_object(-1)
    matched = result.object_of_query()
    for q, (name, cls, score, no_obj, gt) in enumerate(rows):
        assert name == f"q{q}"
        assert cls.strip("()") == result.label_name(int(labels[q]))
        assert (score, no_obj) == (f"{scores[q]:.2f}", f"{empty[q]:.2f}")
        want = f"GT{matched[q]} {result.label_name(int(result.gt_labels[matched[q]]))}" if matched[q] >= 0 else "—"
        assert gt == want
    # the run's best query is shown and selected
    assert panel.view().query == result.query
    assert panel.query_table.selectedIndexes()[0].row() == result.query


def test_picking_a_row_shows_that_querys_cross_attention_without_running_again(panel, jobs):
    result = panel.result
    first = map_data(panel).copy()
    other = (result.query + 1) % result.num_queries
    panel.query_table.selectRow(other)
    view = panel.view()
    assert view.query == other and view.focus == "query"
    np.testing.assert_allclose(map_data(panel), result.at(other, 2, -1).heatmap, rtol=1e-6)
    assert not np.allclose(map_data(panel), first)
    selected = layer_named(panel.canvas.scene.map, f"query {other}")
    np.testing.assert_allclose(selected.boxes[0], result.boxes[2][other])
    assert len([t for t in jobs if t.key == KEY]) == 1


def test_the_decoder_layer_changes_the_boxes_classes_and_map(panel):
    result = panel.result
    assert panel.controls.layer() == result.layers - 1 == 2
    q = panel.view().query

    def all_boxes():
        layers = [l for l in panel.canvas.scene.queries if l.name in ("object queries", "no-object queries")]
        return np.concatenate([l.boxes for l in layers])

    last = all_boxes()
    panel.controls.set_layer(0)
    assert panel.view().layer == 0
    first = all_boxes()
    np.testing.assert_allclose(np.sort(first, axis=0), np.sort(result.boxes[0], axis=0))
    assert not np.allclose(np.sort(first, axis=0), np.sort(last, axis=0))
    assert panel.query_table.rows_text()[q][2] == f"{result.scores(0)[q]:.2f}"
    np.testing.assert_allclose(map_data(panel), result.at(q, 0, -1).heatmap, rtol=1e-6)


def test_a_head_shows_that_heads_map_and_a_tile_picks_its_head(qtbot, panel):
    result = panel.result
    q = panel.view().query
    assert len(panel.canvas.scene.tiles) == result.weights.shape[1] == 8
    panel.controls.set_head(3)
    np.testing.assert_allclose(map_data(panel), result.at(q, 2, 3).heatmap, rtol=1e-6)
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton, pos=panel.canvas.tile_rect(5).center().toPoint())
    assert panel.controls.head() == 5 and panel.view().head == 5
    tile = next(l for l in panel.canvas.scene.tiles[6] if isinstance(l, HeatmapLayer)).data
    np.testing.assert_allclose(tile, result.at(q, 2, 6).heatmap, rtol=1e-6)
    panel.controls.heads_grid.setChecked(False)
    assert panel.canvas.scene.tiles == []


def test_clicking_the_map_shows_the_encoder_self_attention_of_that_token_and_back(qtbot, panel, jobs):
    result = panel.result
    x, y = 83.0, 21.0          # 8 x 8 px tokens on the 128 x 128 scene: row 2, column 10
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton,
                     pos=panel.canvas.widget_point(MAP, x + 0.5, y + 0.5).toPoint())
    view = panel.view()
    assert view.focus == "token" and view.token == 2 * 16 + 10
    np.testing.assert_allclose(map_data(panel), result.at_token(42, layer=2, head=-1).heatmap, rtol=1e-6)
    cell = layer_named(panel.canvas.scene.map, "encoder token")
    np.testing.assert_allclose(cell.boxes[0], [80, 16, 88, 24])
    assert panel.controls.back_button.isEnabled() and panel.controls.layer_label.text() == "Encoder layer"
    panel.controls.set_layer(1)           # the layer control now picks the encoder layer
    np.testing.assert_allclose(map_data(panel), result.at_token(42, layer=1, head=-1).heatmap, rtol=1e-6)
    panel.controls.back_button.click()
    assert panel.view().focus == "query" and panel.view().query == result.query
    assert not panel.controls.back_button.isEnabled() and panel.controls.layer_label.text() == "Decoder layer"
    assert len([t for t in jobs if t.key == KEY]) == 1


def test_clicking_a_box_picks_its_query_and_outside_every_box_a_token(qtbot, panel):
    view = panel.view()
    boxes = view.boxes[view.layer]
    q = int(np.argmin((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))   # the smallest box
    cx, cy = (boxes[q, 0] + boxes[q, 2]) / 2, (boxes[q, 1] + boxes[q, 3]) / 2
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton, pos=panel.canvas.widget_point(QUERIES, cx, cy).toPoint())
    assert panel.view().query == q and panel.view().focus == "query"
    outside = [(x, y) for x in range(1, 128, 6) for y in range(1, 128, 6)
               if V.query_under(view, x + 0.5, y + 0.5, True) is None]
    if outside:        # a random DETR's boxes may cover the scene
        x, y = outside[0]
        qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton,
                         pos=panel.canvas.widget_point(QUERIES, x + 0.5, y + 0.5).toPoint())
        assert panel.view().focus == "token" and panel.view().token == (y // 8) * 16 + x // 8


def test_query_under_prefers_objects_then_the_smallest_box_and_skips_hidden_ones():
    probs = np.zeros((1, 3, 3), np.float32)
    probs[0, :, -1] = 1.0
    probs[0, 1] = [0.9, 0.0, 0.1]      # query 1 predicts class 1
    boxes = np.array([[[0, 0, 10, 10], [0, 0, 50, 50], [2, 2, 6, 6]]], np.float32)
    result = DetrAttention(weights=np.zeros((1, 1, 3, 4), np.float32), grid_hw=(2, 2), boxes=boxes, probs=probs,
                           label_names=["bg", "a", "b"], score_threshold=0.5, layer=0, image_hw=(64, 64))
    assert V.query_under(result, 4, 4, show_empty=True) == 1        # the object, though larger
    assert V.query_under(result, 30, 30, show_empty=True) == 1
    result.probs[0, 1] = [0.0, 0.0, 1.0]
    assert V.query_under(result, 4, 4, show_empty=True) == 2        # the smallest "no object" box
    assert V.query_under(result, 4, 4, show_empty=False) is None    # hidden: not pickable
    assert V.query_under(result, 60, 60, show_empty=True) is None


def test_the_matching_on_a_bundled_scene_is_the_least_cost_assignment(panel):
    from workbench.zoo.shapes import render_scene
    result, scene = panel.result, render_scene(SCENE)
    table = panel.matching.table
    assert table.isVisibleTo(panel)
    assert (table.rowCount(), table.columnCount()) == (result.num_queries, len(scene.boxes))
    assert table.item(0, 0).text() == f"{result.cost[0, 0]:.2f}"
    rows, cols = linear_sum_assignment(result.cost)
    assert sorted(panel.matching.assigned_cells()) == sorted(zip(rows.tolist(), cols.tolist()))
    summary = panel.matching.summary.text()
    for obj, q in enumerate(result.query_of_object):
        assert f"GT{obj} {result.label_name(int(scene.labels[obj]) + 1)} → q{q}" in summary
    truth = layer_named(panel.canvas.scene.queries, "ground truth")
    np.testing.assert_allclose(truth.boxes, scene.boxes)
    texts = [t for l in panel.canvas.scene.queries if l.name in ("object queries", "no-object queries")
             for t in l.texts]
    for obj, q in enumerate(result.query_of_object):    # each query's label names the object it took
        assert [t for t in texts if t.endswith(f" → GT{obj}")] == [next(t for t in texts if t.split()[0] == f"q{q}")]


def test_another_image_says_why_there_is_no_matching(qtbot, panel, workspace, jobs):
    workspace.set_image(picture(128, 128), "photo.png")
    result = wait_result(qtbot, panel, jobs, count=2)
    assert result.params["scene"] == -1 and not result.has_ground_truth
    assert not panel.matching.table.isVisibleTo(panel)
    assert "No Hungarian matching for 'photo.png'" in panel.matching.summary.text()
    assert "sample:scene-N" in panel.matching.summary.text()
    assert layer_named(panel.canvas.scene.queries, "ground truth") is None
    assert all(r[4] == "—" for r in panel.query_table.rows_text())


def test_the_threshold_and_the_no_object_toggle_change_what_is_drawn_not_the_run(panel, jobs):
    result = panel.result
    n = result.num_queries

    def drawn(name):
        layer = layer_named(panel.canvas.scene.queries, name)
        return 0 if layer is None else len(layer.boxes)

    panel.controls.set_threshold(0.0)
    assert (drawn("object queries"), drawn("no-object queries")) == (n, 0)
    assert len(panel.view().objects()) == n
    panel.controls.set_threshold(1.0)
    assert (drawn("object queries"), drawn("no-object queries")) == (0, n)
    empty = layer_named(panel.canvas.scene.queries, "no-object queries")
    assert empty.dashed and empty.opacity < 1
    assert all(r[1].startswith("(") for r in panel.query_table.rows_text())   # shown as "no object"
    panel.controls.show_empty.setChecked(False)
    assert drawn("no-object queries") == 0
    assert len([t for t in jobs if t.key == KEY]) == 1


def test_export_writes_the_per_query_figure(panel, tmp_path):
    panel.controls.set_threshold(1.0)        # no object: one panel, the selected query
    one = QImage(str(panel.export_figure(tmp_path / "one.png")))
    panel.controls.set_threshold(0.0)        # every query an object: a panel each, five to a row
    every = QImage(str(panel.export_figure(tmp_path / "every.png")))
    assert not one.isNull() and not every.isNull()
    assert every.width() > 3 * one.width() and every.height() > one.height()
    svg = panel.export_figure(tmp_path / "f.svg")
    assert "<svg" in svg.read_text()
    with pytest.raises(ValueError, match="unsupported format"):
        panel.export_figure(tmp_path / "f.txt")


def test_a_new_model_runs_again_and_a_model_without_queries_says_why(qtbot, panel, workspace, jobs, tmp_path):
    workspace.set_model(tiny_handle())
    qtbot.wait(50)
    assert panel.result is None and panel.view() is None
    assert "has no object queries" in panel.hint() and "zoo:shapes-detr" in panel.hint()
    assert len([t for t in jobs if t.key == KEY]) == 1
    with pytest.raises(ValueError, match="nothing to export"):
        panel.export_figure(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    workspace.set_model(detr())
    assert isinstance(wait_result(qtbot, panel, jobs, count=2), DetrAttention)


def test_a_detr_tab_at_the_default_window_size_cuts_nothing_off(qtbot, make_window):
    from tests.ui.test_layout_fit import DEFAULT, cut_off
    window = make_window()
    window.use_default_layout(DEFAULT)
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(detr())
    ws.set_image(sample_image(f"scene-{SCENE}"), f"sample:scene-{SCENE}")
    tab = next(t for t in window.tabs if t.object_name == "detrTab")
    window.views.setCurrentWidget(tab)
    panel = window.panel("detrTab")
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.has_ground_truth, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    assert cut_off(window.views) == []
    layout = panel.canvas.layout_used
    assert layout is not None and min(layout.panels[0].width(), layout.panels[0].height()) >= 200
    table = panel.query_table
    assert table.viewport().height() >= 5 * table.rowHeight(0)      # half the queries at a glance, at least


def test_export_as_script_redraws_the_map_with_matplotlib(panel, tmp_path):
    import subprocess
    import sys
    script = panel.export_script(tmp_path / "fig.py")
    assert (tmp_path / "fig.figure.npz").is_file()
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "fig.png")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    png = QImage(str(tmp_path / "fig.png"))
    assert not png.isNull() and png.pixel(png.width() // 3, png.height() // 2) != png.pixel(2, 2)
