"""Model ids -> ModelHandle, without touching the network.

``zoo:NAME``                      a bundled model (``?weights=none`` / ``?weights=PATH`` too)
``torchvision:NAME``              weights from the local torch hub cache
``torchvision:NAME?weights=none`` random init, seed 0
``torchvision:NAME?weights=PATH`` the user's own state dict (.safetensors, .pt, .pth)
``torchvision:DETECTOR?...&min_size=320[&max_size=320]``
                                  a detector resizing its input to this size (quick on a CPU)
``file:PATH``                     TorchScript, a .safetensors whose metadata names its
                                  architecture, or (only when trusted) a pickled module
"""
from __future__ import annotations

import difflib
import json
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD, ModelHandle, Preprocess

TORCHVISION_MODELS = (
    "resnet18", "resnet50", "vgg16", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny",
    "vit_b_16", "fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn", "retinanet_resnet50_fpn",
    "ssdlite320_mobilenet_v3_large", "fcos_resnet50_fpn", "deeplabv3_resnet50", "fcn_resnet50",
    "lraspp_mobilenet_v3_large",
)
# detector options in a model id's query, passed to the builder; SSDs fix their own input size
SIZE_OPTIONS = ("min_size", "max_size")
DETECTION_INPUT = (512, 512)
DEFAULT_FILE_INPUT = (224, 224)
TORCHSCRIPT_META = "workbench.json"
_ID_HELP = "model ids look like zoo:NAME, torchvision:NAME[?weights=none|PATH] or file:PATH"
_TRUST_HINT = ("Load it only if you trust where it came from (trust_pickle=True in the API, "
               "--trust-pickle on the command line, or answer Yes when the workbench asks)")
_WEIGHTS_HINT = ("Save just the weights (model.state_dict()) as .safetensors or .pt; or, if you "
                 "trust the file, load the whole model as file:PATH with trust")
# What torchvision's builders change when they load their own pretrained weights.
_PRETRAINED_OPTIONS = {"googlenet": {"transform_input": True}, "inception_v3": {"transform_input": True}}


class ModelLoadError(ValueError):
    """A model id that cannot be turned into a model, with a message a user understands.

    ``needs_trust`` is set when the file is a pickled module that would load if trusted.
    """

    def __init__(self, message: str, needs_trust: bool = False):
        super().__init__(message)
        self.needs_trust = needs_trust


def load_model(model_id: str, *, trust_pickle: bool = False) -> ModelHandle:
    """The model a model id names, in eval mode on the CPU.

    ``trust_pickle`` allows a ``file:`` id to unpickle a full module, which can run any code
    the file contains: pass it only for a file you trust.
    """
    scheme, colon, rest = model_id.strip().partition(":")
    if not colon or not rest:
        raise ModelLoadError(f"{model_id!r} is not a model id; {_ID_HELP}" + _guess_scheme(model_id))
    scheme = scheme.lower()
    if scheme == "zoo":
        handle = _load_zoo(*_split_weights(rest, model_id))
    elif scheme == "torchvision":
        handle = _load_torchvision(*_split_weights(rest, model_id, SIZE_OPTIONS))
    elif scheme == "file":
        handle = _load_file(Path(rest).expanduser(), trust_pickle)
    else:
        raise ModelLoadError(f"unknown model source {scheme!r} in {model_id!r}; {_ID_HELP}")
    handle.id = model_id.strip()
    handle.module.eval().to("cpu")
    return handle


def catalogue() -> list[dict]:
    """Every bundled model and a curated list of torchvision models, with where their weights are."""
    from workbench.zoo.catalogue import ZOO
    rows = [_catalogue_row(f"zoo:{name}", entry.task, "bundled", entry.weights_path())
            for name, entry in ZOO.items()]
    for name in TORCHVISION_MODELS:
        rows.append(_catalogue_row(f"torchvision:{name}", _torchvision_task(name), "torch hub cache",
                                   hub_weights_path(name)))
    return rows


def hub_weights_path(name: str) -> Path:
    """Where torchvision's default weights for ``name`` sit in the local torch hub cache."""
    from urllib.parse import urlparse
    url = _default_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _catalogue_row(model_id: str, task: str, source: str, path: Path) -> dict:
    present = path.is_file()
    return {"id": model_id, "task": task, "source": source, "weights": str(path),
            "available": present, "status": "available" if present else f"missing: {path}"}


