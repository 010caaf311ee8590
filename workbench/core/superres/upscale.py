"""4x super-resolution of any image: what goes in, what comes out, and how it is scored.

Two modes. ``compare``: the image is the high-resolution truth; it is cropped to a multiple of 4,
area-downsampled by 4 (4x4 block means, rounded to uint8) and that small image is
super-resolved, so every upscale can be scored against the image (PSNR, SSIM). ``upscale``: the
image itself is the low-resolution input and comes out 4x larger, with nothing to score against.

Colour and gray: the models eat RGB. A gray image (all three channels equal, as every image the
workbench opens is RGB) goes in with its gray value in each channel and comes out gray again
(the mean of the output channels), so a digit stays a gray digit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

SCALE = 4
COMPARE, UPSCALE = "compare", "upscale"
MODES = (COMPARE, UPSCALE)
MAX_COMPARE_SIDE = 2048   # compare: the image's longer side
MAX_UPSCALE_SIDE = 512    # upscale: the input's longer side (the output is 4x that)


def is_gray(image: np.ndarray) -> bool:
    image = np.asarray(image)
    return image.ndim == 2 or bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def area_downsample(image: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 (H, W, 3), H and W multiples of ``scale`` -> the means of its scale x scale blocks,
    rounded (what ``cv2.resize(..., cv2.INTER_AREA)`` gives for an integer factor)."""
    h, w = image.shape[:2]
    blocks = np.asarray(image, np.float64).reshape(h // scale, scale, w // scale, scale, -1)
    return np.clip(np.round(blocks.mean(axis=(1, 3))), 0, 255).astype(np.uint8)


def prepare(image: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(the low-resolution input, the high-resolution truth or None) for ``mode``; a clear
    ValueError when the image does not fit it."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if mode == COMPARE:
        if min(h, w) < 4 * SCALE:
            raise ValueError(f"compare mode needs an image at least {4 * SCALE} pixels on each side "
                             f"(it is shrunk {SCALE}x); this one is {w}x{h}: use mode=upscale")
        if max(h, w) > MAX_COMPARE_SIDE:
            raise ValueError(f"compare mode takes images up to {MAX_COMPARE_SIDE} pixels on a side; this one "
                             f"is {w}x{h}")
        truth = np.ascontiguousarray(image[:h - h % SCALE, :w - w % SCALE])
        return area_downsample(truth), truth
    if mode == UPSCALE:
        if max(h, w) > MAX_UPSCALE_SIDE:
            raise ValueError(f"upscale mode takes images up to {MAX_UPSCALE_SIDE} pixels on a side (the "
                             f"result is {SCALE}x larger); this one is {w}x{h}: use mode=compare")
        return np.ascontiguousarray(image), None
    raise ValueError(f"mode: {mode!r} is not one of {list(MODES)}")


def _as_gray(rgb: np.ndarray) -> np.ndarray:
    gray = np.round(np.asarray(rgb, np.float64).mean(axis=-1)).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def _tensor(low: np.ndarray, device: Any = "cpu") -> "torch.Tensor":
    import torch
    x = torch.from_numpy(np.ascontiguousarray(low)).permute(2, 0, 1).float().div(255.0)
    return x.unsqueeze(0).to(device)


def _uint8(x: "torch.Tensor") -> np.ndarray:
    return (x[0].clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()


def bicubic(low: np.ndarray) -> np.ndarray:
    """Bicubic 4x upsample (a = -0.75, half-pixel centres), uint8 (4h, 4w, 3); gray stays gray."""
    from workbench.zoo.superres import bicubic as upsample
    out = _uint8(upsample(_tensor(low)))
    return _as_gray(out) if is_gray(low) else out


def super_resolve(module: Any, low: np.ndarray, device: Any = "cpu") -> np.ndarray:
    """``module``'s 4x upscale of uint8 RGB ``low``: uint8 (4h, 4w, 3); gray stays gray."""
    import torch
    with torch.no_grad():
        out = _uint8(module(_tensor(low, device)))
    if out.shape[:2] != (low.shape[0] * SCALE, low.shape[1] * SCALE):
        raise ValueError(f"the model made a {out.shape[1]}x{out.shape[0]} image of a {low.shape[1]}x"
                         f"{low.shape[0]} input; a super-resolution model here enlarges {SCALE}x")
    return _as_gray(out) if is_gray(low) else out


def scores(truth: np.ndarray | None, upscales: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """(PSNR, SSIM) of each upscale against ``truth``; empty lists without a truth. A gray
    truth is scored on its one channel."""
    if truth is None:
        return [], []
    from workbench.zoo.superres_quality import psnr, ssim
    gray = is_gray(truth)
    ref = truth[..., 0] if gray else truth
    picked = [u[..., 0] if gray else u for u in upscales]
    return [psnr(ref, u) for u in picked], [ssim(ref, u) for u in picked]
