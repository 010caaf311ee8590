"""Read a vision transformer's attention over its patches for one input, with or without gradients."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from workbench.core.attention.capture import capture_attention
from workbench.core.attention.tokens import TokenGrid, token_grid


@dataclass
class PatchAttention:
    """Every self-attention layer of one forward, over the same tokens."""
    weights: torch.Tensor                 # (layers, heads, tokens, tokens), float32 on the CPU
    names: list[str]                      # the attention module of each layer
    grid: TokenGrid
    gradients: torch.Tensor | None = None  # d score / d weights, like ``weights``
    target: int | None = None


def read_attention(model: nn.Module, x: torch.Tensor) -> PatchAttention:
    """The attention weights of every layer for the input ``x`` (1, C, H, W)."""
    with torch.no_grad(), capture_attention(model) as captured:
        model(x)
    return _patch_attention(model, x, captured.names, captured.stacked(0))


def read_attention_gradients(model: nn.Module, x: torch.Tensor, target: int) -> PatchAttention:
    """The attention weights and the gradient of the ``target`` logit with respect to them."""
    from workbench.core.targets import target_score
    x = x.detach().requires_grad_(True)   # a graph even when the model's parameters are frozen
    with torch.enable_grad(), capture_attention(model, detach=False) as captured:
        score = target_score(model(x), target).sum()
    grads = captured.gradients(score)
    found = _patch_attention(model, x, captured.names, torch.stack([w[0].detach() for w in captured.weights]))
    found.gradients = torch.stack([g[0] for g in grads]).detach().float().cpu()
    found.target = int(target)
    return found


def _patch_attention(model: nn.Module, x: torch.Tensor, names: list[str], weights: torch.Tensor) -> PatchAttention:
    queries, keys = weights.shape[-2:]
    if queries != keys:
        raise ValueError(f"the attention layers attend from {queries} to {keys} tokens; these views read "
                         f"self-attention over image patches (a ViT)")
    grid = token_grid(model, keys, tuple(x.shape[-2:]))
    return PatchAttention(weights.float().cpu(), list(names), grid)


POSITIONAL_NAMES = ("pos_embedding", "pos_embed", "position_embedding", "position_embeddings")


def positional_embedding(model: nn.Module) -> tuple[str, torch.Tensor]:
    """The learned positional embedding (tokens, dim): a parameter named like ``encoder.pos_embedding``."""
    for name, value in model.named_parameters():
        if name.rpartition(".")[2] in POSITIONAL_NAMES and value.dim() in (2, 3):
            if value.dim() == 3 and value.shape[0] != 1:
                continue
            return name, value.detach().reshape(value.shape[-2], value.shape[-1]).float().cpu()
    raise ValueError(f"the model has no learned positional embedding (a parameter named "
                     f"{' / '.join(POSITIONAL_NAMES)}); this view needs a ViT such as torchvision's vit_b_16")


def positional_similarity(embedding: torch.Tensor, grid: TokenGrid) -> torch.Tensor:
    """(patches, patches): cosine similarity of every patch position's embedding with every other."""
    patches = embedding[grid.prefix:grid.tokens]
    unit = torch.nn.functional.normalize(patches.double(), dim=-1)
    return (unit @ unit.T).float()
