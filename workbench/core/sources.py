"""Model ids -> ModelHandle, without touching the network.

``zoo:NAME``                      a bundled model (``?weights=none`` / ``?weights=PATH`` too)
``torchvision:NAME``              weights from the local torch hub cache
``torchvision:NAME?weights=none`` random init, seed 0
``torchvision:NAME?weights=PATH`` the user's own state dict (.safetensors, .pt, .pth)
``torchvision:DETECTOR?...&min_size=320[&max_size=320]``
                                  a detector resizing its input to this size (quick on a CPU)
``file:PATH[?input=SIZE]``        TorchScript, a torch.export program (.pt2), a .safetensors
                                  whose metadata names its architecture, or (only when
                                  trusted) a pickled module; see ``model_files``

Sizes from an id or a file's metadata are bounded (``model_meta.MIN_SIDE..MAX_SIDE`` px).
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from workbench.core.checkpoints import ModelLoadError, load_into, read_state_dict, shape_mismatches
from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD, ModelHandle, Preprocess
from workbench.core.model_files import DEFAULT_FILE_INPUT, load_file, split_file_id
from workbench.core.model_meta import apply_meta, checked_side, json_or_text, stated_size

TORCHVISION_MODELS = (
    "resnet18", "resnet50", "vgg16", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny",
    "vit_b_16", "fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn", "retinanet_resnet50_fpn",
    "ssdlite320_mobilenet_v3_large", "fcos_resnet50_fpn", "deeplabv3_resnet50", "fcn_resnet50",
    "lraspp_mobilenet_v3_large",
)
# detector options in a model id's query, passed to the builder; SSDs fix their own input size
SIZE_OPTIONS = ("min_size", "max_size")
DETECTION_INPUT = (512, 512)
_ID_HELP = "model ids look like zoo:NAME, torchvision:NAME[?weights=none|PATH] or file:PATH"
# What torchvision's builders change when they load their own pretrained weights.
_PRETRAINED_OPTIONS = {"googlenet": {"transform_input": True}, "inception_v3": {"transform_input": True}}
__all__ = ["ModelLoadError", "load_model", "catalogue", "hub_weights_path", "DEFAULT_FILE_INPUT"]


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
        handle = _load_file_id(*split_file_id(rest, model_id), trust_pickle)
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
        elif key in sizes and key not in options and value.isdigit():
            options[key] = checked_side(key, int(value), repr(model_id))
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
        load_into(module, read_state_dict(path), str(path), f"zoo:{name}")
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
        state = read_state_dict(path)
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
    mismatched = shape_mismatches(model, state)
    for candidate in sorted({int(state[k].shape[0]) for k in mismatched if state[k].ndim}):
        try:
            refit = build(candidate)
        except (TypeError, ValueError, RuntimeError):
            continue
        if not shape_mismatches(refit, state):
            model, num_classes = refit, candidate
            break
    load_into(model, state, origin, arch)
    return model, num_classes


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


def _load_file_id(path: Path, options: dict, trust_pickle: bool) -> ModelHandle:
    if path.suffix.lower() != ".safetensors" or not path.is_file():
        return load_file(path, trust_pickle, options)
    handle = _load_described_safetensors(path)
    if "input" in options:
        pre = handle.preprocess
        handle.preprocess = Preprocess(Geometry(options["input"], "stretch"), pre.mean, pre.std, pre.grayscale)
    return handle


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
    described = {k: json_or_text(v) for k, v in meta.items()}
    stated_size(described, path)  # a bad size is refused before the model is built
    return apply_meta(load_model(f"{arch}?weights={path}"), described, path)


def _seeded(build: Callable[[], nn.Module]) -> nn.Module:
    """Build with seed 0 so random weights are the same every time, leaving the global RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build()
