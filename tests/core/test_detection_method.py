"""The detect method: final boxes equal the model's own, stages are consistent, pixels map back."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.detection.pipeline import capture_pipeline
from workbench.core.results.detections import DetectionPipeline, replay_nms
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.hooks import hook_count
from workbench.core.methods.detect import METHOD
from workbench.core.runner import context, run_method

INPUT_HW = (160, 160)
IMAGE_HW = (100, 200)  # a wide image, stretched to the square model input


def _image(hw=IMAGE_HW, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 60, (*hw, 3), dtype=np.uint8)
    img[20:70, 30:110] = (220, 40, 40)
    img[40:90, 130:180] = (40, 200, 60)
    return img


def _handle(module, name: str) -> ModelHandle:
    labels = ["__background__"] + [f"class_{i}" for i in range(1, 7)]
    return ModelHandle(id=name, module=module.eval(), task="detect",
                       preprocess=Preprocess(Geometry(INPUT_HW, "stretch")), labels=labels)


def _seeded(build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build().eval()


@pytest.fixture(scope="module")
def faster_rcnn():
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
    return _handle(_seeded(lambda: fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=7, box_score_thresh=0.0)),
        "torchvision:fasterrcnn_mobilenet_v3_large_320_fpn")


@pytest.fixture(scope="module")
def mask_rcnn():
    from workbench.zoo.detection_nets import build_mask_rcnn
    return _handle(_seeded(build_mask_rcnn), "zoo:shapes-maskrcnn?weights=none")


@pytest.fixture(scope="module")
def fcos():
    from workbench.zoo.detection_nets import build_fcos
    return _handle(_seeded(build_fcos), "zoo:shapes-fcos?weights=none")


@pytest.fixture(scope="module")
def faster_run(faster_rcnn):
    """One run of the method on the wide image, and the model's own forward on it."""
    image = _image()
    return _run(faster_rcnn, image), *_reference(faster_rcnn, image)


@pytest.fixture(scope="module")
def mask_run(mask_rcnn):
    image = _image()
    return _run(mask_rcnn, image), *_reference(mask_rcnn, image)


def _run(handle, image, **values) -> DetectionPipeline:
    result = run_method(METHOD, context(handle, image), {"score_threshold": 0.0, **values})
    assert isinstance(result, DetectionPipeline)
    assert hook_count(handle.module) == 0
    return result


def _reference(handle, image):
    """The model's own forward on the same tensor, boxes scaled to image pixels by hand."""
    x = handle.preprocess(image)
    with torch.no_grad():
        out = handle.module([x[0]])[0]
    sy, sx = IMAGE_HW[0] / INPUT_HW[0], IMAGE_HW[1] / INPUT_HW[1]
    boxes = out["boxes"].numpy() * np.array([sx, sy, sx, sy], np.float32)
    return out, boxes


def _assert_replay_matches_final(r: DetectionPipeline, top: int = 10) -> None:
    keep = replay_nms(r.pre_nms_boxes, r.pre_nms_scores, r.pre_nms_labels, r.nms_threshold)
    n = min(top, len(r.boxes))
    assert n > 0
    np.testing.assert_allclose(r.pre_nms_boxes[keep[:n]], r.boxes[:n], atol=1e-3)
    np.testing.assert_allclose(r.pre_nms_scores[keep[:n]], r.scores[:n], atol=1e-6)
    np.testing.assert_array_equal(r.pre_nms_labels[keep[:n]], r.labels[:n])


def test_two_stage_final_boxes_equal_the_models_own_in_image_pixels(faster_run):
    r, out, expected = faster_run
    assert len(r.boxes) == len(out["boxes"]) > 0
    np.testing.assert_allclose(r.boxes, expected, atol=1e-3)
    np.testing.assert_allclose(r.scores, out["scores"].numpy(), atol=1e-6)
    np.testing.assert_array_equal(r.labels, out["labels"].numpy())
    H, W = IMAGE_HW
    assert r.boxes[:, [0, 2]].min() >= 0 and r.boxes[:, [0, 2]].max() <= W + 1e-3
    assert r.boxes[:, [1, 3]].min() >= 0 and r.boxes[:, [1, 3]].max() <= H + 1e-3
    # the wide image really is mapped: some box reaches past the model's 160 px width
    assert r.boxes[:, 2].max() > INPUT_HW[1]
    assert r.masks is None and r.time_ms > 0


def test_proposals_are_the_rpns_and_within_its_budget(faster_rcnn, faster_run):
    r = faster_run[0]
    rpn = faster_rcnn.module.rpn
    assert 0 < len(r.proposals) <= rpn.post_nms_top_n()
    assert len(r.proposal_scores) == len(r.proposals)
    assert ((r.proposal_scores >= 0) & (r.proposal_scores <= 1)).all()
    H, W = IMAGE_HW
    assert r.proposals[:, 2].max() <= W + 1e-3 and r.proposals[:, 3].max() <= H + 1e-3
    # every pre-NMS box is a proposal refined by the box head: at most one per class each
    assert len(r.pre_nms_boxes) <= len(r.proposals) * 6
    shown = r.stage_detections("proposals")
    assert shown.stage == "proposals"
    np.testing.assert_array_equal(shown.boxes, r.proposals)
    np.testing.assert_array_equal(r.stage_detections("pre-NMS").labels, r.pre_nms_labels)
    with pytest.raises(ValueError, match="unknown stage"):
        r.stage_detections("anchors")


