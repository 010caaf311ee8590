"""Defaults that show something: detection figures at the panel's threshold, labels that stay
readable, dashed candidates before NMS, a legend for proposals, dimmed images under diverging
maps and all-zero maps that say why."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench import api
from workbench.core import colormaps, runner
from workbench.core.attribution.display import DisplayOptions, display_layer
from workbench.core.attribution.notes import (ZERO_GRADIENT, ZERO_SCORE_CHANGE, is_all_zero, noted_title,
                                              zero_map_note)
from workbench.core.canvas_layers import DIM_SIGNED, BoxesLayer, HeatmapLayer, detection_layers
from workbench.core.detection.view import (PROPOSAL_COLORMAP, PROPOSAL_LEGEND, DetectionView, build_layers,
                                           default_layers, objectness_colors)
from workbench.core.label_placement import place_labels, priority
from workbench.core.methods import occlusion, saliency
from workbench.core.renderers import layers_for
from workbench.core.results import Heatmap
from tests.core.test_detection_view import synthetic
from tests.tiny import picture, tiny_handle


# --- the figure of a detect result uses the Detection panel's defaults ---------------------------
@pytest.fixture(scope="module")
def scene_detections(bundled):
    handle = bundled("shapes-fasterrcnn")
    image = api.load_image("sample:scene-1")
    return api.run("detect", handle, image), image


def test_detect_figure_layers_keep_only_boxes_above_the_panels_threshold(scene_detections, tmp_path):
    result, _ = scene_detections
    threshold = DetectionView().score_threshold
    strong = result.scores >= threshold
    assert threshold == 0.5 and 0 < strong.sum() < len(result.boxes)   # the method itself keeps weak ones
    (boxes,) = [l for l in layers_for(result) if isinstance(l, BoxesLayer)]
    np.testing.assert_allclose(boxes.boxes, result.boxes[strong])
    assert all(s >= threshold for s in boxes.scores) and len(boxes.texts) == strong.sum()
    # the npz still holds every box
    saved = np.load(result.save_npz(tmp_path / "d.npz"))
    assert len(saved["boxes"]) == len(result.boxes)
    # and the unfiltered drawing is still there for views that filter themselves
    assert len(detection_layers(result)[-1].boxes) == len(result.boxes)


def test_default_layers_are_the_panels_first_view():
    result = synthetic()
    want = build_layers(result, DetectionView())
    got = default_layers(result)
    assert [l.name for l in got] == [l.name for l in want.layers]
    np.testing.assert_array_equal(got[-1].boxes, want.layers[-1].boxes)


# --- label placement ---------------------------------------------------------------------------
def test_labels_go_above_else_inside_else_below():
    boxes = np.array([[10, 30, 60, 80], [12, 31, 62, 81], [14, 32, 64, 82], [15, 33, 65, 83]], float)
    sizes = np.full((4, 2), (20.0, 10.0))
    placed = place_labels(boxes, sizes, scores=[0.9, 0.8, 0.7, 0.6], bounds=(100, 100))
    by_box = {p.index: p for p in placed}
    assert [by_box[i].where for i in range(3)] == ["above", "inside", "below"]
    assert (by_box[0].x, by_box[0].y) == (10, 20) and (by_box[1].y, by_box[2].y) == (31, 82)
    assert 3 not in by_box                                     # nowhere left: dropped, not stacked
    assert [p.index for p in placed][-1] == 0                   # the best is drawn last, on top
    for a in placed:
        assert not any(a.overlaps(b.x, b.y, b.w, b.h) for b in placed if b is not a)


def test_the_highest_score_wins_whatever_the_list_order():
    boxes = np.array([[10, 30, 60, 80], [10, 30, 60, 80]], float)
    placed = place_labels(boxes, np.full((2, 2), (20.0, 10.0)), scores=[0.2, 0.95], bounds=(100, 100))
    assert {p.index: p.where for p in placed} == {1: "above", 0: "inside"}
    assert list(priority(3, [0.1, 0.5, 0.3], first=2)) == [2, 1, 0]
    assert list(priority(3)) == [0, 1, 2]


def test_labels_stay_inside_the_bounds():
    # a box at the top edge: no room above, so inside; a box at the right edge: shifted left
    placed = place_labels(np.array([[0, 0, 50, 50], [90, 60, 99, 70]], float), np.full((2, 2), (20.0, 10.0)),
                          bounds=(100, 100))
    by_box = {p.index: p for p in placed}
    assert by_box[0].where == "inside" and by_box[0].y == 0
    assert by_box[1].x == 80 and by_box[1].x + by_box[1].w <= 100
    # a label too tall for any place in bounds is dropped
    assert place_labels(np.array([[0, 0, 10, 10]], float), np.array([[5.0, 200.0]]), bounds=(100, 100)) == []
    with pytest.raises(ValueError, match="label sizes"):
        place_labels(np.zeros((2, 4)), np.zeros((1, 2)))


# --- stages and proposals ------------------------------------------------------------------------
def test_candidates_before_nms_are_dashed_and_faded_under_the_final_boxes():
    built = build_layers(synthetic(), DetectionView(score_threshold=0.0, stage="both"))
    pre, final = built.layer("pre-nms"), built.layer("detections")
    assert pre.dashed and pre.opacity < 1.0 and not pre.texts
    assert not final.dashed and final.opacity == 1.0
    only_before = build_layers(synthetic(), DetectionView(score_threshold=0.0, stage="before")).layer("detections")
    assert not only_before.dashed   # shown alone they are the subject, drawn solid


def test_final_boxes_carry_their_scores_for_label_priority():
    result = synthetic()
    layer = build_layers(result, DetectionView(score_threshold=0.0)).layer("detections")
    np.testing.assert_allclose(layer.scores, result.scores)


def test_proposals_layer_names_its_colour_scale():
    result = synthetic()
    layer = build_layers(result, DetectionView(show_proposals=True, top_k=4)).layer("proposals")
    assert (layer.colormap, tuple(layer.levels), layer.show_colorbar) == (PROPOSAL_COLORMAP, (0.0, 1.0), True)
    assert layer.colorbar_label == PROPOSAL_LEGEND == "objectness"
    order = np.argsort(-result.proposal_scores, kind="stable")[::-1]
    assert layer.colors == objectness_colors(result.proposal_scores[order])
    assert not BoxesLayer(name="plain").show_colorbar


# --- dimming the image under a map ---------------------------------------------------------------
def test_diverging_maps_dim_the_image_by_default():
    signed = HeatmapLayer.auto("s", np.array([[-1.0, 2.0]], np.float32))
    unsigned = HeatmapLayer.auto("u", np.array([[0.0, 2.0]], np.float32))
    assert signed.signed and signed.dim_image == DIM_SIGNED > 0
    assert not unsigned.signed and unsigned.dim_image == 0.0
    assert HeatmapLayer.auto("s", np.array([[-1.0, 2.0]], np.float32), dim_image=0.0).dim_image == 0.0
    shown = display_layer("a", np.array([[-1.0, 2.0]], np.float32), DisplayOptions())
    assert shown.signed and shown.dim_image == DIM_SIGNED
    with pytest.raises(ValueError, match="dim_image"):
        HeatmapLayer(name="h", dim_image=1.5)


def test_the_wash_is_the_colour_of_zero_or_of_the_low_end():
    signed = HeatmapLayer(name="s", colormap="coolwarm", levels=(-2.0, 2.0), signed=True)
    assert signed.wash_color() == tuple(int(c) for c in colormaps.lut("coolwarm")[128][:3])
    unsigned = HeatmapLayer(name="u", colormap="inferno", levels=(0.0, 1.0))
    assert unsigned.wash_color() == tuple(int(c) for c in colormaps.lut("inferno")[0][:3])


# --- all-zero maps say why -----------------------------------------------------------------------
def _dead_head():
    handle = tiny_handle(16)
    with torch.no_grad():
        handle.module.fc.weight.zero_()
    return handle


def test_an_all_zero_gradient_map_says_why():
    handle = _dead_head()
    result = runner.run_method(saliency.METHOD, runner.context(handle, picture(), target=1), {})
    assert is_all_zero(result.heatmap)
    assert zero_map_note(result) == ZERO_GRADIENT
    assert "all-zero map" in result.title and result.title.startswith("saliency")
    assert ZERO_GRADIENT == ("all-zero map: the target's gradient is zero at this input "
                             "(e.g. untrained head or saturated ReLUs)")


def test_an_all_zero_occlusion_map_says_the_score_never_changes():
    handle = _dead_head()
    result = runner.run_method(occlusion.METHOD, runner.context(handle, picture(), target=1), {})
    assert zero_map_note(result) == ZERO_SCORE_CHANGE and "all-zero map" in result.title


def test_a_map_with_signal_has_no_note():
    result = runner.run_method(saliency.METHOD, runner.context(tiny_handle(16), picture(), target=1), {})
    assert zero_map_note(result) == "" and "all-zero" not in result.title
    assert zero_map_note(Heatmap(heatmap=np.zeros((0, 0), np.float32))) == ""
    assert is_all_zero(np.array([0.0, np.nan])) and not is_all_zero(np.array([0.0, 1e-30]))
    assert noted_title("t", "") == "t"
