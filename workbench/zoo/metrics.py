"""Sample-quality metrics on feature arrays: FID, KID and Inception Score (numpy, float64).

FID follows pytorch-fid (Heusel et al. 2017): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)).
KID follows torch-fidelity: unbiased MMD^2 with the kernel (x.y / d + 1)^3, averaged over
random subsets. IS follows Salimans et al. 2016: exp(E_x KL(p(y|x) || p(y))) over splits.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg


def _features(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"{name} must be an (N, D) feature array with N >= 2, got shape {a.shape}")
    return a


def fid(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    a, b = _features(a, "a"), _features(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int, gamma: float | None, coef0: float) -> float:
    g = 1.0 / x.shape[1] if gamma is None else gamma
    kxx = (x @ x.T * g + coef0) ** degree
    kyy = (y @ y.T * g + coef0) ** degree
    kxy = (x @ y.T * g + coef0) ** degree
    m = x.shape[0]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2.0 * kxy.mean())


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000, degree: int = 3,
        gamma: float | None = None, coef0: float = 1.0, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets."""
    a, b = _features(a, "a"), _features(b, "b")
    size = min(subset_size, len(a), len(b))
    rng = np.random.RandomState(seed)
    scores = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        scores.append(_mmd2_unbiased(x, y, degree, gamma, coef0))
    return float(np.mean(scores)), float(np.std(scores))


def inception_score(probs: np.ndarray, splits: int = 10, eps: float = 1e-12) -> tuple[float, float]:
    """(mean, std) over splits of exp(mean KL(p(y|x) || p(y))) from class probabilities (N, K)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"probs must be (N, K) with N >= splits ({splits}), got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ValueError("probs rows must be probability distributions (non-negative, summing to 1)")
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + eps) - np.log(py + eps))).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
