"""Nearest neighbours and how far two spaces agree on them."""
from __future__ import annotations

import numpy as np


def knn(x: np.ndarray, k: int, n_jobs: int = 1) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows (Euclidean), nearest first."""
    from sklearn.neighbors import NearestNeighbors
    x = np.asarray(x, np.float32)
    k = min(k, len(x) - 1)
    if k < 1:
        raise ValueError("nearest neighbours need at least two points")
    _, idx = NearestNeighbors(n_neighbors=k + 1, n_jobs=n_jobs).fit(x).kneighbors(x)
    return _drop_self(idx, k)


def _drop_self(idx: np.ndarray, k: int) -> np.ndarray:
    """Remove each row's own index (duplicates may put it anywhere in the row), keep k."""
    rows = np.arange(len(idx))[:, None]
    keep = idx != rows
    # a row where self was not found (exact duplicates) drops its last entry instead
    missing = keep.all(axis=1)
    keep[missing, -1] = False
    return idx[keep].reshape(len(idx), -1)[:, :k]


def nearest(x: np.ndarray, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest row ``index`` (itself excluded), nearest first, and their distances."""
    x = np.asarray(x, np.float32)
    if not 0 <= index < len(x):
        raise IndexError(f"point {index} out of range (0-{len(x) - 1})")
    d = np.sqrt(((x - x[index]) ** 2).sum(axis=1))
    d[index] = np.inf
    k = min(k, len(x) - 1)
    idx = np.argpartition(d, k)[:k] if k < len(x) - 1 else np.arange(len(x))[np.isfinite(d)]
    idx = idx[np.argsort(d[idx], kind="stable")]
    return idx, d[idx]


def label_agreement(x: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours that carry its label: how well the space
    keeps the classes apart (1: every neighbourhood is pure; 1/classes: no better than chance)."""
    labels = np.asarray(labels)
    idx = knn(x, k)
    return float((labels[idx] == labels[:, None]).mean())


def neighbour_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours in ``a`` that are also among its k nearest in ``b``."""
    if len(a) != len(b):
        raise ValueError(f"the two spaces hold {len(a)} and {len(b)} points")
    ia, ib = knn(a, k), knn(b, k)
    hits = [len(np.intersect1d(ra, rb, assume_unique=True)) for ra, rb in zip(ia, ib)]
    return float(np.mean(hits) / ia.shape[1])
