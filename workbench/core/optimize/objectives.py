"""What the loop maximises: a channel, a unit, a class logit, a match to given features, a layer's
energy. Each returns one value per image of the batch, (N,), higher is better."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from workbench.core.targets import logits


@dataclass(frozen=True)
class Objective:
    layers: tuple[str, ...]           # the layers it reads ((): only the model's output)
    needs_output: bool
    score: Callable[[dict[str, torch.Tensor], Any], torch.Tensor]
    label: str


def _map(features: dict[str, torch.Tensor], layer: str) -> torch.Tensor:
    out = features[layer]
    if not isinstance(out, torch.Tensor):
        raise ValueError(f"layer {layer!r} gives {type(out).__name__}, not a tensor; choose another")
    return out


def _channels(out: torch.Tensor, layer: str) -> torch.Tensor:
    """(N, C, ...) as (N, C, positions): conv maps, or token rows (N, tokens, C) as channels last."""
    if out.dim() == 4:
        return out.flatten(2)
    if out.dim() == 3:
        return out.transpose(1, 2)
    if out.dim() == 2:
        return out.unsqueeze(-1)
    raise ValueError(f"layer {layer!r} gives shape {tuple(out.shape)}; expected (N, C), (N, C, h, w) or (N, T, C)")


def channel_count(out: torch.Tensor, layer: str) -> int:
    return _channels(out, layer).shape[1]


def channel(layer: str, index: int | torch.Tensor) -> Objective:
    """The mean of channel ``index`` over positions; a tensor of N indices gives image i channel index[i]."""
    def score(features, _output):
        maps = _channels(_map(features, layer), layer)
        idx = torch.as_tensor(index, device=maps.device).reshape(-1).expand(maps.shape[0])
        return maps[torch.arange(maps.shape[0], device=maps.device), idx].mean(dim=-1)
    return Objective((layer,), False, score, f"{layer} channel {index}" if isinstance(index, int) else layer)


def unit(layer: str, index: int) -> Objective:
    """Channel ``index`` at the centre position of the map (one neuron)."""
    def score(features, _output):
        out = _map(features, layer)
        if out.dim() == 4:
            h, w = out.shape[-2:]
            return out[:, index, h // 2, w // 2]
        maps = _channels(out, layer)
        return maps[:, index, maps.shape[-1] // 2]
    return Objective((layer,), False, score, f"{layer} unit {index} (centre)")


def _per_image(index: int | torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The class of each image: one for all, or a tensor of N (image i aims at index[i])."""
    return torch.as_tensor(index, device=out.device).reshape(-1).expand(out.shape[0])


def _class_label(what: str, index: int | torch.Tensor, label: str) -> str:
    if not isinstance(index, int):
        return f"{what} of every class"
    return f"{what} of class {index}" + (f" ({label})" if label else "")


def class_logit(index: int | torch.Tensor, label: str = "") -> Objective:
    def score(_features, output):
        out = logits(output)
        return out[torch.arange(out.shape[0], device=out.device), _per_image(index, out)]
    return Objective((), True, score, _class_label("logit", index, label))


def class_log_probability(index: int | torch.Tensor, label: str = "") -> Objective:
    """The class's log-softmax: its logit against the others'."""
    def score(_features, output):
        out = logits(output).log_softmax(dim=1)
        return out[torch.arange(out.shape[0], device=out.device), _per_image(index, out)]
    return Objective((), True, score, _class_label("log-probability", index, label))


def class_log_odds(index: int | torch.Tensor, label: str = "") -> Objective:
    """log(p / (1 - p)) of the class: its logit against the log-sum-exp of the others'. Unlike the
    log-probability it keeps growing once the class wins, and unlike the logit it does not reward
    raising the classes that look alike."""
    def score(_features, output):
        out = logits(output)
        rows, idx = torch.arange(out.shape[0], device=out.device), _per_image(index, out)
        others = out.clone()
        others[rows, idx] = float("-inf")
        return out[rows, idx] - torch.logsumexp(others, dim=1)
    return Objective((), True, score, _class_label("log-odds", index, label))


def match(layer: str, target: torch.Tensor) -> Objective:
    """Minus the squared distance to ``target``'s features, relative to their energy (Mahendran & Vedaldi)."""
    energy = target.pow(2).sum().clamp_min(1e-12)

    def score(features, _output):
        out = _map(features, layer)
        return -(out - target).pow(2).flatten(1).sum(dim=1) / energy
    return Objective((layer,), False, score, f"match {layer}")


def energy(layer: str) -> Objective:
    """The layer's mean squared activation (DeepDream)."""
    def score(features, _output):
        return _map(features, layer).pow(2).flatten(1).mean(dim=1)
    return Objective((layer,), False, score, f"energy of {layer}")
