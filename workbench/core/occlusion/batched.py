"""The plain way: whole occluded images through the model, a batch at a time.

Used for models that cannot be traced into steps, and for sweeps so small that tracing and
patch bookkeeping would cost more than they save; it gives the same numbers.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


class BatchedModel:
    def __init__(self, model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, windows: np.ndarray) -> None:
        self.model, self.x = model, x
        self.batch: int | None = None     # a batch size that suits this sweep better than the caller's
        self.baseline = baseline.expand_as(x)
        self.windows = np.asarray(windows, np.int64)
        with torch.inference_mode():
            self.clean_output = model(x)

    def outputs(self, indices: np.ndarray) -> torch.Tensor:
        w = torch.from_numpy(self.windows[np.asarray(indices, np.int64)]).to(self.x.device)
        h, wd = self.x.shape[-2:]
        ys = torch.arange(h, device=self.x.device)
        xs = torch.arange(wd, device=self.x.device)
        inside = (((ys >= w[:, 0:1]) & (ys < w[:, 1:2]))[:, :, None]
                  & ((xs >= w[:, 2:3]) & (xs < w[:, 3:4]))[:, None, :])[:, None]
        with torch.inference_mode():
            return self.model(torch.where(inside, self.baseline, self.x))
