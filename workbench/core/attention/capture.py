"""Attention weights from every ``nn.MultiheadAttention`` of a model, as the model runs.

Models ask their attention layers for no weights (torchvision's ViT calls them with
``need_weights=False``), and PyTorch's fused kernels skip the Python code a hook would see:
``nn.TransformerEncoderLayer`` in eval mode calls one native kernel and never runs its
``self_attn``. So inside ``capture_attention`` every attention layer's ``forward`` is wrapped to
ask for the per-head weights (handing the caller what it asked for), the fused fast path is
switched off, and a layer that was skipped anyway is an error rather than a silent gap.
Everything is put back in ``finally``.
"""
from __future__ import annotations

import inspect
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch import nn

from workbench.core.hooks import supports_forward_hooks

_SIGNATURE = inspect.signature(nn.MultiheadAttention.forward)
_PARAMETERS = list(_SIGNATURE.parameters)[1:]       # query, key, value, key_padding_mask, ... (no self)
_DEFAULTS = {n: p.default for n, p in _SIGNATURE.parameters.items()}


class AttentionCaptureError(ValueError):
    """The model's attention weights cannot be read (none there, none ran, or a kernel skipped them)."""


@dataclass
class Captured:
    """What ran inside the block: one entry per attention call, in call order."""
    names: list[str] = field(default_factory=list)            # the attention module of each call
    weights: list[torch.Tensor] = field(default_factory=list)  # (batch, heads, queries, keys) each
    # with detach=False: the tensors the attention layers multiplied their values by (``weights``
    # are views taken after that product, so autograd reaches only these)
    in_graph: list[torch.Tensor] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.weights)

    def stacked(self, item: int = 0) -> torch.Tensor:
        """(layers, heads, queries, keys) for one item of the batch; every call must have one shape."""
        if not self.weights:
            raise AttentionCaptureError("no attention weights were captured")
        shapes = {tuple(w.shape[1:]) for w in self.weights}
        if len(shapes) > 1:
            raise AttentionCaptureError(
                f"the attention layers have different shapes (heads, queries, keys): {sorted(shapes)}; "
                f"read them one by one from Captured.weights")
        return torch.stack([w[item] for w in self.weights])

    def gradients(self, output: torch.Tensor) -> list[torch.Tensor]:
        """d output / d weights for every call, each shaped like its ``weights`` (capture with
        ``detach=False`` and compute ``output`` inside the block)."""
        if not self.in_graph:
            raise AttentionCaptureError("no attention weights in the graph: capture with detach=False "
                                        "and run the forward with gradients enabled")
        try:
            grads = torch.autograd.grad(output, self.in_graph)
        except RuntimeError as exc:
            raise AttentionCaptureError(f"the output does not depend on every captured attention "
                                        f"layer ({exc})") from exc
        return [g.reshape(w.shape) for g, w in zip(grads, self.weights)]


@contextmanager
def capture_attention(model: nn.Module, detach: bool = True) -> Iterator[Captured]:
    """Record the per-head attention weights of every ``nn.MultiheadAttention`` run in the block.

    ``detach=False`` keeps the weights in the autograd graph (for gradients with respect to them).
    Leaving the block normally raises :class:`AttentionCaptureError` when no attention layer ran,
    or when a layer's parent ran but the layer did not (a fused kernel went around it).
    """
    if not supports_forward_hooks(model):
        raise AttentionCaptureError(
            "attention weights cannot be read from a TorchScript model (its attention runs outside "
            "Python); load it as weights with their architecture (torchvision:ARCH?weights=PATH, or a "
            ".safetensors naming it)")
    layers, holders = _attention_layers(model)
    if not layers:
        raise AttentionCaptureError(
            "the model has no attention layers (torch.nn.MultiheadAttention); the attention views "
            "need a transformer such as a ViT")
    captured = Captured()
    calls = {n: 0 for n, _ in layers}
    parents = {n: n.rpartition(".")[0] for n, _ in layers}   # the module holding each layer
    parent_calls = {p: 0 for p in set(parents.values())}
    saved: list[tuple[nn.Module, Any]] = []
    try:
        with _fast_path_off():
            for name, layer in layers:
                saved.append((layer, layer.__dict__.get("forward", _NOT_SET)))
                layer.__dict__["forward"] = _recording_forward(layer, name, captured, calls, detach)
            for p in parent_calls:
                holder = holders.get(p)
                if holder is not None and supports_forward_hooks(holder):
                    saved.append((holder, holder.__dict__.get("forward", _NOT_SET)))
                    holder.__dict__["forward"] = _counting_forward(holder.forward, parent_calls, p)
            yield captured
        _check_all_ran(calls, parents, parent_calls)
    finally:
        for layer, before in reversed(saved):   # straight into __dict__: Module.__setattr__ is slow
            if before is _NOT_SET:
                layer.__dict__.pop("forward", None)
            else:
                layer.__dict__["forward"] = before


