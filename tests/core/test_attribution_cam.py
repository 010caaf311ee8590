"""Grad-CAM, Grad-CAM++ and Score-CAM against pytorch-grad-cam.

pytorch-grad-cam returns relu(weighted sum) min-max normalised to [0, 1] and resized to the
input with cv2; ours keeps the raw values (upsampled bilinearly, half-pixel centres). Two
comparisons per case:
- raw: the reference's own weighted sum (``get_cam_image`` on the activations and gradients
  it recorded), relu'd and upsampled like ours, against our ``attribution``: <= 1e-4 of its max;
- pipeline: our attribution min-max normalised against the reference's final output; min-max
  commutes with bilinear resizing, so they agree up to the reference's two 1e-7 guards on the
  divisor (<= 1e-4 + 2e-7 / our value range).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, ScoreCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from workbench.core import runner
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.methods import builtin_methods

METHODS = {m.name: m for m in builtin_methods()}
REFERENCES = {"gradcam": GradCAM, "gradcam-pp": GradCAMPlusPlus, "scorecam": ScoreCAM}




def make_handle(module: nn.Module, size: int, classes: int = 10) -> ModelHandle:
    return ModelHandle(id="test", module=module.eval(), task="classify", preprocess=Preprocess(Geometry((size, size))),
                       labels=[f"class{i}" for i in range(classes)])


def vgg_like() -> nn.Module:
    torch.manual_seed(4)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, 10))


def tiny_vit() -> nn.Module:
    torch.manual_seed(5)
    vit = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                               hidden_dim=32, mlp_dim=64, num_classes=10)
    nn.init.normal_(vit.heads.head.weight, std=0.5)  # torchvision starts the head at zero: no gradient
    return vit


def vit_tokens_to_grid(t: torch.Tensor) -> torch.Tensor:
    """pytorch-grad-cam's documented ViT reshape_transform for a 4x4 patch grid."""
    grid = t[:, 1:, :].reshape(t.size(0), 4, 4, t.size(2))
    return grid.transpose(2, 3).transpose(1, 2)


@pytest.fixture(scope="module")
def mobilenet():
    # At init the batch-norm statistics are the identity and the signal fades to ~1e-12 by
    # the last layers; one batch of statistics gives maps of ordinary size, so the
    # reference's 1e-7 guards do not swamp the comparison.
    torch.manual_seed(6)
    net = torchvision.models.mobilenet_v3_small(weights=None, num_classes=10)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
        elif isinstance(m, nn.Linear):
            m.reset_parameters()
    net.train()
    with torch.no_grad():
        net(torch.rand(16, 3, 64, 64))
    return make_handle(net, 64)


def image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (100, 80, 3), dtype=np.uint8)


def run(name: str, handle: ModelHandle, img: np.ndarray, target=None, **values):
    return runner.run_method(METHODS[name], runner.context(handle, img, target=target), values)


