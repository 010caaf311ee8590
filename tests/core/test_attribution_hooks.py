"""Attribution methods leave the model as they found it: no hooks, no swapped ReLUs, no leaks.

Checked after a normal run, after a run that raises, and after a cancelled run.
"""
from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workbench.core import runner
from workbench.core.context import CancelToken, Cancelled
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.hooks import hook_count
from workbench.core.methods import builtin_methods
from workbench.core.methods._gradients import guided_relus

FAST = {
    "saliency": {}, "gradient-x-input": {}, "guided-backprop": {}, "gradcam": {}, "gradcam-pp": {},
    "smoothgrad": {"samples": 4, "batch": 2},
    "integrated-gradients": {"steps": 4, "internal_batch": 2},
    "scorecam": {"batch": 3},
    "perturbation": {"block": 4, "batch": 5},
}
GENERATORS = ["smoothgrad", "integrated-gradients", "scorecam", "perturbation"]
METHODS = {m.name: m for m in builtin_methods() if m.name in FAST}




class MixedReLUNet(nn.Module):
    """ReLUs as an in-place module, a plain module and a functional call."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        x = F.max_pool2d(self.relu1(self.conv1(x)), 2)
        x = F.relu(F.adaptive_avg_pool2d(self.relu2(self.conv2(x)), 4))
        return self.fc(x.flatten(1))


@pytest.fixture
def handle():
    torch.manual_seed(1)
    return ModelHandle(id="mixed", module=MixedReLUNet().eval(), task="classify",
                       preprocess=Preprocess(Geometry((16, 16))), labels=list("abcde"))


def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)


def structure(module: nn.Module) -> list:
    return [(name, type(m), id(m), getattr(m, "inplace", None)) for name, m in module.named_modules()]


def plain_gradient(module: nn.Module) -> torch.Tensor:
    x = torch.linspace(-1, 1, 3 * 16 * 16).view(1, 3, 16, 16).requires_grad_(True)
    (grad,) = torch.autograd.grad(module(x)[0, 1], x)
    return grad


def assert_untouched(h: ModelHandle, before: list, weights: dict, gradient: torch.Tensor) -> None:
    assert hook_count(h.module) == 0
    assert structure(h.module) == before
    assert all(torch.equal(v, weights[k]) for k, v in h.module.state_dict().items())
    assert torch._C._len_torch_function_stack() == 0
    assert torch.equal(plain_gradient(h.module), gradient)


@pytest.mark.parametrize("name", sorted(FAST))
def test_run_raise_and_cancel_leave_no_trace(handle, name):
    before = structure(handle.module)
    weights = {k: v.clone() for k, v in handle.module.state_dict().items()}
    gradient = plain_gradient(handle.module)
    method = METHODS[name]

    result = runner.run_method(method, runner.context(handle, image()), FAST[name])
    assert result.heatmap.shape == (20, 24) and np.abs(result.attribution).max() > 0
    assert_untouched(handle, before, weights, gradient)

    with pytest.raises(ValueError, match="out of range"):
        runner.run_method(method, runner.context(handle, image(), target=99), FAST[name])
    assert_untouched(handle, before, weights, gradient)

    if name in GENERATORS:
        token = CancelToken()
        steps = []

        def cancel_after_first(progress):
            steps.append(progress)
            token.cancel()

        with pytest.raises(Cancelled):
            runner.run_method(method, runner.context(handle, image(), cancel=token), FAST[name],
                              on_progress=cancel_after_first)
        assert len(steps) == 1 and steps[0].fraction < 1
        assert_untouched(handle, before, weights, gradient)


def test_a_forward_that_fails_midway_leaves_no_hooks(handle):
    class FailsOnBatches(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            if x.shape[0] > 1:
                raise RuntimeError("batch forward failed")
            return self.inner(x)

    failing = ModelHandle(id="failing", module=FailsOnBatches(handle.module), task="classify",
                          preprocess=handle.preprocess, labels=handle.labels)
    for name in GENERATORS:
        with pytest.raises(RuntimeError, match="batch forward failed"):
            runner.run_method(METHODS[name], runner.context(failing, image()), FAST[name])
        assert hook_count(failing.module) == 0


def test_guided_relus_end_with_the_block_even_on_error():
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        with guided_relus():
            (F.relu(x) * torch.tensor([1.0, -3.0])).sum().backward()
            assert x.grad.tolist() == [0.0, 0.0]  # guided: the negative gradient is stopped
            raise RuntimeError("stop")
    x.grad = None
    (F.relu(x) * torch.tensor([1.0, -3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, -3.0]


def count_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance on torch's deprecated module-level aliases warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def test_repeated_runs_do_not_accumulate_memory(handle):
    img = image()
    for name in FAST:  # first runs fill caches (layer list, lazy imports)
        runner.run_method(METHODS[name], runner.context(handle, img), FAST[name])
    tensors, rss = count_tensors(), rss_bytes()
    for _ in range(20):
        for name in FAST:
            runner.run_method(METHODS[name], runner.context(handle, img), FAST[name])
    assert count_tensors() == tensors
    assert rss_bytes() - rss < 30 * 2**20
    assert all(p.grad is None for p in handle.module.parameters())
