"""Any torchvision detector loads by id and the detect method gives torchvision's own output.

Random weights (``?weights=none``) and a small ``min_size`` keep this quick on a CPU; each model
is also cut to few proposals and detections, the same for the run through ``detect`` and for
the reference run of the module itself.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.detection.pipeline import COCO_SKELETON, is_two_stage
from workbench.core.methods.detect import METHOD
from workbench.core.runner import context, run_method
from workbench.core.canvas_layers import LinesLayer, PointsLayer, detection_layers
from workbench.core.sources import DETECTION_INPUT, ModelLoadError, load_model

MIN_SIZE = 96
IMAGE_HW = (72, 120)          # wider than tall: the stretch to the square input is undone
MAX_DETECTIONS = 5
PROPOSALS = 50
TWO_STAGE = ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
             "fasterrcnn_mobilenet_v3_large_320_fpn", "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2",
             "keypointrcnn_resnet50_fpn"]
ONE_STAGE = ["retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2", "fcos_resnet50_fpn", "ssd300_vgg16",
             "ssdlite320_mobilenet_v3_large"]


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 80, (*IMAGE_HW, 3), dtype=np.uint8)
    img[10:50, 20:60] = (220, 60, 40)
    img[30:65, 75:110] = (40, 90, 220)
    return img


def _model_id(name: str, weights: str = "none") -> str:
    # the SSDs resize to their own fixed size and take no min_size
    size = "" if name.startswith("ssd") else f"&min_size={MIN_SIZE}"
    return f"torchvision:{name}?weights={weights}{size}"


def _quick(model: torch.nn.Module) -> None:
    """Keep every candidate (score 0) but few proposals and detections, set on the module itself."""
    heads = model.roi_heads if is_two_stage(model) else model
    heads.score_thresh, heads.detections_per_img = 0.0, MAX_DETECTIONS
    if is_two_stage(model):
        model.rpn._pre_nms_top_n["testing"] = 2 * PROPOSALS
        model.rpn._post_nms_top_n["testing"] = PROPOSALS


def _detect(handle, image):
    ctx = context(handle, image)
    return run_method(METHOD, ctx, {"score_threshold": 0.0, "max_detections": MAX_DETECTIONS})


def _to_image(xy: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """x, y in the pixels of the stretched input -> image pixels."""
    out = np.array(xy, np.float64)
    out[..., 0::2] *= IMAGE_HW[1] / input_hw[1]
    out[..., 1::2] *= IMAGE_HW[0] / input_hw[0]
    return out


@pytest.mark.parametrize("name", TWO_STAGE + ONE_STAGE)
def test_detector_npz_equals_torchvisions_own_output(name, tmp_path):
    handle = load_model(_model_id(name))
    assert handle.task == "detect" and handle.id == _model_id(name)
    _quick(handle.module)
    image = _image()
    result = _detect(handle, image)
    npz = np.load(result.save_npz(tmp_path / "d.npz"))

    x = torch.from_numpy(npz["input"])
    assert x.shape[-2:] == (DETECTION_INPUT if name.startswith("ssd") else (MIN_SIZE, MIN_SIZE))
    with torch.no_grad():
        (ref,) = handle.module([x[0]])
    assert len(ref["boxes"]) > 0, "random weights with score 0 should still give boxes"
    want = _to_image(ref["boxes"].numpy(), x.shape[-2:])
    np.testing.assert_allclose(npz["boxes"], want, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(npz["scores"], ref["scores"].numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(npz["labels"], ref["labels"].numpy())
    assert len(npz["pre_nms_boxes"]) >= len(npz["boxes"])
    assert len(npz["pre_nms_boxes"]) == len(npz["pre_nms_scores"]) == len(npz["pre_nms_labels"])
    if name in TWO_STAGE:
        assert 0 < len(npz["proposals"]) <= PROPOSALS and len(npz["proposal_scores"]) == len(npz["proposals"])
        assert (npz["proposals"][:, [2, 3]] <= np.array(IMAGE_HW[::-1]) + 1e-3).all()
    else:
        assert len(npz["proposals"]) == 0
    if name.startswith("maskrcnn"):
        assert npz["masks"].shape == (len(npz["boxes"]), *IMAGE_HW)
    else:
        assert "masks" not in npz
    if name.startswith("keypointrcnn"):
        kp, want = npz["keypoints"], ref["keypoints"].numpy()
        assert kp.shape == (len(npz["boxes"]), 17, 3)
        np.testing.assert_allclose(kp[..., :2], _to_image(want[..., :2], x.shape[-2:]), rtol=1e-5, atol=1e-3)
        np.testing.assert_array_equal(kp[..., 2], want[..., 2])
        np.testing.assert_allclose(npz["keypoint_scores"], ref["keypoints_scores"].numpy(), rtol=1e-5)
    else:
        assert "keypoints" not in npz


def test_keypoints_are_drawn_with_the_coco_skeleton():
    handle = load_model(_model_id("keypointrcnn_resnet50_fpn"))
    _quick(handle.module)
    result = _detect(handle, _image())
    assert result.keypoint_names[0] == "nose" and result.skeleton == COCO_SKELETON
    layers = {type(l): l for l in detection_layers(result)}
    points, lines = layers[PointsLayer], layers[LinesLayer]
    n = len(result.boxes)
    assert len(points.points) == n * 17 and len(lines.segments) == n * len(COCO_SKELETON)
    # the first skeleton line of the first person joins its left ankle (15) and left knee (13)
    np.testing.assert_allclose(lines.segments[0], result.keypoints[0, [15, 13], :2])
    final = result.stage_detections("final")
    assert final.keypoints is result.keypoints and final.skeleton == COCO_SKELETON


def test_a_state_dict_from_file_gives_the_same_detections(tmp_path):
    name = "fasterrcnn_mobilenet_v3_large_320_fpn"
    random = load_model(_model_id(name))
    path = tmp_path / "weights.pt"
    torch.save(random.module.state_dict(), path)
    loaded = load_model(_model_id(name, str(path)))
    assert loaded.source == f"file: {path}" and loaded.geometry.input_size == (MIN_SIZE, MIN_SIZE)
    for handle in (random, loaded):
        _quick(handle.module)
    a, b = _detect(random, _image()), _detect(loaded, _image())
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("model_id, message", [
    ("torchvision:ssd300_vgg16?weights=none&min_size=96", "fixed size; min_size and max_size cannot be set"),
    ("torchvision:resnet18?weights=none&min_size=96", "only apply to detection models"),
    ("torchvision:fcos_resnet50_fpn?weights=none&min_size=big", r"cannot read 'min_size=big'"),
    ("torchvision:fcos_resnet50_fpn?min_size=96&min_size=128", r"cannot read 'min_size=128'"),
])
def test_size_options_are_checked(model_id, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(model_id)


def test_size_options_reach_the_model_and_the_geometry():
    handle = load_model("torchvision:fcos_resnet50_fpn?min_size=128&weights=none&max_size=160")
    assert handle.module.transform.min_size == (128,) and handle.module.transform.max_size == 160
    assert handle.geometry.input_size == (128, 128)
