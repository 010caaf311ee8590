"""Latent-optimisation inpainting (Yeh et al.) and Poisson blending, against closed forms: the
context weights and losses by hand, the Poisson solution of a constant offset, and a generated digit
whose hole the optimisation restores."""
import numpy as np
import pytest
import torch

from workbench.zoo import catalogue
from workbench.zoo import latent_inpaint as L
from workbench.zoo.inpaint import blend, centre_hole
from workbench.zoo.poisson_blend import poisson_blend


def test_context_weights_are_the_hole_share_of_each_known_pixels_window():
    m = torch.zeros(1, 1, 16, 16)
    m[..., 6:10, 6:10] = 1
    w = L.context_weights(m, weighted=True)
    assert float(w[m > 0].abs().sum()) == 0.0                    # no weight in the hole
    assert float(w[0, 0, 5, 6]) == pytest.approx(12 / 49)          # 3 rows x 4 columns of its 7x7 window
    assert float(w[0, 0, 0, 0]) == 0.0                              # too far to see the hole
    torch.testing.assert_close(L.context_weights(m, weighted=False), 1 - m)
    g, y = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    ww = L.context_weights(m.expand(2, -1, -1, -1), weighted=True)
    expected = ((g - y).abs() * ww).sum((1, 2, 3)) / ww.sum((1, 2, 3))
    torch.testing.assert_close(L.context_loss(g, y, ww, L.L1), expected)
    expected2 = ((g - y) ** 2 * ww).sum((1, 2, 3)) / ww.sum((1, 2, 3))
    torch.testing.assert_close(L.context_loss(g, y, ww, L.L2), expected2)
    z = torch.tensor([[1.0, 2.0, 2.0, 0.0]])
    assert float(L.prior_loss(z)) == pytest.approx(0.5 * 9 / 4)


def test_poisson_blending_keeps_the_sources_gradients_and_the_targets_boundary():
    rng = np.random.default_rng(0)
    target = rng.random((12, 14))
    hole = np.zeros((12, 14), bool)
    hole[3:8, 4:10] = True
    out = poisson_blend(target + 0.3, target, hole)               # same gradients, other level
    np.testing.assert_allclose(out, target, atol=1e-10)
    edge = np.zeros_like(hole)
    edge[0:4, 0:5] = True                                          # a hole on the image's border
    np.testing.assert_allclose(poisson_blend(target - 1.0, target, edge), target, atol=1e-10)
    flat = poisson_blend(np.zeros_like(target), np.ones_like(target), hole)
    np.testing.assert_allclose(flat, 1.0, atol=1e-10)             # harmonic inside a constant frame
    with pytest.raises(ValueError, match="shape"):
        poisson_blend(target[:4], target, hole)


def test_latent_optimisation_restores_a_generated_digits_hole():
    torch.manual_seed(0)
    gen = catalogue.load("digits-dcgan")
    with torch.no_grad():
        truth = gen(torch.randn(3, 32, generator=torch.Generator().manual_seed(5)))
    m = torch.from_numpy(centre_hole()).float().expand(3, 1, -1, -1)
    snaps = list(L.optimise(gen, truth, m, latent_dim=32, steps=120, restarts=4, prior_weight=0.003, every=40))
    assert [s.step for s in snaps] == [40, 80, 120] and snaps[-1].final
    final = snaps[-1]
    filled = blend(truth, torch.from_numpy(final.generated), m)
    hole_mse = float(((filled - truth) ** 2 * m).sum() / m.sum())
    empty_mse = float((truth ** 2 * m).sum() / m.sum())
    assert hole_mse < 0.1 * empty_mse
    assert len(final.context_curve) == 120 and final.context_curve[-1] < 0.5 * final.context_curve[0]
    assert final.totals.shape == (3, 4)
    np.testing.assert_array_equal(final.best, final.totals.argmin(1))
    assert all(p.requires_grad for p in gen.parameters()), "the generator's parameters are given back"
    with pytest.raises(ValueError, match="at least 1"):
        next(L.optimise(gen, truth, m, latent_dim=32, steps=0))
