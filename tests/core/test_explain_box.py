"""Explaining one detection: the wrapped detector scores it as the detector did, and Grad-CAM
and occlusion on the wrapper agree with pytorch-grad-cam and captum run on the same wrapper."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from workbench.core.detection.box_score import OneStageBoxScore, TwoStageBoxScore, box_score_module, find_source
from workbench.core.detection.pipeline import capture_pipeline
from workbench.core.hooks import hook_count
from workbench.core.methods.explain_box import METHOD, box_handle
from workbench.core.runner import context, run_method
from workbench.core.samples import resolve_image

captum_attr = pytest.importorskip("captum.attr")
grad_cam = pytest.importorskip("pytorch_grad_cam")


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return resolve_image("sample:scene-1")


@pytest.fixture(scope="module")
def maskrcnn(bundled):
    return bundled("shapes-maskrcnn")


@pytest.fixture(scope="module")
def fcos(bundled):
    return bundled("shapes-fcos")


def _detections(handle, image):
    x = handle.preprocess(image)
    return x, capture_pipeline(handle.module, x, 0.05)


@pytest.mark.parametrize("which", ["maskrcnn", "fcos"])
def test_the_wrapper_scores_each_detection_as_the_detector_did(which, scene, request):
    handle = request.getfixturevalue(which)
    x, st = _detections(handle, scene)
    assert len(st.boxes) >= 3
    for i in range(3):
        label = int(st.labels[i])
        source = find_source(handle.module, x, st.boxes[i], label, float(st.scores[i]))
        assert source.mismatch <= 1e-3 and source.score == pytest.approx(float(st.scores[i]), abs=1e-6)
        module = box_score_module(handle.module, source)
        with torch.no_grad():
            logits = module(torch.cat([x, x]))
        assert logits.shape == (2, len(handle.labels))
        if which == "maskrcnn":
            assert isinstance(module, TwoStageBoxScore)
            prob = torch.softmax(logits, -1)[:, label]
        else:
            assert isinstance(module, OneStageBoxScore)
            with torch.no_grad():
                images, _ = handle.module.transform([x[0]])
                feats = list(handle.module.backbone(images.tensors).values())
                ctr = handle.module.head(feats)["bbox_ctrness"][0, source.anchor, 0]
            prob = torch.sqrt(torch.sigmoid(logits[:, label]) * torch.sigmoid(ctr))
        np.testing.assert_allclose(prob.numpy(), float(st.scores[i]), atol=2e-6)


def _reference_cam(module, layer_module, x, target):
    """pytorch-grad-cam's weighted sum on the wrapper, relu'd and upsampled as ours is."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    targets = [ClassifierOutputTarget(target)]
    with GradCAM(module, [layer_module]) as cam:
        cam(input_tensor=x, targets=targets)
        acts = cam.activations_and_grads.activations[0].numpy()
        grads = cam.activations_and_grads.gradients[0].numpy()
        raw = cam.get_cam_image(x, layer_module, targets, acts, grads)
    raw = torch.from_numpy(np.maximum(raw, 0))[:, None].float()
    return F.interpolate(raw, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[0, 0].numpy()


@pytest.mark.parametrize("which, index", [("maskrcnn", 0), ("maskrcnn", 2), ("fcos", 1)])
def test_gradcam_of_a_box_matches_pytorch_grad_cam_on_the_wrapper(which, index, scene, request):
    handle = request.getfixturevalue(which)
    r = run_method(METHOD, context(handle, scene), {"index": index})
    assert hook_count(handle.module) == 0
    x, st = _detections(handle, scene)
    label = int(st.labels[index])
    assert r.target == label and r.params["layer"] == "backbone.smooth.0.0"
    assert r.params["source"] == ("proposal" if which == "maskrcnn" else "anchor")
    np.testing.assert_allclose(r.params["box"], st.boxes[index], atol=1e-3)   # stretch 128 -> 128
    source = find_source(handle.module, x, st.boxes[index], label, float(st.scores[index]))
    wrapped = box_handle(handle, source)
    ref = _reference_cam(wrapped.module, wrapped.layer(r.params["layer"]), x, label)
    assert hook_count(wrapped.module) == 0
    assert ref.max() > 0 and r.heatmap.shape == scene.shape[:2]
    assert float(np.abs(r.attribution - ref).max()) <= 1e-4 * float(ref.max())


def test_each_box_gets_its_own_map(maskrcnn, scene):
    a = run_method(METHOD, context(maskrcnn, scene), {"index": 0})
    b = run_method(METHOD, context(maskrcnn, scene), {"index": 1})
    assert a.params["box"] != b.params["box"] and a.attribution.max() > 0 and b.attribution.max() > 0
    assert not np.allclose(a.attribution / a.attribution.max(), b.attribution / b.attribution.max(), atol=0.05)


def test_occlusion_of_a_box_matches_captum_on_the_wrapper(maskrcnn, scene):
    values = {"index": 1, "explainer": "occlusion", "window": 32, "stride": 32}
    r = run_method(METHOD, context(maskrcnn, scene), values)
    assert hook_count(maskrcnn.module) == 0 and r.signed
    assert r.params["window"] == 32 and r.params["stride"] == 32 and r.method == "explain_box"
    x, st = _detections(maskrcnn, scene)
    source = find_source(maskrcnn.module, x, st.boxes[1], int(st.labels[1]), float(st.scores[1]))
    module = box_score_module(maskrcnn.module, source)
    with torch.no_grad():
        ref = captum_attr.Occlusion(module).attribute(
            x, sliding_window_shapes=(3, 32, 32), strides=(3, 32, 32), baselines=0.0,
            target=int(st.labels[1]), perturbations_per_eval=16)[0, 0].numpy()
    assert np.abs(ref).max() > 0
    assert float(np.abs(r.attribution - ref).max()) <= 1e-4 * float(np.abs(ref).max())


def test_occlusion_reports_progress_and_partial_maps(fcos, scene):
    seen, partials = [], []
    r = run_method(METHOD, context(fcos, scene), {"index": 0, "explainer": "occlusion", "window": 32,
                                                  "stride": 16}, on_progress=seen.append, on_partial=partials.append)
    assert seen and seen[-1].fraction == pytest.approx(1.0)
    assert all(p.method == "explain_box" and "box 0" in p.title for p in partials)
    assert r.title.startswith("occlusion of box 0") and r.params["anchor"] >= 0


def test_a_missing_detection_is_a_clear_error(maskrcnn, scene):
    with pytest.raises(ValueError, match="does not exist"):
        run_method(METHOD, context(maskrcnn, scene), {"index": 999})
    with pytest.raises(ValueError, match="explainer"):
        run_method(METHOD, context(maskrcnn, scene), {"explainer": "lime"})
