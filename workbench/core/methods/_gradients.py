"""Shared plumbing for the gradient attribution methods: input gradients, batching, guided ReLU."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import field
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from workbench.core.attribution.heatmaps import heatmap_result, reduce_channels
from workbench.core.context import Context
from workbench.core.params import param
from workbench.core.results import Heatmap
from workbench.core.targets import target_score

REDUCTIONS = ("sum", "abs", "maxabs")


def reduction_field(default: str) -> Any:
    """The channel-reduction parameter every gradient method has."""
    return field(default=default, metadata=param(
        "Channels", choices=REDUCTIONS,
        help="how the colour channels become one map: sum (signed), sum of |.|, or max of |.|"))


def batch_field(default: int, label: str = "Batch") -> Any:
    return field(default=default, metadata=param(label, range=(1, 1024), step=1,
                                                 help="inputs per forward/backward pass"))


def model_input(ctx: Context) -> torch.Tensor:
    """The context's input in the default contiguous layout.

    Preprocessing may hand over a channels-last view; convolutions take another code path on
    it, whose rounding differs and can flip ReLUs, so every method feeds the same layout.
    """
    return ctx.input_tensor().contiguous()


def input_gradients(module: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    """d logit[target] / d input for every item of a batch (items are independent in eval mode)."""
    if getattr(_guided, "active", False) and isinstance(module, torch.jit.ScriptModule):
        raise ValueError("guided backprop changes the gradient of every ReLU, and a TorchScript model "
                         "runs its ReLUs out of the workbench's reach; load the model as a .pt2 "
                         "program (torch.export.save) or as weights with their architecture")
    x = inputs.detach().requires_grad_(True)
    with torch.enable_grad():
        score = target_score(module(x), target).sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad.detach()


def spans(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive batches of ``size`` covering ``range(total)``."""
    for start in range(0, total, size):
        yield start, min(start + size, total)


def gradient_heatmap(ctx: Context, name: str, p: Any, x: torch.Tensor, target: int,
                     attribution: torch.Tensor) -> Heatmap:
    """Reduce a (1, C, H, W) attribution over channels with ``p.channels`` and wrap it."""
    amap = reduce_channels(attribution, p.channels)
    return heatmap_result(ctx, name, p, x, target, amap, signed=p.channels == "sum")


class _GuidedReLU(torch.autograd.Function):
    """ReLU forward; backward passes only positive gradients where the input was positive."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        out = x.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        return torch.where(out > 0, grad.clamp(min=0), torch.zeros_like(grad))


# the aten overloads are what a torch.export program (.pt2) calls
_RELUS = {F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_,
          torch.ops.aten.relu.default, torch.ops.aten.relu_.default}
_guided = threading.local()  # set while guided_relus() is active in this thread


class _GuidedReLUMode(TorchFunctionMode):
    # Every relu call, from an nn.ReLU module or a functional call, becomes a guided ReLU.
    # An in-place relu returns a new tensor instead: models use the returned value.
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in _RELUS:
            return _GuidedReLU.apply(args[0])
        return func(*args, **(kwargs or {}))


@contextmanager
def guided_relus() -> Iterator[None]:
    """Inside the block, ReLUs backpropagate as in guided backpropagation (this thread only).

    Nothing is registered on or replaced in any module: leaving the block restores plain autograd.
    """
    outer = getattr(_guided, "active", False)
    _guided.active = True
    try:
        with _GuidedReLUMode():
            yield
    finally:
        _guided.active = outer
