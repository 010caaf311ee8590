"""Incremental inference for occlusion: reuse the clean activations and, for each window of a
batch, recompute only the box of each feature map that the window can change.

When a box covers most of its map (``full_fraction``), the map is computed whole for the batch
from there on, like an ordinary batched forward.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from workbench.core.occlusion import plan as P
from workbench.core.occlusion.patches import Box, CleanPixels, Patch, materialise, occluded_input, read_region


class IncrementalModel:
    """The model's outputs on the image occluded by any batch of the given windows."""

    def __init__(self, model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, windows: np.ndarray,
                 full_fraction: float = 0.9, channels_last: bool = True, fast: bool = True,
                 reach: float | None = None) -> None:
        self.windows = np.asarray(windows, np.int64)
        self.full_fraction = full_fraction
        with torch.inference_mode():
            self.plan = P.build(model, x, self.windows, channels_last, fast, reach)
            out = self.plan.clean[self.plan.output]
            if not isinstance(out, torch.Tensor) or out.dim() != 2:
                raise ValueError("the model must return a (batch, outputs) tensor of scores")
            image = CleanPixels(x)
            self._input_rows = torch.cat([image.rows((0, 0, 0, 0), 0.0)[0],
                                          CleanPixels(baseline.expand_as(x)).rows((0, 0, 0, 0), 0.0)[0]])
        self._pixels: dict[str, CleanPixels] = {self.plan.input: image}
        self._free: dict[int, list[str]] = {}
        for name, last in self.plan.last_use.items():
            self._free.setdefault(last, []).append(name)

    def with_reach(self, reach: float) -> "IncrementalModel":
        """This evaluator following each window's change only over ``reach`` of each map's side."""
        other = copy.copy(self)
        other.plan = P.with_reach(self.plan, self.windows, reach)
        return other

    @property
    def clean_output(self) -> torch.Tensor:
        return self.plan.clean[self.plan.output]

    def outputs(self, indices: np.ndarray) -> torch.Tensor:
        """(B, outputs) for the windows with these indices."""
        out = self.value_at(self.plan.steps[-1].name, indices)
        if isinstance(out, Patch):
            raise ValueError("the model must return a (batch, outputs) tensor of scores")
        return out

    def value_at(self, name: str, indices: np.ndarray) -> Any:
        """The value of step ``name`` for these windows (a Patch for feature maps)."""
        idx = np.asarray(indices, np.int64)
        env: dict[str, Any] = {}
        with torch.inference_mode():
            for i, st in enumerate(self.plan.steps):
                if st.kind == P.INPUT:
                    box = self._box(st.name, idx, False)
                    env[st.name] = Patch(occluded_input(self._input_rows, self.plan.hw(st.name)[1],
                                                        self.windows[idx], box), box)
                elif st.kind in (P.ALIAS, P.OUTPUT):
                    if st.source in env:
                        env[st.name] = env[st.source]
                elif st.kind == P.SPATIAL:
                    env[st.name] = self._spatial(st, env[st.dynamic[0]], idx)
                elif st.kind == P.POINTWISE:
                    env[st.name] = self._pointwise(st, env, idx)
                elif st.kind == P.WHOLE:
                    env[st.name] = self._whole(st, env, len(idx))
                if st.name == name:
                    return env[name]
                for done in self._free.get(i, ()):
                    env.pop(done, None)
        raise KeyError(f"no step {name!r}")

    def pixels(self, name: str) -> CleanPixels:
        if name not in self._pixels:
            self._pixels[name] = CleanPixels(self.plan.clean[name])
        return self._pixels[name]

    def _box(self, name: str, idx: np.ndarray, force_full: bool) -> Box:
        H, W = self.plan.hw(name)
        rect = self.plan.dirty[name][idx]
        h = max(1, int((rect[:, 1] - rect[:, 0]).max()))
        w = max(1, int((rect[:, 3] - rect[:, 2]).max()))
        if force_full or h * w >= self.full_fraction * H * W:
            return Box.whole(len(idx), H, W)
        return Box(np.clip(rect[:, 0], 0, H - h), np.clip(rect[:, 2], 0, W - w), h, w)

    def _spatial(self, st: P.Step, src: Patch, idx: np.ndarray) -> Patch:
        op = st.spatial
        box = self._box(st.name, idx, src.box.full)
        if box.full and src.box.full:
            return Patch(op.full(src.tensor), box)
        (h_in, w_in), (h_out, w_out) = self.plan.hw(st.dynamic[0]), self.plan.hw(st.name)
        sy, sx = op.stride
        py, px = op.pad_lo
        ry, rx = op.reach(0), op.reach(1)
        pads = (py, max(0, (h_out - 1) * sy - py + ry + 1 - h_in),
                px, max(0, (w_out - 1) * sx - px + rx + 1 - w_in))
        want = Box(box.y0 * sy - py, box.x0 * sx - px, (box.h - 1) * sy + ry + 1, (box.w - 1) * sx + rx + 1)
        if want.same_as(src.box):      # e.g. a 1x1 conv reading exactly its input's patch
            return Patch(op.patch(src.tensor), box)
        region = read_region(src, self.pixels(st.dynamic[0]), want.y0, want.x0, want.h, want.w, pads, op.fill)
        return Patch(op.patch(region), box)

    def _pointwise(self, st: P.Step, env: dict[str, Any], idx: np.ndarray) -> Patch:
        box = self._box(st.name, idx, any(env[a].box.full for a in st.dynamic))

        def operand(n: fx.Node) -> Any:
            if n.name in env:
                p = env[n.name]
                if p.box.same_as(box):
                    return p.tensor
                return read_region(p, self.pixels(n.name), box.y0, box.x0, box.h, box.w)
            v = self.plan.clean[n.name]
            if box.full or P.broadcasts_over_pixels(v):
                return v
            return read_region(None, self.pixels(n.name), box.y0, box.x0, box.h, box.w)

        args, kwargs = fx.node.map_arg((st.args, st.kwargs), operand)
        return Patch(st.call(*args, **kwargs), box)

    def _whole(self, st: P.Step, env: dict[str, Any], batch: int) -> Any:
        def operand(n: fx.Node) -> Any:
            if n.name not in env:
                return self.plan.clean[n.name]
            v = env[n.name]
            return materialise(v, self.pixels(n.name)) if isinstance(v, Patch) else v

        args, kwargs = fx.node.map_arg((st.args, st.kwargs), operand)
        out = st.call(*args, **kwargs)
        if isinstance(out, torch.Tensor) and out.dim() == 4:
            return Patch(out, Box.whole(batch, *out.shape[-2:]))
        return out
