"""Gradient attribution methods against captum, closed forms, and the top-k helper.

Agreement is measured as max |ours - reference| / max |reference| on the ``attribution``
array (model input resolution), with the reference reduced over channels the same way.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from captum.attr import (GuidedBackprop, InputXGradient, IntegratedGradients, NoiseTunnel, Occlusion,
                         Saliency)
from torch import nn

from workbench.core import runner
from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD, ModelHandle, Preprocess
from workbench.core.methods import builtin_methods
from workbench.core.methods.integrated_gradients import Params as IGParams, make_baseline
from workbench.core.targets import topk

METHODS = {m.name: m for m in builtin_methods()}
TOL = 1e-4
pytestmark = [pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients"),
              pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU activations")]




class SmallNet(nn.Module):
    """A small conv net whose ReLUs are nn.ReLU modules or functional calls."""

    def __init__(self, functional: bool = False, classes: int = 6) -> None:
        super().__init__()
        self.functional = functional
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 12, 3, padding=1)
        self.fc = nn.Linear(12 * 4 * 4, classes)
        self.act1, self.act2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        relu1, relu2 = (F.relu, torch.relu) if self.functional else (self.act1, self.act2)
        x = F.max_pool2d(relu1(self.conv1(x)), 2)
        x = F.adaptive_avg_pool2d(relu2(self.conv2(x)), 4)
        return self.fc(x.flatten(1))


def make_handle(module: nn.Module, size: int, classes: int, imagenet: bool = False) -> ModelHandle:
    norm = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD} if imagenet else {}
    return ModelHandle(id="test", module=module.eval(), task="classify",
                       preprocess=Preprocess(Geometry((size, size)), **norm),
                       labels=[f"class{i}" for i in range(classes)])


def image(seed: int = 0, hw: tuple[int, int] = (100, 80)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*hw, 3), dtype=np.uint8)


def run(name: str, handle: ModelHandle, img: np.ndarray, target=None, **values):
    return runner.run_method(METHODS[name], runner.context(handle, img, target=target), values)


def rel_diff(ours: np.ndarray, ref: torch.Tensor | np.ndarray) -> float:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    assert ours.shape == ref.shape
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return make_handle(torchvision.models.resnet18(weights=None, num_classes=10), 64, 10, imagenet=True)


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(1)
    return make_handle(SmallNet(), 16, 6)


def model_input(handle: ModelHandle, img: np.ndarray) -> torch.Tensor:
    return handle.preprocess(img).contiguous()


def test_saliency_matches_captum_and_lands_in_image_pixels(resnet):
    img = image()
    r = run("saliency", resnet, img)
    x = model_input(resnet, img)
    assert r.target == int(resnet.module(x).argmax())
    ref = Saliency(resnet.module).attribute(x, target=r.target, abs=True).amax(1)[0]
    assert rel_diff(r.attribution, ref) <= TOL
    assert r.attribution.shape == (64, 64) and r.heatmap.shape == (100, 80)
    assert not r.signed
    assert np.array_equal(r.heatmap, resnet.geometry.map_to_image(r.attribution, (100, 80)))


def test_channel_reductions_follow_the_signed_gradient(small):
    img = image(3)
    x = model_input(small, img)
    grad = Saliency(small.module).attribute(x, target=2, abs=False)[0]
    expected = {"sum": grad.sum(0), "abs": grad.abs().sum(0), "maxabs": grad.abs().amax(0)}
    for how, ref in expected.items():
        r = run("saliency", small, img, target=2, channels=how)
        assert rel_diff(r.attribution, ref) <= TOL
        assert r.signed == (how == "sum")
    assert (run("saliency", small, img, target=2, channels="sum").attribution < 0).any()


def test_gradient_x_input_matches_captum(resnet):
    img = image(1)
    r = run("gradient-x-input", resnet, img, target=4)
    x = model_input(resnet, img)
    ref = InputXGradient(resnet.module).attribute(x, target=4).sum(1)[0]
    assert r.signed and rel_diff(r.attribution, ref) <= TOL


def test_integrated_gradients_matches_captum_gausslegendre(resnet):
    img = image(2)
    r = run("integrated-gradients", resnet, img, target=7, steps=8, internal_batch=5)
    x = model_input(resnet, img)
    ref = IntegratedGradients(resnet.module).attribute(x, target=7, n_steps=8, internal_batch_size=8)
    assert rel_diff(r.attribution, ref.sum(1)[0]) <= TOL


@pytest.mark.parametrize("rule", ["riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle"])
def test_integrated_gradients_riemann_rules_match_captum(small, rule):
    img = image(4)
    r = run("integrated-gradients", small, img, target=1, steps=10, method=rule)
    x = model_input(small, img)
    ref = IntegratedGradients(small.module).attribute(x, target=1, n_steps=10, method=rule)
    assert rel_diff(r.attribution, ref.sum(1)[0]) <= TOL


def test_integrated_gradients_baselines(small):
    img = image(5)
    x = model_input(small, img)
    black = small.preprocess(np.zeros_like(img))
    mean = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    sigma = 1.5
    k = 2 * math.ceil(3 * sigma) + 1
    blurred = torch.from_numpy(cv2.GaussianBlur(x[0].permute(1, 2, 0).numpy(), (k, k), sigma,
                                                borderType=cv2.BORDER_REFLECT_101)).permute(2, 0, 1)[None]
    made = make_baseline(runner.context(small, img), x, IGParams(baseline="blurred", blur_sigma=sigma))
    assert float((made - blurred).abs().max()) < 1e-5
    for name, base in {"black": black, "mean": mean, "blurred": blurred}.items():
        r = run("integrated-gradients", small, img, target=3, baseline=name, blur_sigma=sigma)
        ref = IntegratedGradients(small.module).attribute(x, baselines=base, target=3)
        assert rel_diff(r.attribution, ref.sum(1)[0]) <= TOL, name
        # completeness: the attributions add up to the change of the logit along the path
        with torch.no_grad():
            gap = float(small.module(x)[0, 3] - small.module(base)[0, 3])
        assert r.attribution.sum() == pytest.approx(gap, rel=0.05, abs=1e-3)


def test_smoothgrad_matches_noise_tunnel_with_the_same_noise(resnet):
    # captum draws its noise from the global generator batch by batch; seeding it with the
    # method's seed before the call makes both see identical noisy inputs
    img = image(6)
    r = run("smoothgrad", resnet, img, target=2, samples=5, batch=3, noise=0.2, seed=11)
    x = model_input(resnet, img)
    torch.manual_seed(11)
    ref = NoiseTunnel(Saliency(resnet.module)).attribute(
        x, target=2, nt_type="smoothgrad", nt_samples=5, nt_samples_batch_size=3,
        stdevs=0.2 * float(x.max() - x.min()))
    assert rel_diff(r.attribution, ref.amax(1)[0]) <= TOL
    plain = run("saliency", resnet, img, target=2).attribution
    assert rel_diff(r.attribution, plain) > 0.05


@pytest.mark.parametrize("variant", ["smoothgrad_sq", "vargrad"])
def test_smoothgrad_variants_match_noise_tunnel(small, variant):
    img = image(7)
    r = run("smoothgrad", small, img, target=0, samples=6, batch=4, variant=variant, seed=3)
    x = model_input(small, img)
    torch.manual_seed(3)
    ref = NoiseTunnel(Saliency(small.module)).attribute(
        x, target=0, nt_type=variant, nt_samples=6, nt_samples_batch_size=4, stdevs=0.15 * float(x.max() - x.min()))
    assert rel_diff(r.attribution, ref.amax(1)[0]) <= TOL


def test_smoothgrad_seed_changes_the_noise(small):
    img = image(8)
    a = run("smoothgrad", small, img, target=0, samples=4, seed=0).attribution
    b = run("smoothgrad", small, img, target=0, samples=4, seed=0).attribution
    c = run("smoothgrad", small, img, target=0, samples=4, seed=1).attribution
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_guided_backprop_matches_captum_on_resnet(resnet):
    img = image(9)
    r = run("guided-backprop", resnet, img, target=5)
    x = model_input(resnet, img)
    ref = GuidedBackprop(resnet.module).attribute(x, target=5).abs().amax(1)[0]
    assert rel_diff(r.attribution, ref) <= TOL
    assert rel_diff(r.attribution, run("saliency", resnet, img, target=5).attribution) > 0.05


def test_guided_backprop_also_guides_functional_relus():
    # captum only sees nn.ReLU modules: run it on the module twin of a functional-ReLU net
    torch.manual_seed(2)
    modules = SmallNet(functional=False)
    functional = SmallNet(functional=True)
    functional.load_state_dict(modules.state_dict())
    handle = make_handle(functional, 16, 6)
    img = image(10)
    r = run("guided-backprop", handle, img, target=4, channels="sum")
    x = model_input(handle, img)
    ref = GuidedBackprop(modules.eval()).attribute(x, target=4).sum(1)[0]
    assert rel_diff(r.attribution, ref) <= TOL
    plain = Saliency(functional).attribute(x, target=4, abs=False).sum(1)[0]
    assert rel_diff(r.attribution, plain) > 0.05


def test_perturbation_of_a_linear_model_is_epsilon_times_weights():
    torch.manual_seed(3)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 4))
    handle = make_handle(linear, 16, 4)
    w = linear[1].weight.detach()[2].view(3, 16, 16).sum(0)
    r = run("perturbation", handle, image(11), target=2, block=1, epsilon=1.0, batch=50)
    assert rel_diff(r.attribution, 1.0 * w) <= TOL and r.signed
    r4 = run("perturbation", handle, image(11), target=2, block=4, epsilon=0.5)
    block_sums = 0.5 * F.avg_pool2d(w[None, None], 4)[0, 0] * 16
    assert rel_diff(r4.attribution, block_sums.repeat_interleave(4, 0).repeat_interleave(4, 1)) <= 1e-3


def test_perturbation_matches_captum_occlusion_with_a_shifted_baseline(small):
    # Occlusion with baselines x + eps replaces each window by x + eps: it reports
    # f(x) - f(x + eps on the window), the negative of our map, on every channel
    img = image(12)
    r = run("perturbation", small, img, target=5, block=2, epsilon=1.0, batch=7)
    x = model_input(small, img)
    ref = Occlusion(small.module).attribute(x, target=5, sliding_window_shapes=(3, 2, 2), strides=(3, 2, 2),
                                            baselines=x + 1.0, perturbations_per_eval=16)
    assert rel_diff(r.attribution, -ref[0, 0]) <= TOL


def test_progress_is_reported_between_batches(small):
    seen = []
    runner.run_method(METHODS["integrated-gradients"], runner.context(small, image()),
                      {"steps": 10, "internal_batch": 4}, on_progress=seen.append)
    assert [round(p.fraction, 2) for p in seen] == [0.4, 0.8, 1.0]


GRADIENT_STRING_VALUES = {
    "saliency": {"channels": "sum"},
    "gradient-x-input": {"channels": "abs"},
    "guided-backprop": {"channels": "sum"},
    "smoothgrad": {"samples": "3", "noise": "0.25", "batch": "2", "seed": "4", "variant": "vargrad"},
    "integrated-gradients": {"steps": "6", "baseline": "mean", "internal_batch": "4", "method": "riemann_left"},
    "perturbation": {"block": "2", "epsilon": "-0.5", "batch": "9"},
}


@pytest.mark.parametrize("name", sorted(GRADIENT_STRING_VALUES))
def test_runner_takes_values_as_strings(small, name):
    strings = GRADIENT_STRING_VALUES[name]
    spec = {s.name: s for s in METHODS[name].param_specs()}
    typed = {k: spec[k].type(v) for k, v in strings.items()}
    img = image(13)
    a = run(name, small, img, **strings)
    b = run(name, small, img, **typed)
    assert a.params == b.params and a.params[next(iter(strings))] == typed[next(iter(strings))]
    assert np.array_equal(a.attribution, b.attribution) and np.abs(a.attribution).max() > 0
    with pytest.raises(ValueError):
        run(name, small, img, **{next(iter(strings)): "not-a-value"})


def test_topk_is_the_sorted_softmax(resnet):
    img = image(14)
    top = topk(resnet, img, k=5)
    probs = torch.softmax(resnet.module(resnet.preprocess(img))[0], 0).detach()
    assert [i for i, _, _ in top] == probs.argsort(descending=True)[:5].tolist()
    values = [p for _, _, p in top]
    assert values == sorted(values, reverse=True) and sum(values) <= 1 + 1e-6
    assert values[0] == pytest.approx(float(probs.max()), rel=1e-5)
    assert top[0][1] == f"class{top[0][0]}"
    assert topk(resnet, resnet.preprocess(img)[0], k=5) == top
    everything = topk(resnet, img, k=50)
    assert len(everything) == 10 and sum(p for _, _, p in everything) == pytest.approx(1.0, abs=1e-5)
