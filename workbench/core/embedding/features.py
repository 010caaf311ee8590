"""A model's features at one layer over a set of images, pooled to one vector per image."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from workbench.core.hooks import require_forward_hooks

PENULTIMATE = "penultimate"    # the input of the model's last linear layer: what the classifier reads


def default_layer(module: nn.Module) -> str:
    linears = [n for n, m in module.named_modules() if isinstance(m, nn.Linear)]
    return PENULTIMATE if linears else ""


def pooled(out: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> mean over space; (N, T, C) tokens -> mean over tokens; (N, C) as is."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if out.ndim == 4:
        return out.mean(dim=(2, 3))
    if out.ndim == 3:
        return out.mean(dim=1)
    return out.flatten(1)


def extract(handle, images: np.ndarray, layer: str, device="cpu", batch: int = 256,
            check: Callable[[], None] = lambda: None) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None]]:
    """Yield (images done, features, logits) after each batch; the last yield holds the (N, D) features and
    the (N, classes) logits of the whole set (logits None when the model does not give a 2-D output)."""
    module = handle.module
    require_forward_hooks(module, "reading a layer's features")
    target = _hook_target(module, layer, handle.layer_types or {})
    seen: dict[str, torch.Tensor] = {}
    if layer == PENULTIMATE:
        hook = target.register_forward_pre_hook(lambda _m, args: seen.__setitem__("x", args[0]))
    else:
        hook = target.register_forward_hook(lambda _m, _i, out: seen.__setitem__("x", out))
    feats, logits = [], []
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch):
                check()
                x = torch.cat([handle.preprocess(im) for im in images[start:start + batch]]).to(device)
                out = module(x)
                feats.append(pooled(seen["x"]).float().cpu().numpy())
                if isinstance(out, torch.Tensor) and out.ndim == 2:
                    logits.append(out.float().cpu().numpy())
                yield min(len(images), start + batch), None, None
    finally:
        hook.remove()
    yield len(images), np.concatenate(feats).astype(np.float32), np.concatenate(logits) if logits else None


def _hook_target(module: nn.Module, layer: str, types: dict[str, str]) -> nn.Module:
    """The module to hook; ``types`` names the classes an exported program's modules no longer show."""
    named = dict(module.named_modules())
    if layer == PENULTIMATE:
        linears = [n for n, m in named.items() if isinstance(m, nn.Linear) or types.get(n) == "Linear"]
        if not linears:
            raise ValueError("layer 'penultimate' needs a model with a linear head; choose a layer by name")
        return named[linears[-1]]
    if layer not in named:
        raise ValueError(f"no layer {layer!r}; choose one of the model's layers or {PENULTIMATE!r}")
    return named[layer]
