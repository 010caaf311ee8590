"""Gatys et al.'s losses as the optimisation loop's objective.

The Gram matrix of a layer's (N, C, H, W) output is F F^T / (H W), with F its (C, H W) channels:
the channels' co-activations averaged over positions, so it does not depend on the image's size.
Each layer's style loss is normalised by the style's own Gram energy, ||G(x) - G(s)||^2 / ||G(s)||^2,
and the content loss likewise, ||F(x) - F(c)||^2 / ||F(c)||^2: both start near 1 from noise whatever
the extractor's scale, so one set of weights suits every extractor.

``StyleObjective`` gives the loop minus the weighted loss (the loop maximises) and records each
step's style and content losses for the curves.
"""
from __future__ import annotations

from typing import Any

import torch

from workbench.core.optimize.objectives import Objective


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C), normalised by the number of positions; (N, T, C) token rows too."""
    if features.dim() == 3:
        features = features.transpose(1, 2).unsqueeze(-1)
    if features.dim() != 4:
        raise ValueError(f"a Gram matrix needs (N, C, H, W) features, got shape {tuple(features.shape)}")
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def relative_error(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||x - target||^2 / ||target||^2 per image of x's batch: (N,)."""
    energy = target.pow(2).sum().clamp_min(1e-12)
    return (x - target).pow(2).flatten(1).sum(dim=1) / energy


def style_loss(features: dict[str, torch.Tensor], grams: dict[str, torch.Tensor],
               weights: dict[str, float]) -> torch.Tensor:
    """The weighted mean over layers of each layer's normalised Gram loss: (N,)."""
    total = sum(weights.values())
    return sum(w * relative_error(gram(features[name]), grams[name]) for name, w in weights.items()) / total


class StyleObjective:
    """Minus (content_weight x content loss + style_weight x style loss), per image; each step's two
    losses are kept in ``style_curve`` and ``content_curve`` (before the weights)."""

    def __init__(self, grams: dict[str, torch.Tensor], weights: dict[str, float], content_layer: str,
                 content: torch.Tensor | None, content_weight: float, style_weight: float) -> None:
        self.grams, self.weights = grams, {k: float(v) for k, v in weights.items() if v > 0}
        if not self.weights:
            raise ValueError("style layers: give at least one layer a weight above 0")
        self.content_layer, self.content = content_layer, content
        self.content_weight, self.style_weight = float(content_weight), float(style_weight)
        self.style_curve: list[float] = []
        self.content_curve: list[float] = []

    @property
    def uses_content(self) -> bool:
        return self.content is not None and self.content_weight > 0

    def layers(self) -> tuple[str, ...]:
        names = list(self.weights)
        if self.uses_content and self.content_layer not in names:
            names.append(self.content_layer)
        return tuple(names)

    def score(self, features: dict[str, torch.Tensor], _output: Any) -> torch.Tensor:
        styled = style_loss(features, self.grams, self.weights)
        loss = self.style_weight * styled
        self.style_curve.append(float(styled.detach().mean()))
        if self.uses_content:
            kept = relative_error(features[self.content_layer], self.content)
            loss = loss + self.content_weight * kept
            self.content_curve.append(float(kept.detach().mean()))
        return -loss

    def objective(self) -> Objective:
        return Objective(self.layers(), False, self.score, "style transfer")
