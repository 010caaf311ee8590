"""The ops the incremental executor knows: spatial ops (conv, pool) and elementwise ops.

A spatial op is run on a region of its input that already holds its padding, with padding 0,
so it can compute any rectangle of its output. Convolutions followed by an eval-mode
BatchNorm are folded into one convolution.
"""
from __future__ import annotations

import copy
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.occlusion import winograd


@dataclass
class SpatialOp:
    """An op whose output pixel depends on a kernel-sized window of its input."""
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad_lo: tuple[int, int]
    fill: float                              # the value its padding holds
    full: Callable[[torch.Tensor], torch.Tensor]
    patch: Callable[[torch.Tensor], torch.Tensor]
    macs: int = 0                            # multiply-adds per output pixel (0: negligible)

    def reach(self, axis: int) -> int:
        """How far past its first input pixel one output pixel reads."""
        return self.dilation[axis] * (self.kernel[axis] - 1)


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def conv_op(conv: nn.Conv2d, bn: nn.BatchNorm2d | None, channels_last: bool, relu: bool = False,
            fast: bool = True) -> SpatialOp | None:
    """The conv (with ``bn`` folded in and a ReLU after it if asked); ``fast`` allows Winograd."""
    if conv.padding_mode != "zeros":
        return None
    weight = conv.weight.detach()
    bias = conv.bias.detach() if conv.bias is not None else None
    if bn is not None:
        weight, bias = _fold(weight, bias, bn)
    k, s, d = _pair(conv.kernel_size), _pair(conv.stride), _pair(conv.dilation)
    if conv.padding == "same":
        pad_lo = (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2)
    elif conv.padding == "valid":
        pad_lo = (0, 0)
    else:
        pad_lo = _pair(conv.padding)
    macs = conv.out_channels * (conv.in_channels // conv.groups) * k[0] * k[1]
    if fast and winograd.suits(conv):
        u = winograd.transform_weight(weight)

        def patch(x: torch.Tensor) -> torch.Tensor:
            return winograd.conv3x3(x, u, bias, relu)

        def full(x: torch.Tensor) -> torch.Tensor:
            (py, px) = pad_lo
            padded = F.pad(x.permute(0, 2, 3, 1), (0, 0, px, px, py, py))
            return patch(padded.permute(0, 3, 1, 2))

        return SpatialOp(k, s, d, pad_lo, 0.0, full, patch, macs)
    if channels_last and weight.device.type == "cpu":
        weight = weight.contiguous(memory_format=torch.channels_last)
    padding, groups = conv.padding, conv.groups

    def full(x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, weight, bias, s, padding, d, groups)
        return y.relu_() if relu else y

    def patch(x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, weight, bias, s, 0, d, groups)
        return y.relu_() if relu else y

    return SpatialOp(k, s, d, pad_lo, 0.0, full, patch, macs)


def _fold(weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.BatchNorm2d):
    """Conv then eval BatchNorm as one conv (the per-channel factors in float64)."""
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.detach().double()
    shift = -bn.running_mean.double() * scale
    if bias is not None:
        shift = shift + bias.double() * scale
    if bn.bias is not None:
        shift = shift + bn.bias.detach().double()
    w = weight * scale.to(weight.dtype).view(-1, 1, 1, 1)
    return w, shift.to(weight.dtype)


def pool_op(pool: nn.Module) -> SpatialOp | None:
    k, s = _pair(pool.kernel_size), _pair(pool.stride or pool.kernel_size)
    p = _pair(pool.padding)
    if isinstance(pool, nn.MaxPool2d):
        if pool.return_indices:
            return None
        d = _pair(pool.dilation)

        def patch(x: torch.Tensor) -> torch.Tensor:
            return F.max_pool2d(x, k, s, 0, d)
        return SpatialOp(k, s, d, p, -math.inf, pool, patch)
    if isinstance(pool, nn.AvgPool2d):
        # padding that is left out of the mean, or ceil-mode windows, change the divisor at borders
        if pool.ceil_mode or (p != (0, 0) and not pool.count_include_pad):
            return None
        divisor = pool.divisor_override

        def patch(x: torch.Tensor) -> torch.Tensor:
            return F.avg_pool2d(x, k, s, 0, False, True, divisor)
        return SpatialOp(k, s, (1, 1), p, 0.0, pool, patch)
    return None


def foldable_bn(module: nn.Module) -> bool:
    return (isinstance(module, nn.BatchNorm2d) and not module.training
            and module.running_mean is not None and module.running_var is not None)


# Ops that act on each pixel on its own (given their other operands), so a patch in gives a patch out.
POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Identity,
)
DROPOUT_MODULES = (nn.Dropout, nn.Dropout2d, nn.AlphaDropout)

_INPLACE_FUNCTIONS = {operator.iadd: operator.add, operator.isub: operator.sub,
                      operator.imul: operator.mul, operator.itruediv: operator.truediv}

POINTWISE_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg,
    torch.add, torch.sub, torch.mul, torch.div, torch.maximum, torch.minimum, torch.clamp,
    torch.relu, torch.sigmoid, torch.tanh, F.relu, F.relu6, F.leaky_relu, F.elu, F.gelu, F.silu,
    F.mish, F.hardswish, F.hardsigmoid, F.hardtanh, F.sigmoid, F.tanh, F.softplus,
}
POINTWISE_METHODS = {"add", "sub", "mul", "div", "neg", "relu", "sigmoid", "tanh", "clamp",
                     "contiguous", "float"}


def pointwise_module(module: nn.Module) -> bool:
    if isinstance(module, DROPOUT_MODULES):
        return not module.training
    if isinstance(module, nn.BatchNorm2d):
        return foldable_bn(module)        # batch statistics would make every pixel depend on all
    return isinstance(module, POINTWISE_MODULES)


def out_of_place_module(module: nn.Module) -> nn.Module:
    """The module, or a shallow copy of it that does not write into its input."""
    if getattr(module, "inplace", False):
        module = copy.copy(module)
        module.inplace = False
    return module


def out_of_place_function(target: Callable, kwargs: dict) -> tuple[Callable, dict]:
    if kwargs.get("inplace"):
        kwargs = {**kwargs, "inplace": False}
    return _INPLACE_FUNCTIONS.get(target, target), kwargs


def out_of_place_method(name: str) -> str:
    plain = name[:-1]
    return plain if name.endswith("_") and not name.startswith("_") and hasattr(torch.Tensor, plain) else name


RELU_FUNCTIONS = {F.relu, torch.relu, torch.relu_}
ARITHMETIC = {operator.add, operator.sub, operator.mul, torch.add, torch.sub, torch.mul}


def then_relu(call: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``call`` followed by an in-place ReLU (for calls that return a fresh tensor)."""
    def fused(*args, **kwargs):
        return call(*args, **kwargs).relu_()
    return fused


def is_channel_cat(target: Callable, args: tuple, kwargs: dict) -> bool:
    if target is not torch.cat:
        return False
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    return dim in (1, -3)
