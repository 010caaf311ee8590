"""The one input-optimisation loop: gradient ascent on an objective through the regularisers.

``ascend`` is a generator: it yields a :class:`Snapshot` every ``every`` steps and after the last
one, so a caller can show a live preview and stop at any time. Hooks are placed for each step and
removed in ``finally`` (``Probe``), so none are left while the caller holds a snapshot or after it
stops; gradients are taken for the image alone, so the model's parameters and their ``.grad`` are
never touched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from workbench.core.optimize.objectives import Objective
from workbench.core.optimize.parametrisation import FourierImage, ModelInput, PixelImage
from workbench.core.optimize.probe import Probe
from workbench.core.optimize.regularise import Regularisers, jitter, total_variation, zoom

ADAM, NORMALISED = "adam", "normalised"   # the step rule: Adam, or DeepDream's gradient / mean |gradient|


@dataclass
class Snapshot:
    step: int                      # steps done
    steps: int                     # steps in all
    images: np.ndarray             # (N, H, W, 3) float32 in [0, 1]
    values: np.ndarray             # (N,) the objective now
    curve: list[float] = field(default_factory=list)   # the batch's mean objective after each step

    @property
    def final(self) -> bool:
        return self.step >= self.steps


def ascend(model: nn.Module, image: PixelImage | FourierImage, objective: Objective, to_input: ModelInput,
           steps: int, lr: float, regs: Regularisers, generator: torch.Generator, *, rule: str = ADAM,
           every: int = 8, check: Callable[[], None] | None = None, method: str = "this method") -> Iterator[Snapshot]:
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if rule not in (ADAM, NORMALISED):
        raise ValueError(f"step rule must be {ADAM!r} or {NORMALISED!r}, not {rule!r}")
    modules = dict(model.named_modules())
    missing = [n for n in objective.layers if n not in modules]
    if missing:
        raise ValueError(f"no layer(s) {', '.join(map(repr, missing))} in the model; see its layer list")
    params = image.parameters()
    optimiser = torch.optim.Adam(params, lr=lr) if rule == ADAM else None
    side = min(image.image().shape[-2:])
    shift = regs.jitter_pixels(side)
    curve: list[float] = []
    probe = Probe(model, {n: modules[n] for n in objective.layers}, objective.needs_output, method)
    for step in range(1, steps + 1):
        if check is not None:
            check()
        with probe:       # hooks only for the step: none are left while the caller holds a snapshot
            values = _step(probe, image, objective, to_input, regs, shift, generator, optimiser, params, lr)
        curve.append(float(values.mean()))
        if regs.decay > 0:
            image.decay(regs.decay)
        if regs.blur_every > 0 and regs.blur_sigma > 0 and step % regs.blur_every == 0:
            image.blur(regs.blur_sigma)
        image.after_step()
        if step % max(1, every) == 0 or step == steps:
            yield snapshot(image, values, step, steps, curve)


def _step(probe: Probe, image, objective: Objective, to_input: ModelInput, regs: Regularisers, shift: int,
          generator: torch.Generator, optimiser, params: list[torch.Tensor], lr: float) -> torch.Tensor:
    pixels = image.image()
    features, output = probe(to_input(zoom(jitter(pixels, shift, generator), regs.scale, generator)))
    values = objective.score(features, output)
    loss = -values.sum()
    if regs.tv > 0:
        loss = loss + regs.tv * total_variation(pixels).sum() * pixels.shape[-1]
    grads = torch.autograd.grad(loss, params)     # the image's gradients alone: the model's stay untouched
    if optimiser is not None:
        for p, g in zip(params, grads):
            p.grad = g
        optimiser.step()
    else:
        with torch.no_grad():
            for p, g in zip(params, grads):
                scale = g.abs().flatten(1).mean(dim=1).clamp_min(1e-8).view(-1, *([1] * (g.dim() - 1)))
                p.sub_(lr * g / scale)
    return values.detach()


def snapshot(image, values: torch.Tensor, step: int, steps: int, curve: list[float]) -> Snapshot:
    with torch.no_grad():
        pixels = image.image().detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    return Snapshot(step, steps, pixels.astype(np.float32), values.float().cpu().numpy(), list(curve))


def last(snapshots: Iterator[Snapshot]) -> Snapshot:
    """Run a loop to its end and return its final snapshot (for callers that need no preview)."""
    final = None
    for final in snapshots:
        pass
    assert final is not None
    return final


def refusing_fixed_size(steps: Iterator, what: str) -> Iterator:
    """``steps`` as they are (and their return value), except that a program exported for one input
    size (a .pt2 without dynamic shapes) refusing another size is said in the user's words; ``what``
    says at which sizes the method runs the model."""
    try:
        return (yield from steps)
    except RuntimeError as exc:
        if "dynamic_shapes" not in str(exc):
            raise
        raise ValueError(f"{what}, but it was exported for one input size only; export it with dynamic "
                         f"shapes, or load its weights with their architecture") from None
