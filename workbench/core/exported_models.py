"""torch.export programs (.pt2) as modules every method can run.

``ExportedProgram.module()`` runs one flat graph: forward hooks on its submodules never fire.
``torch.export.unflatten`` rebuilds the original module tree, each submodule running its own
part of the graph, so layers can be listed and hooked as in the model that was exported. A
program exported with a fixed batch size takes other batch sizes too (integrated gradients
and occlusion feed many inputs at once): see ``_take_any_batch``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from workbench.core.checkpoints import TRUST_HINT, ModelLoadError
from workbench.core.pt2_archive import untrusted_content

META_FILE = "workbench.json"


@dataclass
class ExportedModel:
    module: nn.Module
    meta_text: str                         # the archive's workbench.json, "" when it has none
    shape: tuple[int | None, ...]          # (N, C, H, W) the program was exported for; None where dynamic
    layer_types: dict[str, str]            # submodule path -> the class name it had when exported


def load_exported(path: Path, trust: bool) -> ExportedModel:
    """The program in ``path`` as a hookable module; refused untrusted if it could run code."""
    if not trust:
        try:
            problem = untrusted_content(path)
        except Exception as e:  # a damaged zip or JSON: nothing was loaded
            why = f" ({e})" if isinstance(e, ValueError) and str(e) else ""
            raise ModelLoadError(f"{path} is not a torch.export program or is damaged{why}") from None
        if problem:
            raise ModelLoadError(f"{path} is a torch.export archive holding {problem}; loading it can "
                                 f"run code the file contains. {TRUST_HINT}.", needs_trust=True)
    extra = {META_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.export.load(str(path), extra_files=extra)
            shape = _input_shape(program, path)
            module = torch.export.unflatten(program)
    except ModelLoadError:
        raise
    except Exception as e:  # torch.export raises many types for damaged or foreign archives
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelLoadError(f"{path} looks like a torch.export program but cannot be loaded ({first})") from None
    if isinstance(shape[0], int):
        _take_any_batch(module, shape[0])
    return ExportedModel(module, str(extra.get(META_FILE) or ""), shape, _layer_types(program))


def _input_shape(program: Any, path: Path) -> tuple[int | None, ...]:
    inputs = list(program.graph_signature.user_inputs)
    if len(inputs) != 1:
        raise ModelLoadError(f"{path} takes {len(inputs)} inputs; the workbench feeds one image "
                             f"tensor (N, C, H, W)")
    node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == inputs[0])
    value = node.meta.get("val")
    if not isinstance(value, torch.Tensor) or value.dim() != 4:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ModelLoadError(f"{path} takes an input of shape {shape}; the workbench feeds images "
                             f"as (N, C, H, W) tensors")
    return tuple(d if isinstance(d, int) else None for d in value.shape)


def _layer_types(program: Any) -> dict[str, str]:
    types: dict[str, str] = {}
    for node in program.graph.nodes:
        for path, type_name in (node.meta.get("nn_module_stack") or {}).values():
            if path:
                types.setdefault(path, str(type_name).rsplit(".", 1)[-1])
    return types


def _take_any_batch(module: nn.Module, batch: int) -> None:
    """Make ``module`` take any batch size, feeding the program slices of ``batch`` items.

    The slices run together under ``torch.func.vmap`` (about as fast as one batched forward),
    or one after another where an operation has no batching rule. Forward hooks would see
    vmap's batched tensors, or only the last slice, so a batch other than the program's own
    is refused while any are attached.
    """
    forward: Callable = module.forward

    def any_batch(x: torch.Tensor) -> Any:
        n = x.shape[0]
        if n == batch:
            return forward(x)
        padded = torch.cat([x, x[-1:].expand(-n % batch, *x.shape[1:])])  # whole slices
        slices = padded.reshape(-1, batch, *x.shape[1:])
        if _hooked(module):
            raise ValueError(f"this torch.export program was exported for batches of {batch}, and its "
                             f"layers cannot be read on {n} inputs at once; export it with a dynamic "
                             f"batch size (dynamic_shapes with torch.export.Dim) for this method")
        try:
            return _trim(_merge_slices(torch.func.vmap(forward)(slices)), n)
        except Exception:  # no batching rule for some operation: one slice at a time
            return _trim(_concat([forward(s) for s in slices]), n)

    module.forward = any_batch  # an instance attribute: nn.Module.__call__ and its hooks use it


def _hooked(module: nn.Module) -> bool:
    from torch.nn.modules import module as torch_module
    if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
        return True
    # the program's own hooks wrap the whole batch; its layers' hooks would see slices
    return any(m._forward_hooks or m._forward_pre_hooks for m in module.modules() if m is not module)


def _merge_slices(output: Any) -> Any:
    """(slices, batch, ...) outputs of vmap as (slices * batch, ...)."""
    if isinstance(output, torch.Tensor):
        return output.flatten(0, 1)
    if isinstance(output, (tuple, list)):
        return _like(output, [_merge_slices(o) for o in output])
    if isinstance(output, dict):
        return {k: _merge_slices(v) for k, v in output.items()}
    return output


def _concat(outputs: list) -> Any:
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(outputs)
    if isinstance(first, (tuple, list)):
        return _like(first, [_concat([o[i] for o in outputs]) for i in range(len(first))])
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs]) for k in first}
    return first


def _trim(output: Any, n: int) -> Any:
    if isinstance(output, torch.Tensor):
        return output[:n]
    if isinstance(output, (tuple, list)):
        return _like(output, [_trim(o, n) for o in output])
    if isinstance(output, dict):
        return {k: _trim(v, n) for k, v in output.items()}
    return output


def _like(sequence: tuple | list, items: list) -> Any:
    return type(sequence)(*items) if hasattr(sequence, "_fields") else type(sequence)(items)