def _split_weights(rest: str, model_id: str, sizes: tuple[str, ...] = ()) -> tuple:
    """(name, weights) from NAME?weights=..., plus a dict of the ``sizes`` options when asked.

    Only ``&`` before a known option separates options, so a weights path may hold ``&``.
    """
    name, question, query = rest.partition("?")
    parts = re.split(r"&(?=(?:%s)=)" % "|".join(("weights",) + sizes), query) if sizes else [query]
    weights, options = None, {}
    for part in parts if question else []:
        key, equals, value = (x.strip() for x in part.partition("="))
        if key == "weights" and equals and value and weights is None:
            weights = value
        elif key in sizes and key not in options and value.isdigit() and int(value) > 0:
            options[key] = int(value)
        else:
            extra = f" (detectors also take {' and '.join(f'&{k}=N' for k in sizes)})" if sizes else ""
            raise ModelLoadError(f"cannot read {part!r} in {model_id!r}: the only option is "
                                 f"?weights=none or ?weights=PATH{extra}")
    return (name.strip(), weights, options) if sizes else (name.strip(), weights)


def _guess_scheme(text: str) -> str:
    name = text.strip()
    if name in _torchvision_names():
        return f" (did you mean torchvision:{name}?)"
    from workbench.zoo.catalogue import ZOO
    return f" (did you mean zoo:{name}?)" if name in ZOO else ""


def _load_zoo(name: str, weights: str | None) -> ModelHandle:
    from workbench.zoo.catalogue import ZOO
    if name not in ZOO:
        raise ModelLoadError(f"no bundled model {name!r}; bundled models: {', '.join(ZOO)}")
    entry = ZOO[name]
    if weights is None:
        try:
            module, source = entry.load(), f"bundled: {entry.weights_path()}"
        except FileNotFoundError as e:
            raise ModelLoadError(str(e)) from None
    elif weights.lower() == "none":
        module, source = _seeded(entry.build), "random init (seed 0)"
    else:
        path = Path(weights).expanduser()
        module, source = entry.build(), f"file: {path}"
        _load_into(module, _read_state_dict(path), str(path), f"zoo:{name}")
    try:
        card = entry.card()
    except FileNotFoundError:
        card = None
    preprocess = Preprocess(Geometry(tuple(entry.input_size), "stretch"), tuple(entry.mean),
                            tuple(entry.std), entry.grayscale)
    return ModelHandle(id=f"zoo:{name}", module=module, task=entry.task, preprocess=preprocess,
                       labels=list(entry.labels), source=source, card=card,
                       latent_dim=entry.extra.get("latent_dim"))


def _torchvision_names() -> dict[str, str]:
    from torchvision import models
    names = {n: "classify" for n in models.list_models(module=models)}
    names.update({n: "detect" for n in models.list_models(module=models.detection)})
    names.update({n: "segment" for n in models.list_models(module=models.segmentation)})
    return names


def _torchvision_task(name: str) -> str:
    names = _torchvision_names()
    if name not in names:
        close = difflib.get_close_matches(name, list(names), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ModelLoadError(f"no torchvision model {name!r}; {hint}the classification, detection "
                             f"and segmentation models of torchvision.models are supported "
                             f"(`workbench models` lists a few)")
    return names[name]


def _default_weights(name: str) -> Any:
    from torchvision import models
    try:
        return models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError, AttributeError):
        raise ModelLoadError(f"torchvision has no pretrained weights for {name!r}") from None


