"""Per-window patches of a feature map, and reading any rectangle of the occluded map from them.

For a batch of B windows a feature map is held as one (B, C, h, w) tensor plus, per window, where
its h x w box sits; outside the box the map equals the clean map. Reading a region (for the next
op) is an ``index_select`` from the clean map's pixels, laid out as rows of channels, with the
patch's pixels copied over where the region meets the box; the result comes out channels-last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Box:
    """Per window, the top-left corner of an h x w box inside an H x W map."""
    y0: np.ndarray
    x0: np.ndarray
    h: int
    w: int
    full: bool = False

    @staticmethod
    def whole(batch: int, h: int, w: int) -> "Box":
        z = np.zeros(batch, np.int64)
        return Box(z, z, h, w, True)

    def same_as(self, other: "Box") -> bool:
        return (self.h == other.h and self.w == other.w and np.array_equal(self.y0, other.y0)
                and np.array_equal(self.x0, other.x0))


@dataclass
class Patch:
    tensor: torch.Tensor   # (B, C, h, w)
    box: Box


class CleanPixels:
    """A clean (1, C, H, W) map as (pixels, C) rows, padded with a fill value on demand."""

    def __init__(self, value: torch.Tensor) -> None:
        self.value = value
        self._padded: dict[tuple, torch.Tensor] = {}

    def rows(self, pads: tuple[int, int, int, int], fill: float) -> tuple[torch.Tensor, int]:
        """(rows, padded width) for padding (top, bottom, left, right)."""
        key = (*pads, fill)
        if key not in self._padded:
            top, bottom, left, right = pads
            v = self.value[0]
            if any(pads):
                v = torch.nn.functional.pad(v, (left, right, top, bottom), value=fill)
            self._padded[key] = v.permute(1, 2, 0).reshape(-1, v.shape[0]).contiguous()
        return self._padded[key], self.value.shape[-1] + pads[2] + pads[3]


def _rows_of(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])


def _as_index(a: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, np.int64)).to(device)


def read_region(src: Patch | None, clean: CleanPixels, y0: np.ndarray, x0: np.ndarray, h: int, w: int,
                pads: tuple[int, int, int, int] = (0, 0, 0, 0), fill: float = 0.0) -> torch.Tensor:
    """(B, C, h, w) channels-last: per window, the region at (y0, x0) of the occluded map.

    Coordinates are in the unpadded map and may reach into the padding given by ``pads``.
    ``src`` is None for a map that no window changes (a constant operand).
    """
    table, wp = clean.rows(pads, fill)
    dev = table.device
    ys = y0[:, None] + np.arange(h)                       # (B, h)
    xs = x0[:, None] + np.arange(w)                       # (B, w)
    idx = (ys + pads[0])[:, :, None] * wp + (xs + pads[2])[:, None, :]
    out = table.index_select(0, _as_index(idx.reshape(-1), dev))
    if src is not None:
        b = src.box
        in_y = (ys >= b.y0[:, None]) & (ys < b.y0[:, None] + b.h)
        in_x = (xs >= b.x0[:, None]) & (xs < b.x0[:, None] + b.w)
        inside = (in_y[:, :, None] & in_x[:, None, :]).reshape(-1)
        if inside.any():
            batch = len(y0)
            from_patch = ((np.arange(batch) * (b.h * b.w))[:, None, None]
                          + (ys - b.y0[:, None])[:, :, None] * b.w + (xs - b.x0[:, None])[:, None, :])
            rows = _rows_of(src.tensor).index_select(0, _as_index(from_patch.reshape(-1)[inside], dev))
            out.index_copy_(0, _as_index(np.flatnonzero(inside), dev), rows)
    return out.view(len(y0), h, w, table.shape[1]).permute(0, 3, 1, 2)


def materialise(src: Patch, clean: CleanPixels) -> torch.Tensor:
    """The whole occluded map, (B, C, H, W)."""
    if src.box.full:
        return src.tensor
    H, W = clean.value.shape[-2:]
    z = np.zeros(len(src.box.y0), np.int64)
    return read_region(src, clean, z, z, H, W)


def occluded_input(image_then_baseline: torch.Tensor, width: int, windows: np.ndarray, box: Box) -> torch.Tensor:
    """(B, C, h, w): the image over each box with the baseline pasted inside each window.

    ``image_then_baseline`` holds the image's pixel rows followed by the baseline's.
    """
    ys = box.y0[:, None] + np.arange(box.h)
    xs = box.x0[:, None] + np.arange(box.w)
    inside = (((ys >= windows[:, 0:1]) & (ys < windows[:, 1:2]))[:, :, None]
              & ((xs >= windows[:, 2:3]) & (xs < windows[:, 3:4]))[:, None, :])
    idx = ys[:, :, None] * width + xs[:, None, :] + inside * (len(image_then_baseline) // 2)
    out = image_then_baseline.index_select(0, _as_index(idx.reshape(-1), image_then_baseline.device))
    return out.view(len(box.y0), box.h, box.w, image_then_baseline.shape[1]).permute(0, 3, 1, 2)
