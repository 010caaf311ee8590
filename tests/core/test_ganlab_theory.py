"""The GAN lab's gradient and Lipschitz readouts against closed forms and references."""
import numpy as np
import pytest
import torch
from scipy.stats import norm

from workbench.core.ganlab import GanLab, LabConfig, losses
from workbench.core.ganlab.fgan import F_DIVERGENCES, bound, gaussian_divergence
from workbench.core.ganlab.gradients import logit_gradient, point_gradients, saturation_curves
from workbench.core.ganlab.lipschitz import layer_spectral_norms, lipschitz_readout, spectral_norm_of
from workbench.core.ganlab.models import discriminator
from workbench.core.ganlab.presets import default_spectral_norm, warnings
from workbench.core.ganlab.snapshot import arrow_segments

# d loss_G / d l for D's raw output l, by hand
CLOSED_FORMS = {
    "minimax": lambda l: -torch.sigmoid(l),                  # d/dl log(1 - sigmoid(l))
    "nonsaturating": lambda l: -(1 - torch.sigmoid(l)),      # d/dl -log sigmoid(l)
    "lsgan": lambda l: l - 1,                                # d/dl (l - 1)^2 / 2
    "hinge": lambda l: -torch.ones_like(l),                  # d/dl -l
    "wgan-gp": lambda l: -torch.ones_like(l),
    "wgan-clip": lambda l: -torch.ones_like(l),
    # f-GANs: G maximises E_Q[g(v)], so d/dv of -g(v)
    "fgan-kl": lambda l: -torch.ones_like(l),                   # g(v) = v
    "fgan-reverse-kl": lambda l: -torch.exp(-l),                # g(v) = -exp(-v)
    "fgan-js": lambda l: -torch.sigmoid(-l),                    # g(v) = log 2 - log(1 + exp(-v))
    "fgan-pearson": lambda l: -torch.ones_like(l),              # g(v) = v
    "fgan-hellinger": lambda l: -torch.exp(-l),                 # g(v) = 1 - exp(-v)
    "fgan-tv": lambda l: -0.5 * (1 - torch.tanh(l) ** 2),       # g(v) = tanh(v) / 2
    "ebgan": lambda l: torch.ones_like(l),                      # d/dE of E: G descends the energy
}


def fixed_d() -> torch.nn.Module:
    torch.manual_seed(3)
    return discriminator(hidden=16, depth=2).double().eval()


def test_every_loss_has_a_closed_form_here():
    assert set(CLOSED_FORMS) == set(losses.LOSSES)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_generator_gradient_on_a_fixed_d_agrees_with_the_closed_form(name):
    d, loss = fixed_d(), losses.LOSSES[name]
    points = torch.tensor([[0.3, -1.2], [1.5, 0.4], [-2.0, 2.0], [0.0, 0.1]], dtype=torch.float64)
    grad, out = point_gradients(loss, d, points)
    np.testing.assert_allclose(logit_gradient(loss, torch.from_numpy(out)).numpy(),
                               CLOSED_FORMS[name](torch.from_numpy(out)).numpy(), rtol=1e-10, atol=1e-12)
    eps = 1e-6
    for x, g, l in zip(points, grad, out):
        with torch.no_grad():       # grad_x D by central differences
            numeric = np.array([(d(x + eps * e) - d(x - eps * e)).item() / (2 * eps) for e in torch.eye(2).double()])
        expected = -CLOSED_FORMS[name](torch.tensor(l)).item() * numeric
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-9)
        assert np.linalg.norm(g) == pytest.approx(abs(CLOSED_FORMS[name](torch.tensor(l)).item())
                                                  * np.linalg.norm(numeric), rel=1e-5)


