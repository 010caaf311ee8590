"""A classifier's steps, their activations on the clean image, and, for every window, the
rectangle of every feature map that the window can change.

Conv and pool steps map a dirty input rectangle through their kernel, stride, padding and
dilation; pointwise steps and merges (residual adds, channel concatenation) take the union
of their inputs' rectangles; any other step (global pooling, flatten, linear, squeeze-and-
excitation scaling, ops this package does not know) is computed in full and makes its output
wholly dirty.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from workbench.core.occlusion import ops
from workbench.core.occlusion.graph import (ALIAS, INPUT, OUTPUT, POINTWISE, SPATIAL, STATIC, WHOLE, Step,
                                            steps_of)


@dataclass
class Plan:
    steps: list[Step]
    clean: dict[str, Any]             # every step's value on the clean image (batch of one)
    dirty: dict[str, np.ndarray]      # (windows, 4) rows [y0, y1, x0, x1] per 4-D image-dependent value
    last_use: dict[str, int]          # the index of the last step that reads each value
    output: str

    @property
    def input(self) -> str:
        return next(st.name for st in self.steps if st.kind == INPUT)

    def hw(self, name: str) -> tuple[int, int]:
        return tuple(self.clean[name].shape[-2:])


def build(model: nn.Module, x: torch.Tensor, windows: np.ndarray, channels_last: bool = True,
          fast: bool = True, reach: float | None = None) -> Plan:
    """Trace ``model``, run it on ``x`` (1xCxHxW) and propagate the (N, 4) window rectangles.

    ``reach`` (approximate): no conv or pool output rectangle grows past this share of its
    map's side; it is cut to that size around the window's centre, and the map is taken as
    clean outside it (Krypton's projective field threshold).
    """
    steps = steps_of(model, channels_last, fast)
    clean = _run_clean(steps, x)
    _classify(steps, clean)
    dirty = _propagate(steps, clean, np.asarray(windows, np.int64), reach, tuple(x.shape[-2:]))
    last_use = {}
    for i, st in enumerate(steps):
        for name in _arg_names(st):
            last_use[name] = i
    return Plan(steps, clean, dirty, last_use, steps[-1].source)


def with_reach(plan: Plan, windows: np.ndarray, reach: float) -> Plan:
    """The same plan with the windows' rectangles cut at ``reach`` (see ``build``)."""
    dirty = _propagate(plan.steps, plan.clean, np.asarray(windows, np.int64), reach, plan.hw(plan.input))
    return dataclasses.replace(plan, dirty=dirty)


def dirty_macs(plan: Plan) -> float:
    """Multiply-adds of the conv steps over all windows' dirty rectangles."""
    total = 0.0
    for st in plan.steps:
        if st.kind == SPATIAL and st.spatial.macs:
            d = plan.dirty[st.name]
            total += st.spatial.macs * float(((d[:, 1] - d[:, 0]) * (d[:, 3] - d[:, 2])).sum())
    return total


def _arg_names(step: Step) -> list[str]:
    names: list[str] = []
    fx.node.map_arg((step.args, step.kwargs), lambda n: names.append(n.name))
    if step.source:
        names.append(step.source)
    return names


def _run_clean(steps: list[Step], x: torch.Tensor) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for st in steps:
        if st.kind == INPUT:
            env[st.name] = x
        elif st.kind in (ALIAS, OUTPUT):
            env[st.name] = env[st.source]
        else:
            args, kwargs = fx.node.map_arg((st.args, st.kwargs), lambda n: env[n.name])
            env[st.name] = st.call(*args, **kwargs)
    return env


def _is_map(v: Any) -> bool:
    return isinstance(v, torch.Tensor) and v.dim() == 4


def broadcasts_over_pixels(v: Any) -> bool:
    """A constant operand that is the same for every pixel (a scalar, or 1x1 in its last two dims)."""
    if not isinstance(v, torch.Tensor):
        return True
    return v.numel() == 1 or (v.dim() >= 2 and v.shape[-1] == 1 and v.shape[-2] == 1)


def _classify(steps: list[Step], clean: dict[str, Any]) -> None:
    """Mark which inputs depend on the image; demote steps that cannot work on patches to WHOLE."""
    dynamic: set[str] = set()
    for st in steps:
        if st.kind == INPUT:
            dynamic.add(st.name)
            continue
        st.dynamic = [a for a in dict.fromkeys(_arg_names(st)) if a in dynamic]
        if st.kind in (ALIAS, OUTPUT):
            if st.source in dynamic:
                dynamic.add(st.name)
            continue
        if not st.dynamic:
            st.kind = STATIC
            continue
        dynamic.add(st.name)
        out = clean[st.name]
        if st.kind == SPATIAL and not (_is_map(out) and _is_map(clean[st.dynamic[0]])):
            st.kind = WHOLE
        elif st.kind == WHOLE and _is_identity_pool(st, clean):
            st.kind, st.call = POINTWISE, _identity
        elif st.kind == POINTWISE and not _pointwise_ok(st, clean, dynamic):
            st.kind = WHOLE


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _is_identity_pool(st: Step, clean: dict[str, Any]) -> bool:
    if not isinstance(st.call, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) or len(st.dynamic) != 1:
        return False
    a, out = clean[st.dynamic[0]], clean[st.name]
    return _is_map(out) and _is_map(a) and a.shape == out.shape


def _pointwise_ok(st: Step, clean: dict[str, Any], dynamic: set[str]) -> bool:
    out = clean[st.name]
    if not _is_map(out):
        return False
    hw = out.shape[-2:]
    ok = True

    def check(n: fx.Node) -> None:
        nonlocal ok
        v = clean[n.name]
        if n.name in dynamic:
            ok &= _is_map(v) and v.shape[-2:] == hw
        else:
            ok &= broadcasts_over_pixels(v) or (_is_map(v) and v.shape[-2:] == hw)
    fx.node.map_arg((st.args, st.kwargs), check)
    return ok


def _propagate(steps: list[Step], clean: dict[str, Any], windows: np.ndarray, reach: float | None = None,
               input_hw: tuple[int, int] = (1, 1)) -> dict[str, np.ndarray]:
    dirty: dict[str, np.ndarray] = {}
    centre = np.stack([(windows[:, 0] + windows[:, 1]) / (2.0 * input_hw[0]),
                       (windows[:, 2] + windows[:, 3]) / (2.0 * input_hw[1])], axis=1)
    extent = np.stack([(windows[:, 1] - windows[:, 0]) / input_hw[0],
                       (windows[:, 3] - windows[:, 2]) / input_hw[1]], axis=1).max(0)
    for st in steps:
        out = clean.get(st.name)
        if st.kind == INPUT:
            dirty[st.name] = windows.copy()
        elif st.kind == ALIAS and st.source in dirty:
            dirty[st.name] = dirty[st.source]
        elif st.kind == SPATIAL:
            dirty[st.name] = _through_kernel(dirty[st.dynamic[0]], st.spatial, out.shape[-2:])
            if reach is not None:
                dirty[st.name] = _cut(dirty[st.name], centre, extent, reach, out.shape[-2:])
        elif st.kind == POINTWISE:
            parts = np.stack([dirty[a] for a in st.dynamic])
            dirty[st.name] = np.concatenate([parts[:, :, 0:1].min(0), parts[:, :, 1:2].max(0),
                                             parts[:, :, 2:3].min(0), parts[:, :, 3:4].max(0)], axis=1)
        elif st.kind == WHOLE and _is_map(out):
            h, w = out.shape[-2:]
            dirty[st.name] = np.tile(np.array([[0, h, 0, w]], np.int64), (len(windows), 1))
    return dirty


def _through_kernel(rect: np.ndarray, op: ops.SpatialOp, out_hw: tuple[int, int]) -> np.ndarray:
    """Output rows/columns whose receptive field meets the dirty input rectangle."""
    cols = []
    for axis, (lo_col, hi_col) in enumerate(((0, 1), (2, 3))):
        a, b = rect[:, lo_col], rect[:, hi_col]
        s, p, reach, n = op.stride[axis], op.pad_lo[axis], op.reach(axis), out_hw[axis]
        lo = -((reach - a - p) // s)          # ceil((a + p - reach) / s)
        hi = (b - 1 + p) // s + 1
        cols += [np.clip(lo, 0, n), np.clip(hi, 0, n)]
    return np.stack(cols, axis=1)


CUT_MARGIN = 3


def _cut(rect: np.ndarray, centre: np.ndarray, extent: np.ndarray, reach: float,
         hw: tuple[int, int]) -> np.ndarray:
    """Rectangles no longer than ``reach`` x the map's side, around each window's centre; never
    cut below the window's own size on the map plus a margin of CUT_MARGIN pixels either side
    (on small maps that leaves the rectangles whole)."""
    out = rect.copy()
    for axis, (lo_col, hi_col) in enumerate(((0, 1), (2, 3))):
        n = hw[axis]
        keep = max(int(np.ceil(reach * n)), int(np.ceil(extent[axis] * n)) + 2 * CUT_MARGIN)
        lo = np.clip(np.round(centre[:, axis] * n - keep / 2.0).astype(np.int64), 0, max(0, n - keep))
        long = rect[:, hi_col] - rect[:, lo_col] > keep
        out[long, lo_col] = np.maximum(rect[long, lo_col], lo[long])
        out[long, hi_col] = np.minimum(rect[long, hi_col], lo[long] + keep)
    return out
