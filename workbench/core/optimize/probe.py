"""Forward passes that read the named layers' outputs, and stop once the last of them is read."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from workbench.core.hooks import require_forward_hooks


class _Enough(Exception):
    """Raised by a hook once every layer an objective reads has run: the rest of the net is skipped."""


class Probe:
    """``with Probe(model, layers, needs_output) as probe: features, output = probe(x)``.

    Hooks are registered on entering and removed on leaving, whatever happens inside. When the
    objective does not need the model's output, the forward stops after the last probed layer.
    """

    def __init__(self, model: nn.Module, layers: dict[str, nn.Module], needs_output: bool,
                 method: str = "this method") -> None:
        for layer in layers.values():
            require_forward_hooks(layer, method)
        self.model, self.layers, self.needs_output = model, layers, needs_output
        self.captured: dict[str, torch.Tensor] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> "Probe":
        try:
            for name, layer in self.layers.items():
                self._handles.append(layer.register_forward_hook(self._hook(name)))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, name: str):
        def hook(_m, _inp, out):
            self.captured[name] = out
            if not self.needs_output and len(self.captured) == len(self.layers):
                raise _Enough()
        return hook

    def __call__(self, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], Any]:
        self.captured = {}
        try:
            output = self.model(x)
        except _Enough:
            output = None
        missing = [n for n in self.layers if n not in self.captured]
        if missing:
            raise ValueError(f"layer(s) {', '.join(missing)} did not run in the forward pass; choose another")
        return self.captured, output