def test_saturation_curves_show_minimax_vanishing_where_d_rejects_the_fakes():
    x, curves = saturation_curves(np.array([1e-4, 0.1, 0.5, 0.9]))
    np.testing.assert_allclose(curves["minimax"], x, rtol=1e-9)
    np.testing.assert_allclose(curves["nonsaturating"], 1 - x, rtol=1e-9)
    np.testing.assert_allclose(curves["lsgan"], 1 - x, rtol=1e-9)
    np.testing.assert_allclose(curves["wgan-gp"], 1.0)
    assert curves["nonsaturating"][0] / curves["minimax"][0] > 9000


def test_the_recorded_gradient_norm_is_the_median_per_point_gradient_of_the_g_step():
    lab = GanLab(LabConfig(batch=32))
    lab.step(3)
    fake = lab.g(lab._latent(32, lab._gen))
    lab.d.eval()
    expected, _ = point_gradients(lab.loss, lab.d, fake.detach())
    lab.d.train()
    _, recorded = lab._g_step(fake)
    assert recorded == pytest.approx(np.median(np.linalg.norm(expected, axis=1)), rel=1e-4)
    steps, g_grad = lab.history.grad_series()
    assert len(g_grad) == 3 and np.all(g_grad > 0)


def test_arrows_on_an_absolute_scale_keep_their_size_across_frames():
    points = np.zeros((3, 2))
    seg = arrow_segments(points, np.array([[1e-6, 0.0], [0.5, 0.0], [10.0, 0.0]]), 0.4, scale=0.3).reshape(3, 6, 2)
    lengths = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    np.testing.assert_allclose(lengths, [3e-7, 0.15, 0.4], rtol=1e-5)      # g * scale, capped at 0.4
    relative = arrow_segments(points, np.array([[1e-6, 0.0], [2e-6, 0.0], [3e-6, 0.0]]), 0.4).reshape(3, 6, 2)
    assert np.linalg.norm(relative[2, 1] - relative[2, 0]) == pytest.approx(0.4)   # rescaled per frame


def test_spectral_norm_of_a_layer_is_its_largest_singular_value():
    w = torch.randn(7, 5, generator=torch.Generator().manual_seed(0))
    assert spectral_norm_of(w) == pytest.approx(float(torch.linalg.svdvals(w.double())[0]), rel=1e-9)
    assert spectral_norm_of(w) == pytest.approx(float(np.linalg.svd(w.numpy().astype(np.float64))[1][0]), rel=1e-9)


def test_with_spectral_norm_every_layer_is_about_one_and_bounds_the_lipschitz_constant():
    lab = GanLab(LabConfig(spectral_norm=True, batch=32))
    lab.step(80)   # one power iteration per D step: right after fast weight changes it lags (1.23 at step 20)
    lip = lab.snapshot(with_metrics=False).lipschitz
    np.testing.assert_allclose(lip.layer_norms, 1.0, atol=0.03)
    assert lip.raw_layer_norms.max() > 1.5                       # the weights before normalisation
    assert lip.constant <= lip.bound * 1.001
    plain_d = GanLab(LabConfig(spectral_norm=False)).d
    used, raw = layer_spectral_norms(plain_d)
    np.testing.assert_allclose(used, raw)
    np.testing.assert_allclose(used, [float(torch.linalg.svdvals(m.weight.detach().double())[0])
                                      for m in plain_d if isinstance(m, torch.nn.Linear)], rtol=1e-9)


def test_the_lipschitz_constant_of_a_linear_d_is_its_weights_norm():
    d = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        d[0].weight.copy_(torch.tensor([[3.0, 4.0]]))
    grid = torch.rand(50, 2, generator=torch.Generator().manual_seed(1))
    lip = lipschitz_readout(d, grid, np.zeros((10, 2), np.float32), np.ones((10, 2), np.float32))
    assert lip.constant == pytest.approx(5.0, rel=1e-6) and lip.bound == pytest.approx(5.0, rel=1e-6)
    np.testing.assert_allclose(lip.line_norms, 5.0, rtol=1e-6)


