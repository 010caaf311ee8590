"""Detection view: filtering, colours, proposals and NMS replay from a cached detect result."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.core.results import DetectionPipeline
from workbench.core.detection.view import (PROPOSAL_COLORMAP, DetectionDisplay, DetectionView, build_layers,
                                           instance_colors, objectness_colors)
from workbench.core.canvas_layers import PALETTE, BoxesLayer, MaskLayer

NAMES = ["__background__", "circle", "square", "triangle"]


def synthetic() -> DetectionPipeline:
    """Three final boxes out of five candidates, with masks and four proposals."""
    pre_boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 40, 40], [21, 20, 41, 40], [50, 5, 60, 15]],
                         np.float32)
    pre_scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3], np.float32)
    pre_labels = np.array([1, 1, 2, 2, 3])
    final = [0, 2, 4]  # what NMS at 0.5 keeps
    masks = np.zeros((3, 64, 64), np.uint8)
    for k, j in enumerate(final):
        x0, y0, x1, y1 = pre_boxes[j].astype(int)
        masks[k, y0:y1, x0:x1] = 1
    return DetectionPipeline(
        boxes=pre_boxes[final], scores=pre_scores[final], labels=pre_labels[final], masks=masks,
        label_names=NAMES, proposals=np.array([[0, 0, 9, 9], [20, 20, 39, 39], [2, 2, 5, 5], [50, 5, 61, 16]],
                                              np.float32),
        proposal_scores=np.array([0.4, 0.95, 0.1, 0.7], np.float32), pre_nms_boxes=pre_boxes,
        pre_nms_scores=pre_scores, pre_nms_labels=pre_labels, nms_threshold=0.5, max_detections=100, time_ms=12.0)


def test_threshold_and_class_filter_match_numpy():
    r = synthetic()
    display = DetectionDisplay(r)
    for threshold in (0.0, 0.35, 0.75, 0.95):
        for classes in (None, frozenset({1}), frozenset({2, 3}), frozenset()):
            built = display.build(DetectionView(score_threshold=threshold, classes=classes))
            keep = r.scores >= threshold
            if classes is not None:
                keep &= np.isin(r.labels, list(classes))
            boxes = built.layer("detections")
            np.testing.assert_array_equal(boxes.boxes, r.boxes[keep])
            assert [row.final for row in built.rows] == list(np.flatnonzero(keep))
            assert [row.name for row in built.rows] == [NAMES[l] for l in r.labels[keep]]
            assert built.counts.shown == keep.sum() and built.counts.final == 3
            masks = built.layer("masks")
            if keep.any():
                np.testing.assert_array_equal(masks.masks, r.masks[keep] > 0)
            else:
                assert masks is None


def test_colour_by_class_and_by_instance():
    built = build_layers(synthetic(), DetectionView(score_threshold=0.0))
    assert built.layer("detections").colors == [PALETTE[1], PALETTE[2], PALETTE[3]]
    built = build_layers(synthetic(), DetectionView(score_threshold=0.0, color_by="instance", mask_opacity=0.8))
    colors = built.layer("detections").colors
    assert len(set(colors)) == 3
    masks = built.layer("masks")
    assert isinstance(masks, MaskLayer) and masks.colors == colors and masks.opacity == 0.8
    many = instance_colors(300)
    assert len(set(many)) == 300


def test_instance_colours_stay_with_their_instance_across_filters():
    display = DetectionDisplay(synthetic())
    every = display.build(DetectionView(score_threshold=0.0, color_by="instance")).layer("detections").colors
    high = display.build(DetectionView(score_threshold=0.5, color_by="instance")).layer("detections").colors
    assert high == every[:2]
    replayed = display.build(DetectionView(score_threshold=0.0, color_by="instance", nms_iou=0.5))
    assert replayed.layer("detections").colors == every


def test_proposals_top_k_ordered_by_objectness():
    r = synthetic()
    built = build_layers(r, DetectionView(show_proposals=True, top_k=3, score_threshold=0.0))
    assert built.roles[0] == "proposals"  # drawn under everything else
    layer = built.layer("proposals")
    assert isinstance(layer, BoxesLayer) and len(layer.boxes) == 3
    order = np.argsort(-r.proposal_scores)[:3]
    # the most object-like is drawn last, on top
    np.testing.assert_array_equal(layer.boxes, r.proposals[order[::-1]])
    np.testing.assert_array_equal(built.proposals, order[::-1])
    assert layer.colors == objectness_colors(r.proposal_scores[order[::-1]])
    assert PROPOSAL_COLORMAP == "viridis" and layer.colors[0] != layer.colors[-1]
    assert "proposals" not in build_layers(r, DetectionView(show_proposals=False)).roles


def test_replay_and_stages_on_synthetic_result():
    display = DetectionDisplay(synthetic())
    np.testing.assert_array_equal(display.pre_of_final, [0, 2, 4])
    loose = display.build(DetectionView(score_threshold=0.0, nms_iou=0.95))
    assert loose.counts.after == 5 and len(loose.rows) == 5
    assert [row.final for row in loose.rows] == [0, -1, 1, -1, 2]
    # masks only for the boxes the model kept (the mask head is not rerun)
    assert len(loose.layer("masks").masks) == 3
    before = display.build(DetectionView(score_threshold=0.5, stage="before"))
    assert before.roles == ["detections"] and [row.pre_nms for row in before.rows] == [0, 1, 2, 3]
    both = display.build(DetectionView(score_threshold=0.0, stage="both"))
    assert both.roles == ["pre-nms", "masks", "detections"]
    assert both.layer("pre-nms").line_width < both.layer("detections").line_width
    assert len(both.layer("pre-nms").boxes) == 5 and len(both.rows) == 3


def test_unchanged_layers_keep_their_key():
    display = DetectionDisplay(synthetic())
    a = display.build(DetectionView(score_threshold=0.2, show_proposals=True))
    b = display.build(DetectionView(score_threshold=0.25, show_proposals=True))
    c = display.build(DetectionView(score_threshold=0.5, show_proposals=True))
    assert a.keys == b.keys
    assert a.keys[0] == c.keys[0] and a.keys[-1] != c.keys[-1]


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="color_by"):
        DetectionView(color_by="score")
    with pytest.raises(ValueError, match="stage"):
        DetectionView(stage="during")


@pytest.fixture(scope="module")
def fasterrcnn_result():
    from workbench.core.methods.detect import METHOD
    from workbench.core.runner import context, run_method
    from workbench.core.samples import sample_image
    from workbench.core.sources import load_model
    handle = load_model("zoo:shapes-fasterrcnn")
    return run_method(METHOD, context(handle, sample_image("scene-0")), {})


def test_replay_at_the_models_iou_gives_its_final_boxes(fasterrcnn_result):
    r = fasterrcnn_result
    assert len(r.boxes) > 1 and len(r.pre_nms_boxes) > len(r.boxes) and len(r.proposals)
    display = DetectionDisplay(r)
    own = display.build(DetectionView(score_threshold=0.0))
    replayed = display.build(DetectionView(score_threshold=0.0, nms_iou=r.nms_threshold))
    np.testing.assert_allclose(replayed.layer("detections").boxes, own.layer("detections").boxes, atol=1e-3)
    assert [row.final for row in replayed.rows] == list(range(len(r.boxes)))
    assert [row.label for row in replayed.rows] == list(r.labels)
    assert (display.pre_of_final >= 0).all()
    assert replayed.counts == own.counts
    strict = display.build(DetectionView(score_threshold=0.0, nms_iou=0.1))
    loose = display.build(DetectionView(score_threshold=0.0, nms_iou=0.9))
    assert len(strict.rows) <= len(own.rows) <= len(loose.rows)
    assert len(strict.rows) < len(loose.rows)


def test_keypoints_follow_the_filter_and_the_instance_colours():
    r = synthetic()
    r.keypoints = np.zeros((3, 2, 3), np.float32)
    for k in range(3):
        r.keypoints[k] = [[k, k, 1], [k + 5, k + 5, 1]]
    r.skeleton = [(0, 1)]
    display = DetectionDisplay(r)
    built = display.build(DetectionView(score_threshold=0.5, color_by="instance"))
    points, skeleton = built.layer("keypoints points"), built.layer("keypoints skeleton")
    kept = [row.final for row in built.rows]
    assert kept == [0, 1]
    np.testing.assert_array_equal(points.points, r.keypoints[kept, :, :2].reshape(-1, 2))
    assert len(skeleton.segments) == 2
    boxes = built.layer("detections")
    assert skeleton.colors == boxes.colors and points.colors == [c for c in boxes.colors for _ in range(2)]
