"""EBGAN in the GAN lab: the auto-encoder discriminator, its losses, the pulling-away term and
the total-variation bound its objective gives, against closed forms."""
import math

import numpy as np
import pytest
import torch

from workbench.core.ganlab import GanLab, LabConfig, LabSession, losses
from workbench.core.ganlab.ebgan import TV_LABEL, gaussian_tv, pulling_away, tv_bound
from workbench.core.ganlab.gradients import saturation_curves
from workbench.core.ganlab.models import AutoEncoderD
from workbench.core.ganlab.presets import PRESETS, default_spectral_norm, warnings


def test_the_energy_is_the_euclidean_reconstruction_error():
    torch.manual_seed(0)
    d = AutoEncoderD(hidden=8, depth=2)
    x = torch.tensor([[0.5, -1.0], [2.0, 0.3]])
    with torch.no_grad():
        expected = (d.decoder(d.encoder(x)) - x).pow(2).sum(1).sqrt()
        energy, codes = d.energy_and_codes(x)
    np.testing.assert_allclose(d(x).detach().numpy().ravel(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(energy.numpy().ravel(), expected.numpy(), rtol=1e-6)
    assert d(x).shape == (2, 1) and codes.shape == (2, 16)
    assert sum(isinstance(m, torch.nn.Linear) for m in d.modules()) == 4


def test_ebgan_losses_take_their_textbook_values_and_the_margin_is_checked():
    real, fake = torch.tensor([0.2, 0.4]), torch.tensor([0.5, 3.0])
    loss = losses.get("ebgan", 2.0)
    assert loss.margin == 2.0 and loss.energy
    assert loss.d_loss(real, fake).item() == pytest.approx(0.3 + (1.5 + 0.0) / 2)     # D(x) + [m - D(G(z))]^+
    assert loss.g_loss(fake).item() == pytest.approx(1.75)                              # D(G(z))
    assert losses.get("ebgan").margin == 1.0
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="margin must be a positive number"):
            losses.get("ebgan", bad)


def test_pulling_away_is_the_mean_squared_cosine_between_different_codes():
    orthogonal = torch.eye(3) * torch.tensor([[2.0], [0.5], [1.0]])
    assert pulling_away(orthogonal).item() == pytest.approx(0.0, abs=1e-12)
    parallel = torch.tensor([[1.0, 1.0], [2.0, 2.0], [-3.0, -3.0]])
    assert pulling_away(parallel).item() == pytest.approx(1.0)
    codes = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert pulling_away(codes).item() == pytest.approx(0.5)      # cos 45 deg squared, both ordered pairs


# TV(N(0, I), N((1, 0), I)) = 2 Phi(1/2) - 1
TV_GAUSSIANS = 2 * 0.5 * (1 + math.erf(0.5 / math.sqrt(2))) - 1


def _gaussians(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=gen), torch.randn(n, 2, generator=gen) + torch.tensor([1.0, 0.0])


def test_the_optimal_energy_makes_the_bound_the_total_variation():
    """D* = 0 where p > q and m where q > p (the paper's Lemma 1) gives 1 - L_D/m = TV; any other
    energy gives less."""
    assert gaussian_tv(0, 1, 1) == pytest.approx(TV_GAUSSIANS, rel=1e-12) == pytest.approx(0.3829, abs=1e-4)
    p, q = _gaussians(200_000, 0)
    for m in (0.5, 2.0):
        optimal = lambda x: m * (x[:, 0] > 0.5).double()
        assert tv_bound(optimal(p), optimal(q), m).item() == pytest.approx(TV_GAUSSIANS, abs=0.005)
        for other in (lambda x: torch.zeros(len(x)), lambda x: m * (x[:, 0] > 1.0).double(),
                      lambda x: (x[:, 0] + 1).clamp(0, 3)):
            assert tv_bound(other(p), other(q), m).item() < TV_GAUSSIANS - 0.01


def test_an_auto_encoder_d_trained_alone_estimates_the_total_variation_between_two_gaussians():
    """The lab's auto-encoder D trained on L_D alone (both distributions fixed) reads out
    1 - L_D/m within 10% of TV(N(0, I), N((1, 0), I)) = 0.383 (measured 0.373, seeds 1-3: 0.369 to 0.373)."""
    torch.manual_seed(0)
    d = AutoEncoderD(hidden=64, depth=2)
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 800)
    d_loss = losses.get("ebgan", 1.0).d_loss
    gen = torch.Generator().manual_seed(0)
    for _ in range(800):
        p = torch.randn(512, 2, generator=gen)
        q = torch.randn(512, 2, generator=gen) + torch.tensor([1.0, 0.0])
        loss = d_loss(d(p).reshape(-1), d(q).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    p, q = _gaussians(20_000, 1)
    with torch.no_grad():
        estimate = tv_bound(d(p), d(q), 1.0).item()
    assert estimate == pytest.approx(TV_GAUSSIANS, rel=0.1)
    assert estimate < TV_GAUSSIANS + 0.01           # a lower bound, up to sampling


def test_the_lab_reads_out_the_bound_on_its_display_points_and_draws_the_energy():
    lab = GanLab(LabConfig(loss="ebgan", spectral_norm=False, margin=2.0, batch=32))
    lab.step(5)
    snap = lab.snapshot(with_metrics=False)
    assert isinstance(lab.d, AutoEncoderD) and snap.f_label == TV_LABEL
    lab.d.eval()
    with torch.no_grad():
        real = lab.d(torch.from_numpy(snap.real)).reshape(-1)
        fake = lab.d(torch.from_numpy(snap.fake)).reshape(-1)
    assert snap.f_bound == pytest.approx(1 - (real.mean() + (2.0 - fake).clamp(min=0).mean()).item() / 2.0, rel=1e-5)
    assert snap.surface_levels == (0.0, 2.0) and "energy" in snap.surface_label and "m = 2" in snap.surface_label
    assert snap.surface.min() >= 0
    np.testing.assert_allclose(snap.fake_output, fake.numpy(), rtol=1e-5)
    # G's loss is the energy: the arrows are minus the energy's gradient, and |dL_G/dD| = 1
    x = torch.from_numpy(snap.fake[:4]).requires_grad_(True)
    (grad,) = torch.autograd.grad(lab.d(x).sum(), x)
    np.testing.assert_allclose(snap.fake_grad[:4], -grad.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(snap.fake_output_grad, 1.0)
    assert set(snap.same_d) == {"ebgan"}
    assert snap.same_d["ebgan"] == pytest.approx(np.median(np.linalg.norm(snap.fake_grad, axis=1)), rel=1e-5)
    assert snap.lipschitz.offset == 1.0 and snap.lipschitz.constant <= snap.lipschitz.bound


def test_the_saturation_view_has_ebgans_flat_gradient_and_classic_losses_never_see_an_energy():
    x, curves = saturation_curves(np.array([0.01, 0.5, 0.99]))
    np.testing.assert_allclose(curves["ebgan"], 1.0)
    lab = GanLab(LabConfig(batch=32))
    assert "ebgan" not in lab.snapshot(with_metrics=False).same_d


def test_switching_to_ebgan_rebuilds_d_as_an_auto_encoder_and_the_margin_changes_live():
    session = LabSession()
    session.train(LabConfig(batch=32), 3)
    snap = session.train(LabConfig(loss="ebgan", spectral_norm=False, batch=32), 2)
    assert snap.step == 2 and isinstance(session.lab.d, AutoEncoderD)         # a new D: step 0 again
    snap = session.train(LabConfig(loss="ebgan", spectral_norm=False, batch=32, margin=3.0, pull_away=True), 2)
    assert snap.step == 4 and session.lab.loss.margin == 3.0 and snap.surface_levels == (0.0, 3.0)
    with pytest.raises(ValueError, match="margin must be a positive number"):
        session.train(LabConfig(loss="ebgan", spectral_norm=False, batch=32, margin=0.0), 1)
    assert session.lab.config.margin == 3.0 and session.lab.loss.margin == 3.0 and session.steps == 4
    snap = session.train(LabConfig(loss="hinge", spectral_norm=False, batch=32), 1)
    assert snap.step == 1 and not isinstance(session.lab.d, AutoEncoderD)


def test_the_pulling_away_term_enters_gs_loss_on_the_encoders_codes():
    plain = GanLab(LabConfig(loss="ebgan", spectral_norm=False, batch=32))
    pulled = GanLab(LabConfig(loss="ebgan", spectral_norm=False, batch=32, pull_away=True))
    fake = plain.g(plain._latent(32, torch.Generator().manual_seed(5)))
    loss_plain, out = plain._g_objective(fake)
    loss_pulled, _ = pulled._g_objective(fake)
    _, codes = pulled.d.energy_and_codes(fake)
    assert loss_plain.item() == pytest.approx(out.mean().item())
    assert loss_pulled.item() == pytest.approx(loss_plain.item() + 0.1 * pulling_away(codes).item(), rel=1e-6)


def test_ebgan_starts_without_spectral_norm_and_warns_when_it_is_on():
    assert not default_spectral_norm("ebgan")
    assert any("EBGAN" in w for w in warnings(LabConfig(loss="ebgan", spectral_norm=True)))
    assert warnings(PRESETS["ebgan"].config) == []


def test_the_ebgan_preset_covers_every_mode_of_the_ring():
    p = PRESETS["ebgan"]
    assert p.config.loss == "ebgan" and p.config.distribution == "ring"
    lab = GanLab(p.config)
    lab.step(p.steps)
    m = lab.metrics()
    assert m.modes_covered == 8, m
    assert m.mode_counts.min() / m.mode_counts.sum() > 0.03       # no mode starved
    assert lab.snapshot(with_metrics=False).f_bound < m.tv         # a lower bound on the density-based TV


def test_the_optimal_energy_is_zero_where_data_dominates_and_the_margin_where_g_does():
    from workbench.core.ganlab.ebgan import optimal_energy
    p = np.array([0.5, 0.1, 0.2, 1e-7])
    q = np.array([0.1, 0.5, 0.205, 1.01e-7])
    np.testing.assert_array_equal(optimal_energy(p, q, 2.0), [0.0, 2.0, 1.0, 1.0])     # ties: m/2
    lab = GanLab(LabConfig(loss="ebgan", spectral_norm=False, margin=2.0, batch=32))
    snap = lab.snapshot()
    assert set(np.unique(snap.optimal_d)) <= {0.0, 1.0, 2.0} and snap.optimal_levels == (0.0, 2.0)
    assert "optimal energy" in snap.optimal_label
    x0, x1, y0, y1 = lab.toy.bounds
    cell = lambda x, y: (int((y - y0) / (y1 - y0) * 64), int((x - x0) / (x1 - x0) * 64))
    assert snap.optimal_d[cell(2.0, 0.0)] == 0.0                       # a ring mode G has not reached
    assert snap.optimal_d[cell(*lab.generate().mean(0))] == 2.0         # where only G puts points
    assert snap.optimal_d[cell(x0 + 0.05, y0 + 0.05)] == 1.0            # a corner neither reaches
