"""Reading checkpoint files safely: weights only, unless the user trusts a pickled file."""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

TRUST_HINT = ("Load it only if you trust where it came from (trust_pickle=True in the API, "
              "--trust-pickle on the command line, or answer Yes when the workbench asks)")
WEIGHTS_HINT = ("Save just the weights (model.state_dict()) as .safetensors or .pt; or, if you "
                "trust the file, load the whole model as file:PATH with trust")


class ModelLoadError(ValueError):
    """A model id that cannot be turned into a model, with a message a user understands.

    ``needs_trust`` is set when the file would load if trusted (a pickled module, or a .pt2
    archive holding something that runs code when loaded).
    """

    def __init__(self, message: str, needs_trust: bool = False):
        super().__init__(message)
        self.needs_trust = needs_trust


def torch_load(path: Path, trust_pickle: bool, refusal_hint: str) -> Any:
    """``torch.load`` weights-only; a full unpickling only when ``trust_pickle``."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        if found is None:
            raise ModelLoadError(f"{path} is not a PyTorch checkpoint or is damaged") from None
        if not trust_pickle:
            raise ModelLoadError(
                f"{path} is a pickled Python object (it contains a {found.group(1)}), not plain "
                f"weights; unpickling it can run any code the file contains. {refusal_hint}.",
                needs_trust=True) from None
    except Exception:  # weights-only reading runs no code; anything else means a bad file
        raise ModelLoadError(f"{path} is not a PyTorch checkpoint or is damaged") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (AttributeError, ImportError) as e:
        raise ModelLoadError(f"{path} needs Python code that cannot be imported here ({e})") from None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelLoadError(f"weights file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except Exception as e:  # safetensors raises its own error types for damaged files
            raise ModelLoadError(f"{path} is not a valid safetensors file ({e})") from None
    obj = torch_load(path, False, WEIGHTS_HINT)
    state = as_state_dict(obj)
    if state is None:
        raise ModelLoadError(f"{path} holds a {type(obj).__name__}, not a state dict "
                             f"(a mapping from parameter names to tensors)")
    return state


def as_state_dict(obj: Any) -> dict[str, torch.Tensor] | None:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):  # common training checkpoints
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        return None
    if all(k.startswith("module.") for k in obj):  # saved from DataParallel
        return {k[len("module."):]: v for k, v in obj.items()}
    return dict(obj)


def shape_mismatches(model: nn.Module, state: dict) -> list[str]:
    own = model.state_dict()
    return [k for k, v in state.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]


def load_into(model: nn.Module, state: dict, origin: str, arch: str) -> None:
    mismatched = shape_mismatches(model, state)
    if mismatched:
        own = model.state_dict()
        shown = "; ".join(f"{k}: file {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
                          for k in mismatched[:4])
        raise ModelLoadError(f"the weights in {origin} do not fit {arch}: {len(mismatched)} "
                             f"tensors have other shapes ({shown})")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        parts = [f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})"
                 for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise ModelLoadError(f"the weights in {origin} do not fit {arch}: "
                             f"{' and '.join(parts)} parameter names")
