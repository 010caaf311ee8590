"""Forward hooks that always come off again, and a plain refusal where a model takes none."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


class HooksUnsupported(ValueError):
    """A method needs forward hooks on a model that cannot take them (TorchScript)."""


def supports_forward_hooks(module: nn.Module) -> bool:
    """False for TorchScript modules, whose forward runs outside Python's reach."""
    return not isinstance(module, torch.jit.ScriptModule)


def require_forward_hooks(module: nn.Module, method: str = "this method") -> None:
    """Raise :class:`HooksUnsupported` with a message a user can act on if ``module`` takes no hooks."""
    if not supports_forward_hooks(module):
        raise HooksUnsupported(
            f"{method} needs forward hooks, which a TorchScript model does not support; load the model "
            f"as a .pt2 program (torch.export.save) or as weights with their architecture "
            f"(torchvision:ARCH?weights=PATH, or a .safetensors naming it)")


@contextmanager
def capture_outputs(module: nn.Module, layers: dict[str, nn.Module] | list[str],
                    method: str = "this method") -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the named layers during forwards inside the block."""
    if isinstance(layers, list):
        mods = dict(module.named_modules())
        missing = [n for n in layers if n not in mods]
        if missing:
            raise ValueError(f"no layer(s) {missing} in the model")
        layers = {n: mods[n] for n in layers}
    for layer in layers.values():
        require_forward_hooks(layer, method)
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
