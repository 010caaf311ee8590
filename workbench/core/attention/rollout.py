"""Attention rollout (Abnar & Zuidema, 2020) and its gradient-weighted form (Chefer et al., 2021).

Per layer: fuse the heads into one (tokens x tokens) matrix, zero the lowest ``discard_ratio``
share of its entries (never the CLS token's attention to itself, as in vit-explain), add the
identity for the residual path, renormalise every row to sum to 1, and multiply the layers
together, last on the left: ``R = A_L ... A_2 A_1``. Row ``q`` of ``R`` says how much each input
token flows into token ``q`` at the top; the CLS row over the patches is the usual map.

Gradient-weighted: each layer's heads are first weighted as ``relu(dScore/dA * A)``, so only the
attention that raises the chosen class's score counts, and then fused as above.
"""
from __future__ import annotations

from typing import Sequence

import torch

FUSIONS = ("mean", "min", "max")


def fuse_heads(attention: torch.Tensor, how: str = "mean") -> torch.Tensor:
    """(heads, q, k) -> (q, k): the mean, minimum or maximum over the heads."""
    if how == "mean":
        return attention.mean(dim=0)
    if how == "min":
        return attention.amin(dim=0)
    if how == "max":
        return attention.amax(dim=0)
    raise ValueError(f"head_fusion {how!r}: choose one of {', '.join(FUSIONS)}")


def discard_lowest(matrix: torch.Tensor, ratio: float, keep: int = 0) -> torch.Tensor:
    """A copy of ``matrix`` with its lowest ``ratio`` share of entries set to 0; entry
    ``[keep, keep]`` (the CLS token's attention to itself) is never discarded nor counted."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"discard_ratio {ratio}: give a share in [0, 1)")
    out = matrix.clone()
    count = int(ratio * (out.numel() - 1))
    if count == 0:
        return out
    flat = out.reshape(-1)
    keep_at = keep * out.shape[-1] + keep
    ranked = flat.clone()
    ranked[keep_at] = float("inf")
    flat[torch.topk(ranked, count, largest=False).indices] = 0.0
    return out


def gradient_weighted(attention: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """relu(gradient * attention), per head: the attention that raises the score."""
    return (gradient * attention).clamp(min=0)


def rollout(attentions: Sequence[torch.Tensor], head_fusion: str = "mean", discard_ratio: float = 0.0,
            gradients: Sequence[torch.Tensor] | None = None, cls_index: int = 0) -> torch.Tensor:
    """The joint attention (tokens, tokens) of layers given first to last, each (heads, q, q)."""
    if not attentions:
        raise ValueError("rollout needs the attention of at least one layer")
    if gradients is not None and len(gradients) != len(attentions):
        raise ValueError(f"{len(gradients)} gradients for {len(attentions)} attention layers")
    n = attentions[0].shape[-1]
    eye = torch.eye(n, dtype=torch.float64, device=attentions[0].device)
    joint = eye.clone()
    for i, attention in enumerate(attentions):
        a = attention.detach().to(torch.float64)
        if a.shape[-2:] != (n, n):
            raise ValueError(f"layer {i} has attention of shape {tuple(a.shape)}; rollout needs "
                             f"self-attention over the same {n} tokens in every layer")
        if gradients is not None:
            a = gradient_weighted(a, gradients[i].detach().to(torch.float64))
        fused = discard_lowest(fuse_heads(a, head_fusion), discard_ratio, cls_index) + eye
        fused = fused / fused.sum(dim=-1, keepdim=True)
        joint = fused @ joint
    return joint