def test_replaying_nms_on_pre_nms_boxes_gives_the_final_detections(faster_rcnn, faster_run):
    r = faster_run[0]
    assert r.nms_threshold == faster_rcnn.module.roi_heads.nms_thresh
    assert len(r.pre_nms_boxes) > len(r.boxes)
    _assert_replay_matches_final(r)
    # a looser threshold keeps more boxes, a stricter one fewer
    assert len(r.replayed(0.9, max_detections=10_000).boxes) > len(r.replayed(0.3, max_detections=10_000).boxes)


def test_params_apply_for_the_run_only(mask_rcnn, mask_run):
    roi = mask_rcnn.module.roi_heads
    before = (roi.score_thresh, roi.detections_per_img, roi.nms_thresh)
    assert mask_run[0].max_detections == roi.detections_per_img == len(mask_run[0].boxes)
    median = float(np.median(mask_run[0].pre_nms_scores))
    r = _run(mask_rcnn, _image(), max_detections=5, score_threshold=median)
    assert len(r.boxes) == 5 and r.max_detections == 5 and len(r.masks) == 5
    assert r.pre_nms_scores.min() > median
    assert len(r.replayed(r.nms_threshold).boxes) == 5
    assert (roi.score_thresh, roi.detections_per_img, roi.nms_thresh) == before


def test_mask_rcnn_masks_are_thresholded_in_image_pixels(mask_rcnn, mask_run):
    r, out, expected = mask_run
    np.testing.assert_allclose(r.boxes, expected, atol=1e-3)
    assert r.masks is not None and r.masks.dtype == np.uint8
    assert r.masks.shape == (len(r.boxes), *IMAGE_HW)
    probs = out["masks"][:, 0].numpy()
    geometry = mask_rcnn.geometry
    for i in range(3):
        want = geometry.map_to_image(probs[i], IMAGE_HW) > 0.5
        np.testing.assert_array_equal(r.masks[i], want)
    # masks are pasted inside their boxes: nothing set far outside box 0
    x0, y0, x1, y1 = r.boxes[0]
    ys, xs = np.nonzero(r.masks[0])
    if len(xs):
        assert xs.min() >= x0 - 2 and xs.max() <= x1 + 2 and ys.min() >= y0 - 2 and ys.max() <= y1 + 2
    _assert_replay_matches_final(r)


def test_one_stage_has_pre_nms_candidates_and_no_proposals(fcos):
    image = _image()
    r = _run(fcos, image)
    out, expected = _reference(fcos, image)
    np.testing.assert_allclose(r.boxes, expected, atol=1e-3)
    assert len(r.proposals) == 0 and any("one-stage" in n for n in r.notes)
    assert r.nms_threshold == fcos.module.nms_thresh
    _assert_replay_matches_final(r)
    assert fcos.module.nms_thresh == 0.6 and fcos.module.detections_per_img == 50


def test_capture_matches_forward_in_model_pixels(mask_rcnn):
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = mask_rcnn.module([x[0]])[0]
    p = capture_pipeline(mask_rcnn.module, x)
    np.testing.assert_array_equal(p.boxes, out["boxes"].numpy())
    np.testing.assert_array_equal(p.masks, out["masks"][:, 0].numpy())


def test_npz_holds_every_stage(mask_run, tmp_path):
    r = mask_run[0]
    data = np.load(r.save_npz(tmp_path / "det.npz"))
    for key in ("boxes", "scores", "labels", "masks", "proposals", "proposal_scores",
                "pre_nms_boxes", "pre_nms_scores", "pre_nms_labels", "input", "params"):
        assert key in data.files, key
    np.testing.assert_array_equal(data["pre_nms_boxes"], r.pre_nms_boxes)
    assert data["input"].shape == (1, 3, *INPUT_HW)


def test_replay_nms_closed_form():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    labels = np.array([1, 1, 2, 1])
    # boxes 0 and 1 overlap with IoU 90/110 = 0.818; box 2 is another class
    np.testing.assert_array_equal(replay_nms(boxes, scores, labels, 0.8), [0, 2, 3])
    np.testing.assert_array_equal(replay_nms(boxes, scores, labels, 0.85), [0, 1, 2, 3])
    assert replay_nms(boxes[:0], scores[:0], labels[:0], 0.5).shape == (0,)


@pytest.mark.parametrize("name", ["shapes-maskrcnn", "shapes-fcos"])
def test_bundled_detector_finds_the_shapes_of_an_enlarged_scene(name, bundled):
    import cv2

    from workbench.zoo.detection_data import scenes
    scene = scenes("test", 1, offset=1)[0]  # two shapes
    H, W = 256, 192  # larger than the 128 px scenes, and not square
    image = cv2.resize(scene.image, (W, H), interpolation=cv2.INTER_LINEAR)
    gt = scene.boxes * np.array([W / 128, H / 128, W / 128, H / 128], np.float32)
    handle = bundled(name)
    r = run_method(METHOD, context(handle, image), {})
    assert hook_count(handle.module) == 0
    confident = np.argsort(-r.scores)[: len(gt)]  # one-stage scores (class x centerness) run lower
    assert r.scores[confident].min() > 0.3
    iou = _iou(gt, r.boxes[confident])
    best = iou.argmax(1)
    assert (iou.max(1) > 0.8).all()
    np.testing.assert_array_equal(r.labels[confident][best], scene.labels + 1)
    if r.masks is not None:
        for k, j in enumerate(best):
            want = cv2.resize(scene.masks[k].astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST)
            got = r.masks[confident][j]
            assert (want & got).sum() / (want | got).sum() > 0.7


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from torchvision.ops import box_iou
    return box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
