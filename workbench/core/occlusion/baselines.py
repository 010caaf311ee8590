"""What an occluded window is filled with, as a (1, C, H, W) tensor in model input space."""
from __future__ import annotations

import cv2
import numpy as np
import torch

BASELINES = ("zero", "mean", "blurred")


def blur_sigma(window: int) -> float:
    """Blur strong enough to remove detail at the window's scale."""
    return max(1.0, window / 4.0)


def baseline_tensor(x: torch.Tensor, kind: str, window: int) -> torch.Tensor:
    if kind == "zero":
        return torch.zeros_like(x)
    if kind == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()
    if kind == "blurred":
        img = np.ascontiguousarray(x[0].detach().permute(1, 2, 0).cpu().numpy(), np.float32)
        s = blur_sigma(window)
        out = cv2.GaussianBlur(img, (0, 0), sigmaX=s, sigmaY=s, borderType=cv2.BORDER_REFLECT_101)
        out = out.reshape(img.shape)            # one-channel images come back without the channel axis
        return torch.from_numpy(out).permute(2, 0, 1).unsqueeze(0).to(x.device, x.dtype)
    raise ValueError(f"unknown baseline {kind!r}; use one of {', '.join(BASELINES)}")