def _load_torchvision(name: str, weights: str | None, sizes: dict[str, int] | None = None) -> ModelHandle:
    task = _torchvision_task(name)
    default = _default_weights(name)
    categories = list(default.meta.get("categories") or [])
    options = {"weights_backbone": None} if task in ("detect", "segment") else {}
    options.update(_size_options(name, task, sizes or {}))

    def build(num_classes: int, **extra: Any) -> nn.Module:
        from torchvision import models
        return models.get_model(name, weights=None, num_classes=num_classes, **options, **extra)

    num_classes = len(categories) or 1000
    if weights is not None and weights.lower() == "none":
        module, source = _seeded(lambda: build(num_classes)), "random init (seed 0)"
    else:
        if weights is None:
            path = hub_weights_path(name)
            if not path.is_file():
                raise ModelLoadError(f"the weights of torchvision:{name} are not in the local torch "
                                     f"hub cache; expected {path}. Copy the file there, or use "
                                     f"torchvision:{name}?weights=none for random weights")
            extra, source = _PRETRAINED_OPTIONS.get(name, {}), f"torch hub cache: {path}"
        else:
            path = Path(weights).expanduser()
            extra, source = {}, f"file: {path}"
        state = _read_state_dict(path)
        if any(k.startswith("aux_classifier.") for k in state):
            extra = {**extra, "aux_loss": True}
        module, num_classes = _fit_num_classes(lambda n: build(n, **extra), num_classes, state,
                                               str(path), f"torchvision:{name}")
    labels = categories if len(categories) == num_classes else [f"class_{i}" for i in range(num_classes)]
    return ModelHandle(id=f"torchvision:{name}", module=module, task=task,
                       preprocess=_torchvision_preprocess(task, default, options.get("min_size")),
                       labels=labels, source=source)


def _size_options(name: str, task: str, sizes: dict[str, int]) -> dict[str, int]:
    if sizes and task != "detect":
        raise ModelLoadError(f"min_size and max_size only apply to detection models, not to {name}")
    if sizes and name.startswith("ssd"):
        raise ModelLoadError(f"{name} resizes every image to its own fixed size; "
                             f"min_size and max_size cannot be set for it")
    return dict(sizes)


def _fit_num_classes(build: Callable[[int], nn.Module], num_classes: int, state: dict,
                     origin: str, arch: str) -> tuple[nn.Module, int]:
    """Build with the default class count, or with the one the state dict's head implies."""
    model = build(num_classes)
    mismatched = _shape_mismatches(model, state)
    for candidate in sorted({int(state[k].shape[0]) for k in mismatched if state[k].ndim}):
        try:
            refit = build(candidate)
        except (TypeError, ValueError, RuntimeError):
            continue
        if not _shape_mismatches(refit, state):
            model, num_classes = refit, candidate
            break
    _load_into(model, state, origin, arch)
    return model, num_classes


def _shape_mismatches(model: nn.Module, state: dict) -> list[str]:
    own = model.state_dict()
    return [k for k, v in state.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]


def _torchvision_preprocess(task: str, weights: Any, min_size: int | None = None) -> Preprocess:
    transform = weights.transforms()
    mean = tuple(getattr(transform, "mean", IMAGENET_MEAN))
    std = tuple(getattr(transform, "std", IMAGENET_STD))
    if task == "detect":
        # the detectors normalise and resize inside the module; they eat [0, 1] pixels
        return Preprocess(Geometry((min_size, min_size) if min_size else DETECTION_INPUT, "stretch"))
    if task == "segment":
        side = int(transform.resize_size[0])
        return Preprocess(Geometry((side, side), "stretch"), mean, std)
    crop, resize = int(transform.crop_size[0]), int(transform.resize_size[0])
    return Preprocess(Geometry((crop, crop), "shorter", resize, (crop, crop)), mean, std)


def _load_file(path: Path, trust_pickle: bool) -> ModelHandle:
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        return _load_described_safetensors(path)
    if _is_torchscript(path):
        module, meta, kind = *_load_torchscript(path), "TorchScript"
    else:
        obj = _torch_load(path, trust_pickle, _TRUST_HINT)
        if _as_state_dict(obj) is not None:
            raise ModelLoadError(f"{path} holds only weights (a state dict) and does not say which "
                                 f"network they belong to; load it as torchvision:ARCH?weights={path} "
                                 f"or zoo:NAME?weights={path}")
        if not isinstance(obj, nn.Module):
            raise ModelLoadError(f"{path} holds a {type(obj).__name__}, not a model")
        module, meta, kind = obj, {}, "pickled module"
    notes = []
    if "input_size" not in meta:
        notes.append(f"{path.name} does not say what input size it expects; "
                     f"assuming {DEFAULT_FILE_INPUT[0]}x{DEFAULT_FILE_INPUT[1]}")
    handle = ModelHandle(id=f"file:{path}", module=module, task="classify",
                         preprocess=Preprocess(Geometry(DEFAULT_FILE_INPUT, "stretch"),
                                               IMAGENET_MEAN, IMAGENET_STD),
                         source=f"{kind}: {path}", card={"notes": notes} if notes else None)
    return _apply_meta(handle, meta, path)


