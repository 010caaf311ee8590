"""One type wraps every model: module, task, preprocess, labels, layers, geometry."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.hooks import supports_forward_hooks

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LayerInfo:
    name: str
    type: str
    output_shape: tuple[int, ...] | None
    is_conv: bool


@dataclass
class Preprocess:
    """RGB uint8 HxWx3 -> the exact float tensor (1xCxhxw) the model eats."""
    geometry: Geometry
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    grayscale: bool = False

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        import cv2
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 HxWx3 image, got {img.dtype} {img.shape}")
        g = self.geometry
        H, W = img.shape[:2]
        if g.resize == "stretch":
            h, w = g.input_size
            interp = cv2.INTER_AREA if h < H or w < W else cv2.INTER_LINEAR
            out = cv2.resize(img, (w, h), interpolation=interp)
        else:
            s = g.resize_to / min(H, W)
            rh, rw = round(H * s), round(W * s)
            interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
            out = cv2.resize(img, (rw, rh), interpolation=interp)
            ch, cw = g.crop or (rh, rw)
            top, left = int(round((rh - ch) / 2.0)), int(round((rw - cw) / 2.0))
            out = out[top:top + ch, left:left + cw]
        x = torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1).contiguous().float().div_(255.0)
        if self.grayscale:
            x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)
        mean = torch.tensor(self.mean[: x.shape[0]]).view(-1, 1, 1)
        std = torch.tensor(self.std[: x.shape[0]]).view(-1, 1, 1)
        return ((x - mean) / std).unsqueeze(0)

    def to_dict(self) -> dict:
        return {"geometry": self.geometry.to_dict(), "mean": list(self.mean), "std": list(self.std),
                "grayscale": self.grayscale}


@dataclass
class ModelHandle:
    id: str
    module: nn.Module
    task: str
    preprocess: Preprocess
    labels: list[str] = field(default_factory=list)
    source: str = ""
    card: dict[str, Any] | None = None
    latent_dim: int | None = None  # generators eat (1, latent_dim) latents instead of images
    layer_types: dict[str, str] | None = None  # layer -> class name, where the module's own classes hide it
    _layers: list[LayerInfo] | None = field(default=None, repr=False)

    @property
    def geometry(self) -> Geometry:
        return self.preprocess.geometry

    @property
    def input_size(self) -> tuple[int, int]:
        return self.geometry.input_size

    @property
    def device(self) -> torch.device:
        p = next(self.module.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def to(self, device: Any) -> "ModelHandle":
        self.module.to(device)
        return self

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)

    def class_index(self, target: str | int) -> int:
        """A class index from an index or a label name."""
        if isinstance(target, int) or (isinstance(target, str) and target.strip().lstrip("-").isdigit()):
            return int(target)
        names = [n.lower() for n in self.labels]
        if target.lower() in names:
            return names.index(target.lower())
        raise ValueError(f"unknown class {target!r}; classes: {', '.join(self.labels[:20])}"
                         + (" ..." if len(self.labels) > 20 else ""))

    def layers(self) -> list[LayerInfo]:
        """Every named submodule with its output shape on a dummy input (None for TorchScript)."""
        if self._layers is None:
            self._layers = list_layers(self.module, self.example_input(), self.layer_types)
        return self._layers

    def conv_layers(self) -> list[str]:
        return [l.name for l in self.layers() if l.is_conv]

    def example_input(self) -> torch.Tensor:
        if self.task == "generate" and self.latent_dim:
            return torch.zeros(1, self.latent_dim, device=self.device)
        c = 1 if self.preprocess.grayscale else 3
        return torch.zeros(1, c, *self.input_size, device=self.device)

    def layer(self, name: str) -> nn.Module:
        mods = dict(self.module.named_modules())
        if name not in mods or not name:
            raise ValueError(f"no layer {name!r} in {self.id}; see the model's layer list")
        return mods[name]


def list_layers(module: nn.Module, example: torch.Tensor,
                types: dict[str, str] | None = None) -> list[LayerInfo]:
    """Every named submodule, its class name and, where forward hooks work, its output shape.

    A TorchScript module takes no hooks: its layers are listed without shapes.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    named = [(n, m) for n, m in module.named_modules() if n]
    if supports_forward_hooks(module):
        shapes = _output_shapes(module, named, example)
    listed = []
    for n, m in named:
        kind = (types or {}).get(n) or module_type(m)
        listed.append(LayerInfo(n, kind, shapes.get(n), isinstance(m, nn.modules.conv._ConvNd) or is_conv_type(kind)))
    return listed


def module_type(module: nn.Module) -> str:
    """The class name a layer was written as (a TorchScript module keeps it as ``original_name``)."""
    if isinstance(module, torch.jit.ScriptModule):
        return str(getattr(module, "original_name", type(module).__name__))
    return type(module).__name__


def is_conv_type(name: str) -> bool:
    return bool(_CONV.fullmatch(name))


_CONV = re.compile(r"(Lazy)?Conv(Transpose)?[123]d")


def _output_shapes(module: nn.Module, named: list[tuple[str, nn.Module]],
                   example: torch.Tensor) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []

    def hook_for(name: str):
        def hook(_m, _i, out):
            if isinstance(out, torch.Tensor):
                shapes[name] = tuple(out.shape)
        return hook

    try:
        for n, m in named:
            if supports_forward_hooks(m):  # a TorchScript part inside a Python model has none
                handles.append(m.register_forward_hook(hook_for(n)))
        was_training = module.training
        module.eval()
        with torch.no_grad():
            module(example)
        module.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return shapes
