"""``file:PATH`` models: TorchScript, torch.export programs (.pt2) and trusted pickled modules.

What the workbench feeds such a model comes, first to last, from the id's ``?input=`` option,
the file's own ``workbench.json`` metadata, the shape a program was exported for, the
channels of the model's first convolution, and a 224 x 224 RGB default (with a note). The
model is run once on that input while loading, so a wrong size is reported here, naming
the file, and not later inside a method.
"""
from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.core.checkpoints import TRUST_HINT, ModelLoadError, as_state_dict, torch_load
from workbench.core.exported_models import META_FILE, load_exported
from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD, ModelHandle, Preprocess, is_conv_type
from workbench.core.model_meta import apply_meta, checked_side, input_size, stated_size
from workbench.core.pt2_archive import is_pt2

DEFAULT_FILE_INPUT = (224, 224)
FILE_OPTIONS = ("input",)


def split_file_id(rest: str, model_id: str) -> tuple[Path, dict[str, tuple[int, int]]]:
    """The path and options of ``file:PATH[?input=SIZE]``; a path that exists is never split."""
    whole = Path(rest).expanduser()
    if whole.is_file() or "?" not in rest:
        return whole, {}
    path, _, query = rest.rpartition("?")
    options: dict[str, tuple[int, int]] = {}
    for part in query.split("&"):
        key, equals, value = (x.strip() for x in part.partition("="))
        if key not in FILE_OPTIONS or not equals or key in options:
            raise ModelLoadError(f"cannot read {part!r} in {model_id!r}: file: ids take only "
                                 f"?input=SIZE (e.g. ?input=224 or ?input=224x160)")
        try:
            options[key] = input_size(value, key)
        except ValueError as e:
            raise ModelLoadError(f"cannot use ?{part} in {model_id!r}: {e}") from None
    return Path(path).expanduser(), options


def load_file(path: Path, trust_pickle: bool, options: dict[str, Any]) -> ModelHandle:
    """A TorchScript, torch.export or (trusted) pickled model file as a checked ModelHandle."""
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    fixed: tuple[int | None, ...] = (None, None, None, None)
    types = None
    if is_pt2(path):
        exported = load_exported(path, trust_pickle)
        module, meta, kind = exported.module, _meta(exported.meta_text, path), "torch.export program"
        fixed, types = exported.shape, exported.layer_types
    elif _is_torchscript(path):
        module, meta, kind = *_load_torchscript(path), "TorchScript"
    else:
        obj = torch_load(path, trust_pickle, TRUST_HINT)
        if as_state_dict(obj) is not None:
            raise ModelLoadError(f"{path} holds only weights (a state dict) and does not say which "
                                 f"network they belong to; load it as torchvision:ARCH?weights={path} "
                                 f"or zoo:NAME?weights={path}")
        if not isinstance(obj, nn.Module):
            raise ModelLoadError(f"{path} holds a {type(obj).__name__}, not a model")
        module, meta, kind = obj, {}, "pickled module"
    size = _chosen_size(path, options.get("input"), meta, fixed[2:])
    module.eval()
    handle = ModelHandle(id=f"file:{path}", module=module, task="classify",
                         preprocess=Preprocess(Geometry(DEFAULT_FILE_INPUT, "stretch"), IMAGENET_MEAN, IMAGENET_STD),
                         source=f"{kind}: {path}", layer_types=types)
    apply_meta(handle, meta, path, fixed[1] or first_conv_channels(module))
    if size is None:
        handle.card = {"notes": [f"{path.name} does not say what input size it expects; assuming "
                                 f"{DEFAULT_FILE_INPUT[0]}x{DEFAULT_FILE_INPUT[1]} (give it as "
                                 f"file:PATH?input=HxW or in the file's {META_FILE})"]}
    else:
        pre = handle.preprocess
        handle.preprocess = Preprocess(Geometry(size, "stretch"), pre.mean, pre.std, pre.grayscale)
    if handle.task == "classify":
        _check_runs(handle, path)
    return handle


def first_conv_channels(module: nn.Module) -> int | None:
    """The input channels of the first convolution (TorchScript ones included), if any."""
    for _, m in module.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return int(m.in_channels)
        if isinstance(m, torch.jit.ScriptModule) and is_conv_type(getattr(m, "original_name", "")):
            weight = getattr(m, "weight", None)
            return int(weight.shape[1]) if isinstance(weight, torch.Tensor) and weight.dim() > 1 else None
    return None


def _chosen_size(path: Path, option: tuple[int, int] | None, meta: dict,
                 fixed: tuple[int | None, ...]) -> tuple[int, int] | None:
    stated = option or stated_size(meta, path)
    if None in fixed:
        return stated
    exported = (int(fixed[0]), int(fixed[1]))
    for side in exported:
        checked_side("the exported input size", side, str(path))
    if stated is not None and stated != exported:
        where = "?input=" if option else f"input_size in its {META_FILE}"
        raise ModelLoadError(f"{path} was exported for {exported[0]}x{exported[1]} input, so {where} "
                             f"{stated[0]}x{stated[1]} cannot be used (export it with a dynamic height "
                             f"and width to change its size)")
    return exported


def _check_runs(handle: ModelHandle, path: Path) -> None:
    x = handle.example_input()
    try:
        with torch.no_grad():
            handle.module(x)
    except Exception as e:  # a user's model can fail in any way; say which file and input
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        shape = "x".join(str(d) for d in x.shape[1:])
        raise ModelLoadError(f"{path} does not run on a {shape} (channels x height x width) input: "
                             f"{first}. Give its input size as file:{path}?input=HxW, or save "
                             f"input_size and channels in the file's {META_FILE}") from None


def _meta(text: str, path: Path) -> dict:
    try:
        meta = json.loads(text) if text else {}
    except ValueError:
        raise ModelLoadError(f"the {META_FILE} stored in {path} is not valid JSON") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"the {META_FILE} stored in {path} is not a JSON object")
    return meta


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith("/constants.pkl") for n in archive.namelist())


def _load_torchscript(path: Path) -> tuple[nn.Module, dict]:
    extra = {META_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecation notice of torch.jit
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError) as e:
        raise ModelLoadError(f"{path} looks like TorchScript but cannot be loaded "
                             f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return module, _meta(extra[META_FILE], path)
