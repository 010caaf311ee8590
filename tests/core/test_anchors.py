"""The anchors method against torchvision: the anchors at a location are the model's own anchor
generator's for that cell, the matches are torchvision's Matcher on the same IoU matrix and the
predicted boxes are the model's box coder decoding the head's deltas."""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torchvision.models.detection._utils import Matcher, SSDMatcher
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.ops import box_iou

from workbench import api, cli
from workbench.core import runner
from workbench.core.hooks import hook_count
from workbench.core.methods import anchors as method
from workbench.core.model_traits import has_anchor_generator
from workbench.core.renderers import layers_for
from workbench.core.results.anchors import IGNORED
from workbench.plugins import default_registry
from workbench.zoo.shapes import render_scene

SCENE = 1
ON_OBJECT = (70.0, 86.0)     # inside scene 1's circle (46-77, 63-94), past its centre


@functools.cache
def torchvision_model(model_id: str):
    return api.load_model(model_id)


RETINANET = "torchvision:retinanet_resnet50_fpn?weights=none&min_size=128&max_size=128"
SSDLITE = "torchvision:ssdlite320_mobilenet_v3_large?weights=none"


def run(handle, image, **params):
    return runner.run_method(method.METHOD, runner.context(handle, image), params)


def features_of(model, x):
    """The detector's transform and backbone, called directly: (image list, feature maps)."""
    images, _ = model.transform([x[0]])
    features = model.backbone(images.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    return images, list(features.values())


def reference(model, x):
    """(anchors (A, 4), per-level anchor counts, anchor centres' pitch, decoded (A, 4), owner) from
    torchvision's own modules, in the transformed image's pixels."""
    owner = model.rpn if hasattr(model, "rpn") else model
    with torch.no_grad():
        images, maps = features_of(model, x)
        anchors = owner.anchor_generator(images, maps)[0]
        head = owner.head(maps)
        if hasattr(model, "rpn"):
            _, deltas = concat_box_prediction_layers(*head)
            decoded = owner.box_coder.decode(deltas, [anchors])[:, 0]
        else:
            decoded = owner.box_coder.decode_single(head["bbox_regression"][0], anchors)
    counts = [m.shape[-2] * m.shape[-1] * a for m, a in zip(maps, owner.anchor_generator.num_anchors_per_location())]
    return anchors, counts, [tuple(m.shape[-2:]) for m in maps], images, decoded, owner


def cell_anchors(anchors, counts, grids, padded_hw, x, y, ssd_steps=None, centred=False):
    """Every level's anchors whose centre is the centre torchvision gives the cell holding (x, y)."""
    picked, start = [], 0
    for k, (n, (gh, gw)) in enumerate(zip(counts, grids)):
        block = anchors[start:start + n]
        if ssd_steps is not None:
            sy = sx = float(ssd_steps[k])
        elif centred:
            sy, sx = padded_hw[0] / gh, padded_hw[1] / gw
        else:
            sy, sx = padded_hw[0] // gh, padded_hw[1] // gw
        row, col = min(int(y // sy), gh - 1), min(int(x // sx), gw - 1)
        cx, cy = (col + 0.5) * sx if centred else col * sx, (row + 0.5) * sy if centred else row * sy
        centres = (block[:, :2] + block[:, 2:]) / 2
        hit = torch.isclose(centres[:, 0], torch.tensor(float(cx))) & torch.isclose(centres[:, 1], torch.tensor(float(cy)))
        assert int(hit.sum()) == n // (gh * gw)
        picked.append(torch.nonzero(hit)[:, 0] + start)
        start += n
    return torch.cat(picked)


def check_against_torchvision(handle, image, location, matcher, **params):
    x = handle.preprocess(image)
    anchors, counts, grids, images, decoded, owner = reference(handle.module, x)
    padded = tuple(images.tensors.shape[-2:])
    input_hw = tuple(images.image_sizes[0])
    # the location in the transformed image's pixels, through the workbench's geometry (a stretch here)
    th, tw = handle.geometry.input_size
    lx = location[0] * tw / image.shape[1] * input_hw[1] / tw
    ly = location[1] * th / image.shape[0] * input_hw[0] / th
    ssd = type(owner.anchor_generator).__name__ == "DefaultBoxGenerator"
    want = cell_anchors(anchors, counts, grids, padded, lx, ly, owner.anchor_generator.steps if ssd else None,
                        centred=ssd)
    before = hook_count(handle.module)
    result = run(handle, image, x=location[0], y=location[1], scene=SCENE, **params)
    assert hook_count(handle.module) == before
    np.testing.assert_array_equal(result.index, want.numpy())
    np.testing.assert_array_equal(result.anchors_input, anchors[want].numpy())
    np.testing.assert_allclose(result.location_input, [lx, ly], rtol=1e-5)
    np.testing.assert_allclose(result.decoded_input, decoded[want].numpy(), rtol=1e-5, atol=1e-4)
    # image pixels: back through the transform's resize and the handle's geometry
    back = anchors[want].numpy() * np.array([tw / input_hw[1], th / input_hw[0]] * 2)
    np.testing.assert_allclose(result.anchors, handle.geometry.boxes_to_image(back, image.shape[:2]), rtol=1e-5)
    # the ground truth as the model's transform resizes training targets, matched by torchvision's Matcher
    scene = render_scene(SCENE)
    gt = torch.as_tensor(scene.boxes) * torch.tensor([tw / image.shape[1], th / image.shape[0]] * 2)
    _, targets = handle.module.transform([x[0]], [{"boxes": gt, "labels": torch.ones(len(gt), dtype=torch.int64)}])
    iou = box_iou(targets[0]["boxes"], anchors)
    matches = matcher(iou)
    np.testing.assert_array_equal(result.gt_index, matches[want].numpy())
    np.testing.assert_allclose(result.iou, iou[:, want].max(0).values.numpy(), rtol=1e-5)
    np.testing.assert_array_equal(result.positives_per_gt, np.bincount(matches[matches >= 0], minlength=len(gt)))
    return result


def object_centre(k: int = 0) -> tuple[float, float]:
    b = render_scene(SCENE).boxes[k]
    return float(b[0] + b[2]) / 2, float(b[1] + b[3]) / 2


# --- the bundled Faster R-CNN's RPN ---------------------------------------------------------------
def test_rpn_anchors_matches_and_regressions_are_torchvisions(bundled):
    handle = bundled("shapes-fasterrcnn")
    image = render_scene(SCENE).image
    # level 1's anchor of size 32 in this cell is centred at (64, 80), its top-left corner: IoU 0.78 with object 0
    result = check_against_torchvision(handle, image, ON_OBJECT, Matcher(0.7, 0.3, allow_low_quality_matches=True))
    assert result.family == "rpn" and len(result.index) == 18 and result.levels == [0, 1, 2]
    assert (result.fg_iou, result.bg_iou) == (0.7, 0.3)
    assert result.matched.any() and (~result.matched).any() and (result.gt_index == IGNORED).any()
    # scale and ratio as the generator was configured: sizes (16, 24), (32, 48), (64, 128); ratios 0.5, 1, 2
    np.testing.assert_allclose(result.size[:6], [16, 24, 16, 24, 16, 24])
    np.testing.assert_allclose(result.ratio[:6], [0.5, 0.5, 1, 1, 2, 2])
    w, h = (result.anchors_input[:, 2:] - result.anchors_input[:, :2]).T
    np.testing.assert_allclose(h / w, result.ratio, rtol=0.15)     # the generator rounds its corners
    # the shown regressions are the best-scoring anchors
    assert list(result.shown) == list(np.argsort(-result.score, kind="stable")[:3])


def test_rpn_thresholds_are_parameters(bundled):
    handle = bundled("shapes-fasterrcnn")
    image = render_scene(SCENE).image
    result = check_against_torchvision(handle, image, ON_OBJECT, Matcher(0.5, 0.2, allow_low_quality_matches=True),
                                       fg_iou=0.5, bg_iou=0.2)
    assert (result.fg_iou, result.bg_iou) == (0.5, 0.2)
    strict = run(handle, image, x=ON_OBJECT[0], y=ON_OBJECT[1], scene=SCENE)
    assert result.matched.sum() > strict.matched.sum()
    assert handle.module.rpn.proposal_matcher.high_threshold == 0.7     # the model's own is untouched


def test_one_level_only(bundled):
    handle = bundled("shapes-fasterrcnn")
    image = render_scene(SCENE).image
    every = run(handle, image, x=40, y=70)
    one = run(handle, image, x=40, y=70, level=1)
    np.testing.assert_array_equal(one.index, every.index[every.level == 1])
    assert one.levels == [1] and not one.has_ground_truth and not one.matched.any()


# --- torchvision's RetinaNet and SSDlite, random weights ------------------------------------------
def test_retinanet_anchors_matches_and_regressions_are_torchvisions():
    handle = torchvision_model(RETINANET)
    image = render_scene(SCENE).image
    result = check_against_torchvision(handle, image, object_centre(0), Matcher(0.5, 0.4, allow_low_quality_matches=True))
    assert result.family == "retinanet" and len(result.index) == 5 * 9
    np.testing.assert_allclose(result.size[:9], [32, 40, 50] * 3)     # torchvision: int(32 * 2 ** (k / 3))
    assert result.matched.any()


def test_ssdlite_default_boxes_on_an_image_of_another_shape():
    handle = torchvision_model(SSDLITE)
    image = np.ascontiguousarray(np.pad(render_scene(SCENE).image, ((0, 0), (0, 64), (0, 0)), mode="edge"))
    scene = render_scene(SCENE)
    with pytest.raises(ValueError, match="not the bundled scene"):     # a widened scene is not the scene
        run(handle, image, x=10, y=10, scene=SCENE)
    result = check_against_torchvision(handle, scene.image, object_centre(0), SSDMatcher(0.5))
    assert result.family == "ssd" and len(result.index) == 6 * 6
    wide = run(handle, image, x=150, y=100)
    assert wide.image_hw == (128, 192) and wide.input_hw == (320, 320)
    np.testing.assert_allclose(wide.location_input, [150 * 320 / 192, 100 * 320 / 128], rtol=1e-5)
    w, h = (wide.anchors_input[:, 2:] - wide.anchors_input[:, :2]).T
    np.testing.assert_allclose(h / w, wide.ratio, rtol=1e-4)


# --- what the method accepts and refuses -----------------------------------------------------------
def test_only_anchor_based_detectors_are_offered_it(bundled):
    registry = default_registry()
    assert has_anchor_generator(bundled("shapes-fasterrcnn").module)
    assert has_anchor_generator(bundled("shapes-maskrcnn").module)
    assert not has_anchor_generator(bundled("shapes-fcos").module)      # FCOS: points, not anchors by IoU
    assert not has_anchor_generator(bundled("shapes-cnn").module)
    assert "anchors" in [m.name for m in registry.for_model("detect", bundled("shapes-fasterrcnn").module)]
    assert "anchors" not in [m.name for m in registry.for_model("detect", bundled("shapes-fcos").module)]


def test_bad_input_gets_a_clear_message(bundled):
    handle = bundled("shapes-fasterrcnn")
    image = render_scene(SCENE).image
    with pytest.raises(ValueError, match="outside the image"):
        run(handle, image, x=200, y=10)
    with pytest.raises(ValueError, match="must not exceed"):
        run(handle, image, fg_iou=0.3, bg_iou=0.6)
    with pytest.raises(ValueError, match="3 feature levels"):
        run(handle, image, level=3)
    with pytest.raises(ValueError, match="not the bundled scene"):
        run(handle, image, scene=SCENE + 1)


def test_layers_draw_levels_matches_and_arrows(bundled, tmp_path):
    handle = bundled("shapes-fasterrcnn")
    image = render_scene(SCENE).image
    result = run(handle, image, x=ON_OBJECT[0], y=ON_OBJECT[1], scene=SCENE)
    layers = {l.name: l for l in layers_for(result)}
    matched = [l for n, l in layers.items() if n.endswith("matched anchors")]
    assert sum(len(l.boxes) for l in matched) == result.matched.sum() and not any(l.dashed for l in matched)
    assert all(l.dashed for n, l in layers.items() if n.endswith(("background anchors", "ignored anchors")))
    arrows = layers["anchor → prediction"]
    assert len(arrows.segments) == 3 * len(result.shown)      # a shaft and two barbs each
    best = result.shown[0]
    np.testing.assert_allclose(arrows.segments[0][1], (result.decoded[best, :2] + result.decoded[best, 2:]) / 2, rtol=1e-5)
    np.testing.assert_allclose(layers["predicted boxes"].boxes, result.decoded[result.shown])
    saved = np.load(result.save_npz(tmp_path / "a.npz"))
    for key in ("level", "size", "ratio", "matched", "iou", "decoded", "anchors", "gt_index"):
        assert len(saved[key]) == 18, key
    np.testing.assert_array_equal(saved["matched"], result.gt_index >= 0)


def test_cli_writes_the_figure_and_the_arrays(tmp_path):
    out, npz = tmp_path / "a.png", tmp_path / "a.npz"
    code = cli.main(["run", "anchors", "--model", "zoo:shapes-fasterrcnn", "--image", "sample:shapes-0",
                     "--set", "x=64", "--set", "y=64", "--out", str(out), "--npz", str(npz)])
    assert code == 0 and out.stat().st_size > 10_000
    saved = np.load(npz)
    np.testing.assert_allclose(saved["location"], [64, 64])
    assert len(saved["level"]) == 18 and set(saved["level"].tolist()) == {0, 1, 2}
