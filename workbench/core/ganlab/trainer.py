"""The GAN lab's state: target, G, D, optimisers, loss history; training steps and snapshots.

Not thread-safe: one thread at a time may use a GanLab (the panel drives it through a
``session.LabSession``, only from jobs on the engine's single worker thread).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch

from workbench.core.ganlab import ebgan, fgan, losses, models, toy
from workbench.core.ganlab.config import LabConfig
from workbench.core.ganlab.gradients import logit_gradient, same_d_gradients, saturation_curves
from workbench.core.ganlab.history import LossHistory
from workbench.core.ganlab.lipschitz import lipschitz_readout
from workbench.core.ganlab.metrics import BINS, Metrics, density, measure
from workbench.core.ganlab.snapshot import Snapshot, surface_levels

DEFAULT_BUDGET = 2500          # steps by which the default setting covers the ring's 8 modes
SURFACE_SIZE = BINS        # the surface's grid is the density estimates' (optimal_d relies on it)
DISPLAY_POINTS = 512
METRIC_POINTS = 10_000
# settings that rebuild the networks (and restart at step 0) rather than apply live
_SATURATION = saturation_curves()
_STRUCTURAL = ("distribution", "points", "spectral_norm", "latent_dim", "hidden", "depth", "seed")


@contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Train these tiny networks on one CPU thread: their matrices are too small to split, and
    on a busy machine the other threads' synchronisation made training 10x slower (measured)."""
    before = torch.get_num_threads()
    if device.type == "cpu" and before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class GanLab:
    def __init__(self, config: LabConfig = LabConfig(), device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.config = config
        self.reset()

    # -- configuration ----------------------------------------------------------------------

    def reset(self) -> None:
        """Fresh networks, optimisers and random streams from the config's seed; step 0."""
        c = self.config
        self.toy = toy.make(c.distribution, np.asarray(c.points, np.float64) if c.points else None)
        self.loss = losses.get(c.loss, c.margin)
        g, d = models.build(c.latent_dim, c.hidden, c.depth, c.spectral_norm, c.seed, autoencoder=self.loss.energy)
        self.g, self.d = g.to(self.device), d.to(self.device)
        self._d_modules, self._d_params = list(self.d.modules()), list(self.d.parameters())
        self.opt_g = self._adam(self.g, c.lr_g)
        self.opt_d = self._adam(self.d, c.lr_d)
        self._rng = np.random.default_rng(c.seed)
        self._gen = torch.Generator(self.device).manual_seed(c.seed)
        # fixed samples for display and metrics, so what is drawn changes only with training
        fixed = np.random.default_rng([c.seed, 1])
        self._real_display = self.toy.sample(DISPLAY_POINTS, fixed)
        self._real_density = density(self.toy.sample(METRIC_POINTS, fixed), self.toy.bounds)
        self._z_display = self._latent(DISPLAY_POINTS, torch.Generator(self.device).manual_seed(c.seed + 1))
        self._z_metric = self._latent(METRIC_POINTS, torch.Generator(self.device).manual_seed(c.seed + 2))
        self.history = LossHistory()
        self.steps = 0

    def configure(self, config: LabConfig) -> bool:
        """Adopt a new config: loss, margin and learning rates change live; anything else resets,
        and so does a change between an energy (EBGAN's auto-encoder D) and a score. Returns True
        when it reset."""
        loss = losses.get(config.loss, config.margin)      # first: a bad loss or margin changes nothing
        old, self.config = self.config, config
        if any(getattr(old, k) != getattr(config, k) for k in _STRUCTURAL) or loss.energy != self.loss.energy:
            self.reset()
            return True
        self.loss = loss
        for opt, lr in ((self.opt_g, config.lr_g), (self.opt_d, config.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        return False

    def _adam(self, net: torch.nn.Module, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.9), fused=True)

    def _latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=generator, device=self.device)

    # -- training ---------------------------------------------------------------------------

    def step(self, n: int = 1, check: Callable[[], None] | None = None) -> None:
        """n updates, each the loss's number of D steps (1, or 5 critic steps for the WGANs) then
        one G step on the last D step's generated batch. ``check`` is called before each update
        (a cancel check may raise there)."""
        b = self.config.batch
        with _one_cpu_thread(self.device):
            for _ in range(int(n)):
                if check is not None:
                    check()
                for _ in range(self.loss.d_steps):
                    real = torch.from_numpy(self.toy.sample(b, self._rng)).to(self.device)
                    fake = self.g(self._latent(b, self._gen))
                    d_loss = self._d_step(real, fake.detach())
                g_loss, g_grad = self._g_step(fake)
                self.history.append(d_loss, g_loss, g_grad)
                self.steps += 1

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        b = len(real)
        out = self.d(torch.cat([real, fake]))   # one forward: one power iteration under spectral norm
        loss = self.loss.d_loss(out[:b], out[b:])
        if self.loss.gradient_penalty:
            loss = loss + self.loss.gradient_penalty * losses.gradient_penalty(self.d, real, fake, self._gen)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.loss.weight_clip:
            with torch.no_grad():
                for p in self._d_params:
                    p.clamp_(-self.loss.weight_clip, self.loss.weight_clip)
        return loss.item()

    def _g_step(self, fake: torch.Tensor) -> tuple[float, float]:
        """G's update; returns its loss and the median over the batch of the per-point gradient
        norm |d loss_G / d x| (the batch mean's gradient times the batch size)."""
        self._freeze_d(True)
        try:
            fake.retain_grad()
            loss, _ = self._g_objective(fake)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self._freeze_d(False)
        grad = torch.quantile(fake.grad.norm(dim=1) * len(fake), 0.5).item()     # as numpy.median
        return loss.item(), grad

    def _g_objective(self, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(G's loss on a batch, D's raw output per point); EBGAN with the pulling-away term on
        adds it on the encoder's codes of the batch."""
        if self.loss.energy and self.config.pull_away:
            out, codes = self.d.energy_and_codes(fake)
            return self.loss.g_loss(out) + ebgan.PULL_AWAY_WEIGHT * ebgan.pulling_away(codes), out.reshape(-1)
        out = self.d(fake).reshape(-1)
        return self.loss.g_loss(out), out

    def _freeze_d(self, frozen: bool) -> None:
        """No gradients for D's weights, and D in eval mode so that spectral norm reuses the D
        step's power iteration rather than running another (D has no dropout or batch norm).
        Flags set directly: Module.train() and requires_grad_() walk the tree every call."""
        for m in self._d_modules:
            m.training = not frozen
        for p in self._d_params:
            p.requires_grad = not frozen

    # -- looking ----------------------------------------------------------------------------

    def snapshot(self, with_metrics: bool = True) -> Snapshot:
        """Display samples, D's surface, G's gradient on its points, loss history (and metrics)."""
        with _one_cpu_thread(self.device):
            return self._snapshot(with_metrics)

    def _snapshot(self, with_metrics: bool) -> Snapshot:
        self.d.eval()   # under spectral norm, eval forwards leave the power iteration alone
        try:
            with torch.no_grad():
                fake_t = self.g(self._z_display)
                surface = self._surface()
            fake_t.requires_grad_(True)
            g_loss, fake_out = self._g_objective(fake_t)
            (grad,) = torch.autograd.grad(g_loss * len(fake_t), fake_t)     # per point, not per batch
            lipschitz = lipschitz_readout(self.d, self._surface_grid(), self._real_display,
                                          fake_t.detach().cpu().numpy())
            output_grad = logit_gradient(self.loss, fake_out).abs().cpu().numpy()
            f_bound, f_label = self._f_bound(fake_out.detach())
            same_d = same_d_gradients(self.d, fake_t.detach(), self.loss)
        finally:
            self.d.train()
        levels, label = self._surface_scale(surface)
        steps, d_hist, g_hist = self.history.series()
        grad_steps, g_grad = self.history.grad_series()
        metrics = self.metrics() if with_metrics else None
        return Snapshot(self.steps, self._real_display, fake_t.detach().cpu().numpy(),
                        (-grad).cpu().numpy(), surface, levels, label, self.toy.bounds,
                        steps, d_hist, g_hist, metrics, self.config,
                        grad_steps=grad_steps, g_grad=g_grad, fake_output=fake_out.detach().cpu().numpy(),
                        lipschitz=lipschitz, fake_output_grad=output_grad, same_d=same_d,
                        saturation=_SATURATION, f_bound=f_bound, f_label=f_label,
                        optimal_d=self.optimal_d() if with_metrics else None, **self._optimal_scale())

    def _surface_scale(self, surface: np.ndarray) -> tuple[tuple[float, float], str]:
        """The surface's colour levels and label. An energy runs from 0 (real) to the margin m, past
        which L_D stops pushing, so its levels are fixed at (0, m)."""
        if self.loss.energy:
            return (0.0, self.loss.margin), f"energy ||Dec(Enc(x)) - x||, 0 to margin m = {self.loss.margin:g}"
        return surface_levels(surface, self.loss.boundary), "D(x) = P(real)" if self.loss.probabilistic else "D(x)"

    def _f_bound(self, fake_out: torch.Tensor) -> tuple[float | None, str]:
        """The divergence bound D's objective gives on the display points: an f-GAN's
        E_P[g(D)] - E_Q[f*(g(D))], or EBGAN's 1 - L_D / m on TV; None for other losses."""
        if not (self.loss.divergence or self.loss.energy):
            return None, ""
        with torch.no_grad():
            real_out = self.d(torch.from_numpy(self._real_display).to(self.device)).reshape(-1)
            if self.loss.energy:
                return float(ebgan.tv_bound(real_out, fake_out, self.loss.margin)), ebgan.TV_LABEL
            div = fgan.F_DIVERGENCES[self.loss.divergence]
            return float(fgan.bound(div, real_out, fake_out)), div.label

    def _surface_grid(self, size: int = SURFACE_SIZE) -> torch.Tensor:
        """The view's size x size cell centres (as in metrics.density), rows along y."""
        x0, x1, y0, y1 = self.toy.bounds
        xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
        ys = y0 + (np.arange(size) + 0.5) * (y1 - y0) / size
        xx, yy = np.meshgrid(xs, ys)
        return torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)).to(self.device)

    def _surface(self, size: int = SURFACE_SIZE) -> np.ndarray:
        out = self.d(self._surface_grid(size)).reshape(size, size)
        if self.loss.probabilistic:
            out = torch.sigmoid(out)
        return out.cpu().numpy()

    def same_d_gradients(self) -> dict[str, float]:
        """Median per-point G gradient norm each loss would give on the display samples with this D."""
        with _one_cpu_thread(self.device):
            self.d.eval()
            try:
                with torch.no_grad():
                    fake = self.g(self._z_display)
                return same_d_gradients(self.d, fake, self.loss)
            finally:
                self.d.train()

    def optimal_d(self) -> np.ndarray:
        """D*(x) = p_r / (p_r + p_g) on the surface's grid, from the same density estimates as the
        metrics (metrics.density: BINS x BINS cells over the view, which is the surface's grid);
        for EBGAN the optimal energy (ebgan.optimal_energy) from the same estimates."""
        p = self._real_density
        q = density(self.generate(), self.toy.bounds)
        return ebgan.optimal_energy(p, q, self.loss.margin) if self.loss.energy else p / (p + q)

    def _optimal_scale(self) -> dict:
        if not self.loss.energy:
            return {}
        return {"optimal_label": f"optimal energy: 0 (p_r > p_g) or m = {self.loss.margin:g} (p_g > p_r)",
                "optimal_levels": (0.0, self.loss.margin)}

    def generate(self, n: int = METRIC_POINTS) -> np.ndarray:
        """n generated points from the fixed metric latents (fresh ones beyond those)."""
        z = self._z_metric if n <= METRIC_POINTS else self._latent(n, self._gen)
        with torch.no_grad(), _one_cpu_thread(self.device):
            return self.g(z[:n]).cpu().numpy()

    def metrics(self) -> Metrics:
        """KL, JS, TV and mode coverage of G against the target, on fixed samples (see metrics.py)."""
        return measure(self._real_density, self.generate(), self.toy.bounds, self.toy.centres,
                       self.toy.sigma)
