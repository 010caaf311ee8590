"""What the GAN lab shows at one step, as plain numpy (no torch): the panel and the figure draw it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from workbench.core.ganlab.config import LabConfig

if TYPE_CHECKING:
    from workbench.core.ganlab.lipschitz import LipschitzReadout
    from workbench.core.ganlab.metrics import Metrics

def _empty() -> np.ndarray:
    return np.zeros((0,), np.float64)


@dataclass
class Snapshot:
    """Everything the panel draws, as numpy arrays (points are (N, 2) in data coordinates)."""
    step: int
    real: np.ndarray
    fake: np.ndarray
    fake_grad: np.ndarray          # -d(G's loss)/d(point) for each fake point: where G pushes it
    surface: np.ndarray            # (S, S) D over the view; rows along y (ymin first), columns along x
    surface_levels: tuple[float, float]   # centred on the real/fake boundary (see surface_levels)
    surface_label: str
    bounds: tuple[float, float, float, float]
    loss_steps: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    metrics: "Metrics | None" = None
    config: LabConfig = field(default_factory=LabConfig)
    # the divergences measured so far in this run (a LabSession fills these): the steps they
    # were measured at, and per name in history.DIVERGENCES one value per step (NaN: no modes to count)
    metric_steps: np.ndarray = field(default_factory=_empty)
    divergence: dict[str, np.ndarray] = field(default_factory=dict)
    # G's median per-point gradient norm over training (block geometric means on long runs)
    grad_steps: np.ndarray = field(default_factory=_empty)
    g_grad: np.ndarray = field(default_factory=_empty)
    fake_output: np.ndarray = field(default_factory=_empty)     # D's raw output on each fake point
    lipschitz: "LipschitzReadout | None" = None
    fake_output_grad: np.ndarray = field(default_factory=_empty)   # |d loss_G / d output| per fake point
    same_d: dict[str, float] = field(default_factory=dict)         # median per-point |grad| per loss, this D
    saturation: tuple[np.ndarray, dict[str, np.ndarray]] | None = None   # gradients.saturation_curves()
    # f-GAN: D's variational bound on its f-divergence; EBGAN: 1 - L_D/m, a bound on TV (ebgan.py);
    # on the display points
    f_bound: float | None = None
    f_label: str = ""              # which divergence that is
    # the optimal discriminator p_r / (p_r + p_g) from the density estimates, on the surface's grid
    # (measured with the metrics; None on frames without them); for EBGAN the optimal energy
    optimal_d: np.ndarray | None = None
    optimal_label: str = "D*(x) = p_r / (p_r + p_g)"
    optimal_levels: tuple[float, float] = (0.0, 1.0)

    def arrow_segments(self, length: float, every: int = 2, scale: float | None = None) -> np.ndarray:
        """(3 * 2 * N, 2) endpoints of arrows (shaft and two head strokes) along ``fake_grad`` on
        every ``every``-th fake point, for a line drawn with connect="pairs". Without ``scale`` the
        arrow for the 95th-percentile gradient norm gets ``length`` (a scale per frame); with it, a
        gradient of norm g gets g * scale (an absolute scale). Arrows are capped at ``length``."""
        return arrow_segments(self.fake[::every], self.fake_grad[::every], length, scale)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"real": self.real, "fake": self.fake, "fake_grad": self.fake_grad, "surface": self.surface,
               "bounds": np.asarray(self.bounds), "loss_steps": self.loss_steps, "d_loss": self.d_loss,
               "g_loss": self.g_loss, "step": np.asarray(self.step)}
        if self.metrics is not None:
            out.update(kl=np.asarray(self.metrics.kl), js=np.asarray(self.metrics.js),
                       tv=np.asarray(self.metrics.tv))
            if self.metrics.mode_counts is not None:
                out["mode_counts"] = self.metrics.mode_counts
        if len(self.grad_steps):
            out.update(grad_steps=self.grad_steps, g_grad=self.g_grad)
        if len(self.fake_output):
            out["fake_output"] = self.fake_output
        out.update({f"same_d_{k}": np.asarray(v) for k, v in self.same_d.items()})
        if self.optimal_d is not None:
            out["optimal_d"] = self.optimal_d
        if self.f_bound is not None:
            out["f_bound"] = np.asarray(self.f_bound)
        if self.lipschitz is not None:
            lip = self.lipschitz
            out.update(lipschitz=np.asarray(lip.constant), layer_norms=lip.layer_norms,
                       raw_layer_norms=lip.raw_layer_norms, line_grad_norms=lip.line_norms)
        if len(self.metric_steps):
            out["metric_steps"] = self.metric_steps
            out.update({f"history_{k}": v for k, v in self.divergence.items()})
        return out


def surface_levels(surface: np.ndarray, boundary: float | None) -> tuple[float, float]:
    """Colour levels centred on the loss's real/fake boundary (the surface's mean when it has
    none), wide enough for the whole surface (rounded up), so the boundary is the colormap's middle."""
    centre = float(surface.mean()) if boundary is None else boundary
    half = _round_up(max(float(np.abs(surface - centre).max()), 1e-3))
    return centre - half, centre + half


def _round_up(x: float) -> float:
    """The next of 1, 2, 2.5, 5 times a power of ten: levels that stay put from frame to frame."""
    power = 10.0 ** np.floor(np.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x * (1 - 1e-9))


def arrow_segments(points: np.ndarray, vectors: np.ndarray, length: float, scale: float | None = None) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if scale is None:
        ref = float(np.percentile(norms, 95)) if len(norms) else 0.0
        if ref <= 0:
            return np.zeros((0, 2), np.float32)
        scale = length / ref
    if scale <= 0 or not len(norms):
        return np.zeros((0, 2), np.float32)
    shaft = vectors * scale / np.maximum(norms * scale / length, 1.0)    # capped at ``length``
    tips = points + shaft
    back = -shaft * 0.3
    c, s = np.cos(np.pi / 7), np.sin(np.pi / 7)
    left = tips + np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], 1)
    right = tips + np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], 1)
    pairs = np.stack([points, tips, tips, left, tips, right], 1)      # three segments per arrow
    return pairs.reshape(-1, 2).astype(np.float32)
