"""What a set predictor outputs and the box arithmetic its model and its loss share."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SetPrediction:
    """Every decoder layer's prediction for every query, and what the encoder made of the image."""
    logits: torch.Tensor        # (layers, N, queries, classes + 1), the last layer is the output
    boxes: torch.Tensor         # (layers, N, queries, 4) cx, cy, w, h as fractions of the input
    memory: torch.Tensor        # (N, tokens, d_model) encoder output
    feature_hw: tuple[int, int]


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))


def cxcywh_to_xyxy(b: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
