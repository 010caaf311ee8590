"""Projections to 2-D: PCA, t-SNE (openTSNE) and UMAP when it is installed.

t-SNE runs as openTSNE's two phases (early exaggeration, then the plain embedding) in short
chunks, so a caller sees progress and can stop between chunks; openTSNE keeps the optimiser's
gains and momentum across chunks, so the chunks add up to one uninterrupted run.
"""
from __future__ import annotations

import importlib.util
import warnings
from typing import Callable, Iterator

import numpy as np

PROJECTIONS = ("pca", "tsne", "umap")
PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# openTSNE's FFT-interpolated gradient pays a fixed cost per iteration that Barnes-Hut's n log n
# only overtakes on larger sets. Measured here (one thread, shapes-cnn features, 750 iterations),
# Barnes-Hut against FFT: 8.5 s / 20.9 s at 2,000 points, 21 / 35 at 5,000, 60 / 40 at 10,000,
# 136 / 48 at 20,000
FFT_FROM = 8000
# openTSNE's learning rate (n / exaggeration) converges in fewer iterations than its default schedule
# (250 + 500) spends. Measured here on shapes-cnn features, neighbour agreement (k=10) with the feature
# space after 125 exaggerated + 400 plain iterations against 250 + 500: 0.486 / 0.486 at 5,000 points,
# 0.409 / 0.412 at 20,000; scikit-learn's TSNE, 750 iterations, gave 0.482 and 0.404.
EARLY_ITERS, ITERS, CHUNK = 125, 400, 25


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def pca(x: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(N, dims) coordinates on the leading principal axes, and the share of variance each explains."""
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(x.T @ x)     # D x D: cheap for many points of modest width
    order = np.argsort(values)[::-1][:dims]
    coords = x @ vectors[:, order]
    if coords.shape[1] < dims:                     # fewer features than dims: pad with zeros
        coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
    total = max(float(values.sum()), 1e-12)
    return coords.astype(np.float32), (np.clip(values[order], 0, None) / total).astype(np.float32)


def gradient_method(n: int) -> str:
    return "fft" if n >= FFT_FROM else "bh"


def tsne(x: np.ndarray, perplexity: float = 30.0, seed: int = 0, n_jobs: int = 1,
         check: Callable[[], None] = lambda: None, gradient: str = "") -> Iterator[tuple[float, np.ndarray]]:
    """Yield (fraction done, current (N, 2) embedding) after the affinities and every chunk of iterations;
    ``check`` is called between chunks and stops the run by raising. ``gradient``: "fft" or "bh"
    (empty: chosen by size)."""
    from openTSNE import TSNEEmbedding, affinity, initialization
    x = np.asarray(x, np.float32)
    n = len(x)
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {n}")
    perplexity = float(min(perplexity, (n - 1) / 3))
    check()
    aff = affinity.PerplexityBasedNN(x, perplexity=perplexity, n_jobs=n_jobs, random_state=seed)
    init = initialization.pca(x, random_state=seed)
    check()
    emb = TSNEEmbedding(init, aff, negative_gradient_method=gradient or gradient_method(n), n_jobs=n_jobs, random_state=seed)
    total = EARLY_ITERS + ITERS
    yield 0.0, np.asarray(emb, np.float32)
    done = 0
    for phase_iters, kw in ((EARLY_ITERS, dict(exaggeration=12, momentum=0.5)), (ITERS, dict(momentum=0.8))):
        left = phase_iters
        while left > 0:
            check()
            step = min(CHUNK, left)
            emb.optimize(step, inplace=True, **kw)
            left -= step
            done += step
            yield done / total, np.asarray(emb, np.float32)


def require_umap() -> None:
    if not umap_available():
        raise ValueError("projection 'umap' needs the umap-learn package (pip install umap-learn); "
                         "use pca or tsne")


def umap(x: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """(N, 2) UMAP coordinates; seeded, so the same features give the same layout."""
    require_umap()
    import umap as umap_lib
    x = np.asarray(x, np.float32)
    if len(x) < 4:
        raise ValueError(f"UMAP needs at least 4 points, got {len(x)}")
    with warnings.catch_warnings():   # a seed makes umap-learn run on one thread, and it warns that it does
        warnings.filterwarnings("ignore", message=".*n_jobs.*", category=UserWarning)
        fit = umap_lib.UMAP(n_neighbors=min(n_neighbors, len(x) - 1), random_state=seed)
        return fit.fit_transform(x).astype(np.float32)
