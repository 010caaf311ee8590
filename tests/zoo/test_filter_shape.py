"""The Gabor fit and orientation index tell an oriented edge detector from a blob and from noise."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.zoo import filter_shape as fs


def gabor_kernel(theta: float = 0.7, freq: float = 0.18, phase_sin: float = 0.0) -> np.ndarray:
    return fs.gabor(np.array([1.0, phase_sin, 5.3, 4.8, theta, 2.0, 2.6, freq, 0.0]), (11, 11))


def blob(sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[0:11, 0:11]
    return np.exp(-((xx - 5) ** 2 + (yy - 5) ** 2) / (2 * sigma ** 2))


def test_a_noisy_colour_gabor_is_fit_closely_and_is_oriented():
    rng = np.random.default_rng(0)
    g = gabor_kernel()
    kernel = np.stack([0.6 * g, -0.5 * g, 0.3 * g]) + 0.02 * rng.standard_normal((3, 11, 11))
    shape = fs.measure(kernel)
    assert shape.r2 > 0.95
    assert shape.osi > 0.5
    assert shape.is_gabor()
    assert abs(abs(shape.colour @ np.array([0.6, -0.5, 0.3]) / np.linalg.norm([0.6, -0.5, 0.3])) - 1) < 1e-2
    # the fitted carrier recovers the true frequency and orientation (mod pi)
    _, _, _, _, theta, _, _, freq, _ = shape.params
    assert freq == pytest.approx(0.18, abs=0.02)
    assert np.cos(2 * (theta - 0.7)) > 0.98


@pytest.mark.parametrize("theta", [0.0, np.pi / 4, np.pi / 2, 2.5])
def test_orientation_does_not_matter_for_the_score(theta):
    shape = fs.measure(gabor_kernel(theta=theta, phase_sin=0.8))
    assert shape.r2 > 0.99 and shape.osi > 0.5


def test_a_round_blob_fits_but_is_not_oriented():
    shape = fs.measure(np.stack([blob(), -0.5 * blob(), blob()]))
    assert shape.r2 > 0.95          # a Gabor with no carrier is a Gaussian
    assert shape.osi < 0.05
    assert not shape.is_gabor()


def test_white_noise_fits_badly():
    rng = np.random.default_rng(1)
    shapes = [fs.measure(rng.standard_normal((3, 11, 11))) for _ in range(4)]
    assert max(s.r2 for s in shapes) < 0.5
    assert max(s.osi for s in shapes) < 0.3


def test_random_initial_conv_weights_score_zero_and_a_bank_of_gabors_scores_one():
    torch.manual_seed(0)
    random_init = torch.nn.Conv2d(3, 16, 11).weight.detach().numpy()
    share = fs.gabor_share(random_init)
    print(f"random init Gabor share: {share:.3f}")
    assert share == 0.0
    bank = np.stack([np.stack([gabor_kernel(theta=t)] * 3) for t in np.linspace(0, np.pi, 4, endpoint=False)])
    assert fs.gabor_share(bank) == 1.0
    assert fs.gabor_share(np.concatenate([bank, random_init[:4]])) == 0.5


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(out, in, k, k\)"):
        fs.gabor_share(np.zeros((3, 11, 11)))
    with pytest.raises(ValueError, match=r"\(C, k, k\)"):
        fs.measure(np.zeros((3, 11, 9)))


def test_a_flat_filter_scores_nothing():
    shape = fs.measure(np.zeros((3, 11, 11)))
    assert shape.r2 == 0.0 and shape.osi == 0.0 and not shape.is_gabor()