def test_weight_clipping_keeps_every_critic_weight_within_the_clip():
    lab = GanLab(LabConfig(loss="wgan-clip", spectral_norm=False, batch=32))
    lab.step(3)
    assert max(p.abs().max().item() for p in lab.d.parameters()) <= losses.CLIP + 1e-9


def test_wgan_with_spectral_norm_is_warned_about_and_not_the_default():
    assert warnings(LabConfig()) == []
    assert any("diverge" in w for w in warnings(LabConfig(loss="wgan-gp", spectral_norm=True)))
    assert warnings(LabConfig(loss="wgan-gp", spectral_norm=False)) == []
    assert not default_spectral_norm("wgan-gp") and not default_spectral_norm("wgan-clip")
    assert default_spectral_norm("nonsaturating")


# closed forms for P = N(0, 1), Q = N(1, 1)
GAUSSIAN_CLOSED_FORMS = {
    "kl": 0.5, "reverse-kl": 0.5,                               # (mu_p - mu_q)^2 / 2
    "pearson": np.e - 1,                                        # exp(mu^2) - 1
    "hellinger": 2 * (1 - np.exp(-1 / 8)),                      # 2 (1 - Bhattacharyya coefficient)
    "tv": 2 * norm.cdf(0.5) - 1,                                # |P - Q| / 2 = 2 Phi(mu / 2) - 1
}


def test_the_quadrature_matches_the_gaussian_closed_forms():
    for name, value in GAUSSIAN_CLOSED_FORMS.items():
        assert gaussian_divergence(F_DIVERGENCES[name], 0, 1, 1, 1) == pytest.approx(value, rel=1e-6), name


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_an_f_gan_critic_estimates_its_divergence_between_two_gaussians(name):
    """D trained on its f-GAN objective alone (Q fixed) estimates D_f(N(0,1) || N(1,1)) within 10%."""
    div = F_DIVERGENCES[name]
    torch.manual_seed(0)
    critic = discriminator(hidden=32, depth=2)
    critic[0] = torch.nn.Linear(1, 32)                           # 1-D input
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        p, q = torch.randn(256, 1, generator=gen), torch.randn(256, 1, generator=gen) + 1.0
        loss = -bound(div, critic(p), critic(q))
        opt.zero_grad()
        loss.backward()
        opt.step()
    held_out = torch.Generator().manual_seed(1)
    with torch.no_grad():
        p, q = torch.randn(20000, 1, generator=held_out), torch.randn(20000, 1, generator=held_out) + 1.0
        estimate = bound(div, critic(p), critic(q)).item()
    assert estimate == pytest.approx(gaussian_divergence(div, 0, 1, 1, 1), rel=0.1)


def test_the_optimal_discriminator_is_pr_over_pr_plus_pg_on_the_surface_grid():
    from workbench.core.ganlab.metrics import density
    lab = GanLab(LabConfig(batch=32))
    snap = lab.snapshot()
    fixed = np.random.default_rng([0, 1])          # the lab's fixed real samples: display, then metrics
    lab.toy.sample(512, fixed)
    p = density(lab.toy.sample(10_000, fixed), lab.toy.bounds)
    q = density(lab.generate(), lab.toy.bounds)
    np.testing.assert_allclose(snap.optimal_d, p / (p + q), rtol=1e-12)
    assert snap.optimal_d.shape == snap.surface.shape
    x0, x1, y0, y1 = lab.toy.bounds
    cell = lambda x, y: (int((y - y0) / (y1 - y0) * 64), int((x - x0) / (x1 - x0) * 64))
    assert snap.optimal_d[cell(2.0, 0.0)] > 0.95                      # a ring mode G has not reached
    fake_centre = lab.generate().mean(0)
    assert snap.optimal_d[cell(*fake_centre)] < 0.05                  # where only G puts points
    assert lab.snapshot(with_metrics=False).optimal_d is None
