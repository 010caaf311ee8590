"""workbench.core.metrics against independent implementations and closed forms."""
import numpy as np
import pytest
import torch
from scipy.stats import entropy

from workbench.core.metrics import fid, inception_score, kid


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def gaussian_frechet(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2) - 2 Tr((S1^1/2 S2 S1^1/2)^1/2), the trace from the
    eigenvalues of a symmetric matrix (same trace as sqrtm(S1 S2), a different route)."""
    r = _psd_sqrt(s1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s2 @ r), 0, None)).sum()
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2.0 * cross)


def fid_by_eigenvalues(a: np.ndarray, b: np.ndarray) -> float:
    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def _random_cov(rng, d: int) -> np.ndarray:
    m = rng.normal(size=(d, d))
    return m @ m.T / d + 0.1 * np.eye(d)


@pytest.mark.parametrize("d", [3, 16, 64])
def test_fid_matches_the_eigenvalue_route(d):
    rng = np.random.default_rng(d)
    a = rng.multivariate_normal(np.zeros(d), _random_cov(rng, d), size=400)
    b = rng.multivariate_normal(rng.normal(size=d) * 0.5, _random_cov(rng, d), size=300)
    ours, ref = fid(a, b), fid_by_eigenvalues(a, b)
    assert ref > 1.0
    assert abs(ours - ref) / ref <= 1e-6


def test_fid_of_sampled_gaussians_approaches_the_closed_form():
    rng = np.random.default_rng(0)
    d = 4
    mu1, mu2 = np.zeros(d), np.array([1.0, -0.5, 0.0, 2.0])
    s1, s2 = _random_cov(rng, d), np.diag([0.5, 1.0, 2.0, 3.0])
    expected = gaussian_frechet(mu1, s1, mu2, s2)
    a = rng.multivariate_normal(mu1, s1, size=200_000)
    b = rng.multivariate_normal(mu2, s2, size=200_000)
    assert fid(a, b) == pytest.approx(expected, rel=0.02)
    # commuting diagonal covariances: the trace term is sum (sqrt(s1) - sqrt(s2))^2
    v1, v2 = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
    closed = float(mu2 @ mu2 + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum())
    assert gaussian_frechet(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(closed, rel=1e-12)
    a = rng.normal(size=(200_000, d)) * np.sqrt(v1)
    b = mu2 + rng.normal(size=(200_000, d)) * np.sqrt(v2)
    assert fid(a, b) == pytest.approx(closed, rel=0.02)


def test_fid_of_a_set_with_itself_is_zero_and_it_grows_with_a_shift():
    a = np.random.default_rng(1).normal(size=(500, 10))
    assert abs(fid(a, a)) < 1e-8
    assert fid(a, a + 0.5) == pytest.approx(10 * 0.25, rel=1e-6)


def test_fid_rejects_mismatched_features():
    with pytest.raises(ValueError):
        fid(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError):
        fid(np.zeros((1, 3)), np.zeros((5, 3)))


def _same_subsets(n_a, n_b, size, subsets, seed):
    """The subsets that torch-fidelity draws (and metrics.kid must draw) for a seed."""
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(subsets):
        out.append((rng.choice(n_a, size, replace=False), rng.choice(n_b, size, replace=False)))
    return out


def mmd2_loops(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel, by explicit sums over pairs."""
    d, m = x.shape[1], len(x)
    k = lambda u, v: (float(np.dot(u, v)) / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (m * m)


def mmd2_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    d, m = x.shape[1], len(x)
    kxx, kyy, kxy = ((p @ q.T / d + 1) ** 3 for p, q in ((x, x), (y, y), (x, y)))
    off = ~torch.eye(m, dtype=torch.bool)
    return kxx[off].mean() + kyy[off].mean() - 2 * kxy.mean()


def test_kid_matches_explicit_double_loops():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(60, 5)), rng.normal(0.3, 1.2, size=(70, 5))
    mean, std = kid(a, b, subsets=6, subset_size=25, seed=3)
    ref = [mmd2_loops(a[i], b[j]) for i, j in _same_subsets(60, 70, 25, 6, 3)]
    assert abs(mean - np.mean(ref)) / abs(np.mean(ref)) <= 1e-6
    assert abs(std - np.std(ref)) / np.std(ref) <= 1e-6


def test_kid_matches_torch_on_the_same_subsets():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(400, 16)), rng.normal(0.1, 1.0, size=(300, 16))
    mean, _ = kid(a, b, subsets=10, subset_size=200, seed=7)
    ref = np.mean([mmd2_torch(torch.from_numpy(a[i]), torch.from_numpy(b[j])).item()
                   for i, j in _same_subsets(400, 300, 200, 10, 7)])
    assert ref > 0
    assert abs(mean - ref) / ref <= 1e-6


def test_kid_is_zero_in_expectation_for_one_distribution():
    rng = np.random.default_rng(5)
    n, d, subsets = 400, 8, 400
    a = rng.normal(size=(n, d))
    other, spread = kid(a, rng.normal(size=(n, d)), subsets=subsets, subset_size=100)
    shifted, _ = kid(a, rng.normal(0.5, 1.0, size=(n, d)), subsets=subsets, subset_size=100)
    # two draws of one distribution: within the spread of a single subset's estimate
    assert abs(other) < spread
    assert shifted > 20 * spread
    same, std = kid(a, a, subsets=subsets, subset_size=100)
    standard_error = std / np.sqrt(subsets)
    # Subsets drawn independently from one set share points, whose k(x, x) enters the cross
    # term: the expectation is exactly -2/n (mean k(a_i, a_i) - mean_{i != j} k(a_i, a_j)),
    # which goes to 0 as n grows.
    k = (a @ a.T / d + 1) ** 3
    expected = -2.0 / n * (np.diag(k).mean() - (k.sum() - np.trace(k)) / (n * (n - 1)))
    assert abs(same - expected) < 4 * standard_error
    assert abs(expected) < 0.1 * shifted


def inception_score_scipy(p: np.ndarray, splits: int) -> float:
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0)
        scores.append(np.exp(np.mean([entropy(row, py) for row in part])))
    return float(np.mean(scores))


def test_inception_score_matches_scipy_entropy():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(1000, 10)) * 3
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    mean, std = inception_score(p, splits=10)
    assert abs(mean - inception_score_scipy(p, 10)) / mean <= 1e-3
    assert 1.0 < mean < 10.0 and std > 0


def test_inception_score_closed_forms():
    k, splits = 10, 5
    one_hot = np.tile(np.eye(k), (splits * 3, 1))  # every split holds every class equally
    mean, std = inception_score(one_hot, splits=splits)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0, abs=1e-9)
    row = np.random.default_rng(7).dirichlet(np.ones(k))
    mean, _ = inception_score(np.tile(row, (100, 1)), splits=splits)
    assert mean == pytest.approx(1.0, abs=1e-9)
    # half the classes, uniformly: k / 2
    half = np.tile(np.eye(k)[: k // 2], (20, 1))
    assert inception_score(half, splits=splits)[0] == pytest.approx(k / 2, rel=1e-9)


def test_inception_score_rejects_non_probabilities():
    with pytest.raises(ValueError):
        inception_score(np.full((20, 3), 0.5), splits=2)
    with pytest.raises(ValueError):
        inception_score(np.full((3, 3), 1 / 3), splits=10)