def _load_described_safetensors(path: Path) -> ModelHandle:
    from safetensors import safe_open
    try:
        with safe_open(str(path), "pt") as f:
            meta = dict(f.metadata() or {})
    except Exception as e:  # safetensors raises its own error types for damaged files
        raise ModelLoadError(f"{path} is not a valid safetensors file ({e})") from None
    arch = meta.get("architecture", "").strip()
    if not arch.startswith(("torchvision:", "zoo:")) or "?" in arch:
        found = f"says architecture={arch!r}" if arch else "has no 'architecture' in its metadata"
        raise ModelLoadError(f"{path} {found}; load it as torchvision:ARCH?weights={path} or "
                             f"zoo:NAME?weights={path}, or save it with metadata "
                             f"architecture='torchvision:NAME' or 'zoo:NAME'")
    handle = load_model(f"{arch}?weights={path}")
    return _apply_meta(handle, {k: _json_or_text(v) for k, v in meta.items()}, path)


def _apply_meta(handle: ModelHandle, meta: dict, path: Path) -> ModelHandle:
    """Task, labels, input size, mean and std that a file states about itself."""
    from workbench.core.registry import TASKS
    try:
        if "task" in meta:
            if meta["task"] not in TASKS:
                raise ValueError(f"task {meta['task']!r} is not one of {', '.join(TASKS)}")
            handle.task = meta["task"]
        if "labels" in meta:
            if not isinstance(meta["labels"], list):
                raise ValueError("labels must be a JSON list of class names")
            handle.labels = [str(x) for x in meta["labels"]]
        pre = handle.preprocess
        geometry = Geometry(_input_size(meta["input_size"]), "stretch") if "input_size" in meta else pre.geometry
        handle.preprocess = Preprocess(
            geometry, tuple(float(m) for m in meta.get("mean", pre.mean)),
            tuple(float(s) for s in meta.get("std", pre.std)),
            str(meta.get("grayscale", pre.grayscale)).lower() in ("true", "1", "yes"))
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"the metadata in {path} cannot be used: {e}") from None
    return handle


def _input_size(value: Any) -> tuple[int, int]:
    size = [value, value] if isinstance(value, (int, float)) else list(value)
    if len(size) != 2 or not all(int(s) > 0 for s in size):
        raise ValueError(f"input_size {value!r} is not a size like 224 or [224, 224]")
    return int(size[0]), int(size[1])


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        if "," in value:
            return [part.strip() for part in value.split(",")]
        return value



def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelLoadError(f"weights file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except Exception as e:  # safetensors raises its own error types for damaged files
            raise ModelLoadError(f"{path} is not a valid safetensors file ({e})") from None
    obj = _torch_load(path, False, _WEIGHTS_HINT)
    state = _as_state_dict(obj)
    if state is None:
        raise ModelLoadError(f"{path} holds a {type(obj).__name__}, not a state dict "
                             f"(a mapping from parameter names to tensors)")
    return state


def _as_state_dict(obj: Any) -> dict[str, torch.Tensor] | None:
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


def _torch_load(path: Path, trust_pickle: bool, refusal_hint: str) -> Any:
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


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith("/constants.pkl") for n in archive.namelist())


def _load_torchscript(path: Path) -> tuple[nn.Module, dict]:
    extra = {TORCHSCRIPT_META: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecation notice of torch.jit
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError) as e:
        raise ModelLoadError(f"{path} looks like TorchScript but cannot be loaded "
                             f"({str(e).splitlines()[0]})") from None
    try:
        meta = json.loads(extra[TORCHSCRIPT_META]) if extra[TORCHSCRIPT_META] else {}
    except ValueError:
        raise ModelLoadError(f"the {TORCHSCRIPT_META} stored in {path} is not valid JSON") from None
    return module, meta


def _load_into(model: nn.Module, state: dict, origin: str, arch: str) -> None:
    mismatched = _shape_mismatches(model, state)
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


def _seeded(build: Callable[[], nn.Module]) -> nn.Module:
    """Build with seed 0 so random weights are the same every time, leaving the global RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build()
