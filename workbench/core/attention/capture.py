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
    modules = dict(model.named_modules())
    layers = [(n, m) for n, m in modules.items() if isinstance(m, nn.MultiheadAttention)]
    if not layers:
        raise AttentionCaptureError(
            "the model has no attention layers (torch.nn.MultiheadAttention); the attention views "
            "need a transformer such as a ViT")
    captured = Captured()
    calls = {n: 0 for n, _ in layers}
    parents = {n: n.rpartition(".")[0] for n, _ in layers}   # the module holding each layer
    parent_calls = {p: 0 for p in set(parents.values())}
    saved: list[tuple[nn.Module, Any]] = []
    handles = []
    try:
        with _fast_path_off():
            for name, layer in layers:
                saved.append((layer, layer.__dict__.get("forward", _NOT_SET)))
                layer.forward = _recording_forward(layer, name, captured, calls, detach)
            for p in parent_calls:
                if supports_forward_hooks(modules[p]):
                    handles.append(modules[p].register_forward_pre_hook(_counter(parent_calls, p)))
            yield captured
        _check_all_ran(calls, parents, parent_calls)
    finally:
        for h in handles:
            h.remove()
        for layer, before in saved:
            if before is _NOT_SET:
                del layer.forward
            else:
                layer.forward = before


_NOT_SET = object()


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


def _counter(counts: dict[str, int], name: str) -> Callable[..., None]:
    def hook(_module: nn.Module, _args: Any) -> None:
        counts[name] += 1
    return hook


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
