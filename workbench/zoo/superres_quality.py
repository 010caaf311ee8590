"""How good a 4x super-resolution is: PSNR, SSIM and FID against the high-resolution images.

PSNR and SSIM compare each upscale with its own original (uint8, data range 255; SSIM is
``skimage.metrics.structural_similarity`` with its defaults, 7x7 windows, averaged over the
RGB channels). FID compares the distribution of the upscales with that of the originals, on
features of a bundled CNN made for those images: ``shapes-cnn`` globally pooled last block
(128-d) for the shapes, ``digits-cnn`` pooled last block (64-d, as ``sample_quality``) for
the digits. A blurry upscale keeps PSNR high and moves those features; that is the gap the
adversarial loss closes.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch
from torch import nn

from workbench.zoo import superres
from workbench.zoo.metrics import fid

Features = Callable[[torch.Tensor], np.ndarray]


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of uint8 ``test`` against ``reference``, data range 255."""
    mse = np.mean((np.asarray(reference, np.float64) - np.asarray(test, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity of uint8 images (HxW or HxWx3), data range 255."""
    from skimage.metrics import structural_similarity
    reference, test = np.asarray(reference), np.asarray(test)
    axis = 2 if reference.ndim == 3 else None
    return float(structural_similarity(reference, test, data_range=255, channel_axis=axis))


@lru_cache(maxsize=2)
def pooled_features(name: str = "shapes-cnn") -> Features:
    """Globally pooled last-block features of a bundled RGB classifier (128-d for shapes-cnn and
    textures-cnn)."""
    from workbench.zoo import catalogue
    entry = catalogue.get(name)
    model = entry.load()
    mean = torch.tensor(entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(entry.std).view(1, 3, 1, 1)

    @torch.no_grad()
    def extract(x: torch.Tensor) -> np.ndarray:
        return model.features((x - mean) / std).mean(dim=(2, 3)).double().numpy()
    return extract


def digits_features() -> Features:
    """Pooled last-block features of the bundled digits classifier (64-d), on the gray value."""
    from workbench.zoo.sample_quality import digits_cnn_extractor
    extract = digits_cnn_extractor()
    return lambda x: extract(x.mean(dim=1, keepdim=True))[0]


def shapes_features() -> Features:
    return pooled_features("shapes-cnn")


def textures_features() -> Features:
    return pooled_features("textures-cnn")


FEATURES = {"shapes": ("shapes-cnn pooled last block (128-d)", shapes_features),
            "digits": ("digits-cnn pooled last block (64-d)", digits_features)}
# a second FID of the shapes on a net that no training loss here looked at (sr-gan's perceptual
# loss reads shapes-cnn's relu3, below the block FEATURES pools)
INDEPENDENT = {"shapes": ("textures-cnn pooled last block (128-d)", textures_features)}


def _batched(features: Features, x: torch.Tensor, batch_size: int = 200) -> np.ndarray:
    return np.concatenate([features(b) for b in x.split(batch_size)])


def evaluate(models: dict[str, nn.Module | None], images: dict[str, np.ndarray],
             with_fid: bool = True) -> dict:
    """{domain: {model name: {psnr, ssim, fid}}} for each set of uint8 HR images; a model of
    None is bicubic. PSNR and SSIM are means over images."""
    out: dict = {}
    for domain, hr_uint8 in images.items():
        hr = superres.to_tensor(hr_uint8)
        lr = superres.downsample(hr)
        reference = superres.to_uint8(hr)
        real = _batched(FEATURES[domain][1](), hr) if with_fid else None
        second = INDEPENDENT.get(domain) if with_fid else None
        real_second = _batched(second[1](), hr) if second else None
        out[domain] = {"n": int(len(hr))}
        for name, model in models.items():
            sr = superres.upscale(model, lr)
            sr_uint8 = superres.to_uint8(sr)
            if domain == "digits":   # gray in, gray out: score the one channel
                reference_c, sr_c = reference[..., 0], np.round(sr_uint8.mean(-1)).astype(np.uint8)
            else:
                reference_c, sr_c = reference, sr_uint8
            row = {"psnr": float(np.mean([psnr(a, b) for a, b in zip(reference_c, sr_c)])),
                   "ssim": float(np.mean([ssim(a, b) for a, b in zip(reference_c, sr_c)]))}
            if with_fid:
                quantised = torch.from_numpy(sr_uint8).permute(0, 3, 1, 2).float() / 255.0
                row["fid"] = fid(_batched(FEATURES[domain][1](), quantised), real)
                if second:
                    row["fid_textures_cnn"] = fid(_batched(second[1](), quantised), real_second)
            out[domain][name] = row
    return out
