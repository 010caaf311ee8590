"""Forward hooks that always come off again."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


@contextmanager
def capture_outputs(module: nn.Module, layers: dict[str, nn.Module] | list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the named layers during forwards inside the block."""
    if isinstance(layers, list):
        mods = dict(module.named_modules())
        missing = [n for n in layers if n not in mods]
        if missing:
            raise ValueError(f"no layer(s) {missing} in the model")
        layers = {n: mods[n] for n in layers}
    captured: dict[str, torch.Tensor] = {}
    handles = []

    def hook_for(name: str):
        def hook(_m, _inp, out):
            captured[name] = out
        return hook

    try:
        for name, layer in layers.items():
            handles.append(layer.register_forward_hook(hook_for(name)))
        yield captured
    finally:
        for h in handles:
            h.remove()


def hook_count(module: nn.Module) -> int:
    """Hooks currently registered anywhere in the module tree (used by leak tests)."""
    total = 0
    for m in module.modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_backward_pre_hooks", "_forward_hooks_with_kwargs"):
            d = getattr(m, attr, None)
            if d:
                total += len(d)
    return total