def reference(name: str, handle: ModelHandle, layer: str, x: torch.Tensor, target: int, reshape=None):
    """(raw relu'd weighted sum upsampled like ours, pytorch-grad-cam's normalised output)."""
    targets = [ClassifierOutputTarget(target)]
    with REFERENCES[name](handle.module, [handle.layer(layer)], reshape_transform=reshape) as cam:
        cam.batch_size = 16
        full = cam(input_tensor=x, targets=targets)[0]
        acts = cam.activations_and_grads.activations[0].numpy()
        grads = cam.activations_and_grads.gradients[0].numpy() if cam.activations_and_grads.gradients else None
        raw = cam.get_cam_image(x, handle.layer(layer), targets, acts, grads)
    raw = torch.from_numpy(np.maximum(raw, 0))[:, None].float()
    return F.interpolate(raw, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[0, 0].numpy(), full


def check_against_reference(name, handle, img, layer, target, reshape=None, **values):
    r = run(name, handle, img, target=target, layer=layer, **values)
    x = handle.preprocess(img).contiguous()
    raw, full = reference(name, handle, layer or r.params["layer"], x, target, reshape)
    ours = r.attribution
    assert ours.shape == tuple(x.shape[-2:]) and r.heatmap.shape == img.shape[:2]
    assert ours.max() > 0 and ours.min() >= 0 and not r.signed
    raw_diff = float(np.abs(ours - raw).max() / raw.max())
    assert raw_diff <= 1e-4
    spread = ours.max() - ours.min()
    normalised = (ours - ours.min()) / spread
    assert float(np.abs(normalised - full).max()) <= 1e-4 + 2e-7 / spread
    return r, raw_diff


@pytest.mark.parametrize("name", ["gradcam", "gradcam-pp"])
@pytest.mark.parametrize("layer", ["", "features.3.block.1.0"])
def test_gradient_cams_match_pytorch_grad_cam_on_mobilenet(mobilenet, name, layer):
    r, _ = check_against_reference(name, mobilenet, image(1), layer, target=3)
    assert r.params["layer"] == (layer or "features.12.0")


def test_scorecam_matches_pytorch_grad_cam_on_mobilenet(mobilenet):
    check_against_reference("scorecam", mobilenet, image(2), "features.1.block.2.0", target=6, batch=5)


@pytest.mark.parametrize("name", ["gradcam", "gradcam-pp", "scorecam"])
def test_cams_match_pytorch_grad_cam_on_a_vgg_like_net(name):
    handle = make_handle(vgg_like(), 32)
    r, _ = check_against_reference(name, handle, image(3), "", target=1)
    assert r.params["layer"] == "6"


@pytest.mark.parametrize("name", ["gradcam", "gradcam-pp", "scorecam"])
def test_cams_on_vit_tokens_match_pytorch_grad_cam_with_its_reshape(name):
    handle = make_handle(tiny_vit(), 32)
    r, _ = check_against_reference(name, handle, image(4), "", target=1, reshape=vit_tokens_to_grid)
    assert r.params["layer"] == "encoder.layers.encoder_layer_1.ln_1"


def test_raw_values_keep_their_scale_across_images(mobilenet):
    a = run("gradcam", mobilenet, image(5), target=0).attribution
    b = run("gradcam", mobilenet, image(5), target=0).attribution
    c = run("gradcam", mobilenet, image(6), target=0).attribution
    assert np.array_equal(a, b) and a.max() != pytest.approx(c.max(), rel=1e-3)


def test_a_layer_that_is_not_a_map_is_refused(mobilenet):
    with pytest.raises(ValueError, match="classifier.3"):
        run("gradcam", mobilenet, image(), layer="classifier.3")
    with pytest.raises(ValueError, match="no layer"):
        run("gradcam-pp", mobilenet, image(), layer="nonexistent")


def test_scorecam_reports_progress_per_batch():
    handle = make_handle(vgg_like(), 32)
    seen = []
    runner.run_method(METHODS["scorecam"], runner.context(handle, image()), {"batch": 6}, on_progress=seen.append)
    assert [round(p.fraction, 3) for p in seen] == [0.375, 0.75, 1.0]


@pytest.mark.parametrize("name", ["gradcam", "gradcam-pp", "scorecam"])
def test_runner_takes_values_as_strings(mobilenet, name):
    values = {"layer": "features.1.block.2.0"}
    if name == "scorecam":
        values["batch"] = "7"
    a = run(name, mobilenet, image(7), target=4, **values)
    typed = {"batch": 16} if name == "scorecam" else {}
    b = run(name, mobilenet, image(7), target=4, layer="features.1.block.2.0", **typed)
    assert a.params["layer"] == "features.1.block.2.0"
    assert np.allclose(a.attribution, b.attribution, rtol=1e-5, atol=1e-7) and a.attribution.max() > 0
    if name == "scorecam":
        assert a.params["batch"] == 7
        with pytest.raises(ValueError, match="batch"):
            run(name, mobilenet, image(7), batch="zero")
