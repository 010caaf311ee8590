"""How hard each loss pushes the generator: the gradient of G's loss on D's output and on the points.

G's loss is a function of D's raw output ``l`` on a generated point x, so by the chain rule

    d loss_G / dx = loss_G'(l) * grad_x D(x)

The second factor is the same for every loss on one D; the first is each loss's own. Written
against D(G(z)) = sigmoid(l) for the probabilistic losses it is the seed's figure of why the
minimax loss saturates: minimax gives |loss'| = D(G(z)), which vanishes exactly where D rejects
the fakes with confidence, while the non-saturating loss gives 1 - D(G(z)). Least squares gives
|l - 1| and the critic losses (WGAN, hinge) a constant 1 while the hinge is active.

EBGAN's G loss is D's energy itself, so its first factor is 1 at every energy: no sigmoid to
saturate; its gradient is the energy's own slope. Its D is an auto-encoder whose low values mean
"real", the opposite sense of a score, so the other losses are not applied to it (nor EBGAN's to
a score): on an EBGAN run the same-D comparison holds EBGAN alone.
"""
from __future__ import annotations

import numpy as np
import torch

from workbench.core.ganlab import losses

CURVE_POINTS = 201


def logit_gradient(loss: losses.GanLoss, outputs: torch.Tensor) -> torch.Tensor:
    """d loss_G / d l for each raw D output ``l`` (one generated point each)."""
    out = outputs.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss.g_loss(out) * len(out), out)    # per point, not per batch
    return grad


def _as_output(loss: losses.GanLoss, d_of_g: np.ndarray) -> np.ndarray:
    """The raw D output at which a probabilistic D says ``d_of_g``: the logit; otherwise itself."""
    if loss.probabilistic:
        p = np.clip(d_of_g, 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)
    return d_of_g


def saturation_curves(d_of_g: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(D(G(z)) values, {loss name: |d loss_G / d l| there}) for every classic loss.

    The x axis is D's verdict on a fake: sigmoid of the logit for the probabilistic losses, the
    raw output for least squares (whose targets are 0 fake, 1 real), the critic value for the
    critic losses (their gradient does not depend on it)."""
    x = np.linspace(1e-4, 1 - 1e-4, CURVE_POINTS) if d_of_g is None else np.asarray(d_of_g, np.float64)
    curves = {}
    for name, loss in classic_losses().items():
        out = torch.from_numpy(_as_output(loss, x))
        curves[name] = logit_gradient(loss, out).abs().numpy()
    # EBGAN against its energy (any energy: the curve is flat)
    curves["ebgan"] = logit_gradient(losses.LOSSES["ebgan"], torch.from_numpy(x)).abs().numpy()
    return x, curves


def classic_losses() -> dict[str, losses.GanLoss]:
    """The losses with a D(G(z)) axis: all but the f-GANs, whose output is no verdict on [0, 1],
    and EBGAN, whose D gives an energy rather than a score."""
    return {name: loss for name, loss in losses.LOSSES.items() if not (loss.divergence or loss.energy)}


def point_gradients(loss: losses.GanLoss, d: torch.nn.Module, points: torch.Tensor
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(-d loss_G / dx per point (N, 2), D's raw output per point (N,)) with D held fixed;
    the loss is taken per point (times N), as the lab's arrows show it."""
    x = points.detach().clone().requires_grad_(True)
    out = d(x).reshape(-1)
    (grad,) = torch.autograd.grad(loss.g_loss(out) * len(out), x)
    return (-grad).numpy(), out.detach().numpy()


def d_verdict(loss: losses.GanLoss, outputs: np.ndarray) -> np.ndarray:
    """What the saturation plot's x axis shows for raw outputs: sigmoid for probabilistic losses."""
    outputs = np.asarray(outputs, np.float64)
    return 1 / (1 + np.exp(-outputs)) if loss.probabilistic else outputs


def same_d_gradients(d: torch.nn.Module, points: torch.Tensor, in_use: losses.GanLoss | None = None
                     ) -> dict[str, float]:
    """The median per-point generator gradient norm |d loss_G / dx| each classic loss would give
    on ``points`` with this one D (held fixed, in eval mode); EBGAN's alone when ``in_use`` is
    EBGAN (an energy D; see the module docstring). Without the pulling-away term."""
    out = {}
    for name, loss in ({in_use.name: in_use} if in_use is not None and in_use.energy else classic_losses()).items():
        grad, _ = point_gradients(loss, d, points)
        out[name] = float(np.median(np.linalg.norm(grad, axis=1)))
    return out