_NOT_SET = object()


def _attention_layers(model: nn.Module) -> tuple[list[tuple[str, nn.Module]], dict[str, nn.Module]]:
    """Every ``nn.MultiheadAttention`` by name (in ``named_modules`` order) and the module holding
    each, by name. One walk over ``_modules`` without descending into the attention layers:
    ``named_modules`` costs a noticeable part of a small model's forward."""
    if isinstance(model, nn.MultiheadAttention):
        return [("", model)], {}
    layers: list[tuple[str, nn.Module]] = []
    holders: dict[str, nn.Module] = {}
    seen = {id(model)}
    stack = [("", model)]
    while stack:
        prefix, module = stack.pop()
        children = []
        for name, child in module._modules.items():
            if child is None or id(child) in seen:
                continue
            seen.add(id(child))
            if isinstance(child, nn.MultiheadAttention):
                layers.append((f"{prefix}.{name}" if prefix else name, child))
                holders[prefix] = module
            elif child._modules:       # leaves (most modules) hold no attention layer
                children.append((f"{prefix}.{name}" if prefix else name, child))
        stack.extend(reversed(children))
    return layers, holders


def _recording_forward(layer: nn.MultiheadAttention, name: str, captured: Captured,
                       calls: dict[str, int], detach: bool) -> Callable[..., Any]:
    original = layer.forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        kwargs.update(zip(_PARAMETERS, args))
        wanted = kwargs.get("need_weights", _DEFAULTS["need_weights"])
        averaged = kwargs.get("average_attn_weights", _DEFAULTS["average_attn_weights"])
        kwargs["need_weights"], kwargs["average_attn_weights"] = True, False
        out, weights = original(**kwargs)
        calls[name] += 1
        captured.names.append(name)
        per_head = weights if weights.dim() == 4 else weights.unsqueeze(0)  # unbatched: (heads, q, k)
        captured.weights.append(per_head.detach() if detach else per_head)
        if not detach:
            captured.in_graph.append(weights if weights._base is None else weights._base)
        if not wanted:
            return out, None
        return out, weights.mean(dim=-3) if averaged else weights

    return forward


def _counting_forward(original: Callable[..., Any], counts: dict[str, int], name: str) -> Callable[..., Any]:
    """``original`` counting its calls. A wrapped ``forward`` rather than a forward pre-hook: any
    hook puts its module on ``nn.Module``'s slower hooked call path, a cost paid per block."""
    def forward(*args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return original(*args, **kwargs)
    return forward


def _check_all_ran(calls: dict[str, int], parents: dict[str, str], parent_calls: dict[str, int]) -> None:
    skipped = [n for n, c in calls.items() if c == 0 and parent_calls[parents[n]] > 0]
    if skipped:
        raise AttentionCaptureError(
            f"attention layer(s) {', '.join(skipped)} did not run although the module holding them did: "
            f"a fused kernel went around them, so their weights cannot be read")
    if not any(calls.values()):
        raise AttentionCaptureError(
            f"none of the model's {len(calls)} attention layers ran inside the capture; run the model's "
            f"forward inside the block")


_fast_path_lock = threading.Lock()
_fast_path_users = 0
_fast_path_before = True


@contextmanager
def _fast_path_off() -> Iterator[None]:
    """Switch off PyTorch's fused transformer fast path (a process-wide switch) while any capture runs.

    Counted, so overlapping captures in several threads put back the setting found by the first.
    """
    global _fast_path_users, _fast_path_before
    with _fast_path_lock:
        if _fast_path_users == 0:
            _fast_path_before = torch.backends.mha.get_fastpath_enabled()
            torch.backends.mha.set_fastpath_enabled(False)
        _fast_path_users += 1
    try:
        yield
    finally:
        with _fast_path_lock:
            _fast_path_users -= 1
            if _fast_path_users == 0:
                torch.backends.mha.set_fastpath_enabled(_fast_path_before)
