"""FID, KID and Inception Score of generated digits against held-out digits.

The feature extractor is pluggable: any function that takes a batch of images (N, 1, 32, 32)
in [0, 1] and returns (features (N, D), class probabilities (N, K)). The default uses the
bundled ``digits-cnn`` the way FID uses Inception: features are its last conv block
averaged over space (64-d, like Inception's pool3), probabilities its softmax. A pooled 64-d
feature keeps the covariance of the 270 held-out test digits well conditioned, which the
1024-d flattened map would not be.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from workbench.zoo.digits import load_split
from workbench.zoo.metrics import fid, inception_score, kid

Extractor = Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]]
KID_SUBSETS = 100
IS_SPLITS = 10


@lru_cache(maxsize=2)
def digits_cnn_extractor(models_dir: str | None = None) -> Extractor:
    """Pooled last-block features and softmax of the bundled digits classifier."""
    from workbench.zoo import catalogue
    entry = catalogue.get("digits-cnn")
    model = entry.load(models_dir)
    mean, std = float(entry.mean[0]), float(entry.std[0])

    @torch.no_grad()
    def extract(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        fmap = model.features((images - mean) / std)
        logits = model.fc(model.flatten(fmap))
        return fmap.mean(dim=(2, 3)).double().numpy(), torch.softmax(logits.double(), 1).numpy()

    return extract


def as_batch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, 32, 32) or float [0, 1] (N, 32, 32) / (N, 1, 32, 32) -> float (N, 1, 32, 32)."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected grayscale images (N, 1, h, w) or (N, h, w), got {tuple(x.shape)}")
    return x


def extract(images: np.ndarray | torch.Tensor, extractor: Extractor | None = None,
            batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    extractor = extractor or digits_cnn_extractor()
    parts = [extractor(b) for b in as_batch(images).split(batch_size)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def held_out_features(extractor: Extractor | None = None, split: str = "test") -> np.ndarray:
    """Features of the real digits of ``split`` (computed once per extractor and split)."""
    return _held_out_features(extractor or digits_cnn_extractor(), split)


@lru_cache(maxsize=8)
def _held_out_features(extractor: Extractor, split: str) -> np.ndarray:
    return extract(load_split(split)[0], extractor)[0]


def scores(images: np.ndarray | torch.Tensor, extractor: Extractor | None = None,
           split: str = "test", seed: int = 0) -> dict:
    """FID, KID (mean, std) and IS (mean, std) of ``images`` against the digits of ``split``,
    plus how many samples the classifier puts in each class."""
    extractor = extractor or digits_cnn_extractor()
    feats, probs = extract(images, extractor)
    ref = held_out_features(extractor, split)
    kid_mean, kid_std = kid(feats, ref, subsets=KID_SUBSETS, seed=seed)
    is_mean, is_std = inception_score(probs, splits=IS_SPLITS)
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return {"n": int(len(feats)), "reference": f"digits {split} split ({len(ref)} images)",
            "fid": fid(feats, ref), "kid_mean": kid_mean, "kid_std": kid_std,
            "is_mean": is_mean, "is_std": is_std, "class_counts": counts.tolist()}
