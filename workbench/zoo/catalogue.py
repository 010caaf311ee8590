"""The bundled models: how to build, feed and load each one.

Weights live in ``workbench/resources/models/NAME.safetensors`` with a ``NAME.json`` model
card beside them; ``workbench train NAME`` (``workbench.zoo.training``) rebuilds both.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from workbench.zoo import nets
from workbench.zoo.digits import DIGIT_CLASSES
from workbench.zoo.shapes import SHAPE_CLASSES
from workbench.zoo.textures import TEXTURE_CLASSES

MODELS_DIR = Path(__file__).resolve().parent.parent / "resources" / "models"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    task: str
    build: Callable[[], nn.Module]
    labels: list[str]
    input_size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    grayscale: bool
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    def weights_path(self, models_dir: Path | None = None) -> Path:
        return Path(models_dir or MODELS_DIR) / f"{self.name}.safetensors"

    def card_path(self, models_dir: Path | None = None) -> Path:
        return Path(models_dir or MODELS_DIR) / f"{self.name}.json"

    def _missing(self, path: Path) -> FileNotFoundError:
        return FileNotFoundError(f"no bundled file for zoo:{self.name} at {path}; "
                                 f"run `workbench train {self.name}` to make it")

    def load(self, models_dir: Path | None = None) -> nn.Module:
        """The model with its bundled weights (strict), in eval mode, on the CPU."""
        from safetensors.torch import load_file
        path = self.weights_path(models_dir)
        if not path.is_file():
            raise self._missing(path)
        model = self.build()
        model.load_state_dict(load_file(str(path)), strict=True)
        return model.eval()

    def card(self, models_dir: Path | None = None) -> dict:
        path = self.card_path(models_dir)
        if not path.is_file():
            raise self._missing(path)
        return json.loads(path.read_text(encoding="utf-8"))

    def to_input(self, images: np.ndarray) -> torch.Tensor:
        """uint8 images already at ``input_size`` -> the normalised float batch (NxCxhxw).

        Accepts (N, h, w, 3) RGB or, for grayscale models, (N, h, w) gray. RGB is turned into
        gray with the ITU-R 601 luma weights, after scaling to [0, 1].
        """
        x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
        if x.ndim == 3:
            x = x.unsqueeze(-1)
        if tuple(x.shape[1:3]) != tuple(self.input_size):
            raise ValueError(f"{self.name} eats {self.input_size} images, got {tuple(x.shape[1:3])}")
        x = x.permute(0, 3, 1, 2)
        if self.grayscale and x.shape[1] == 3:
            x = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        elif not self.grayscale and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x - mean) / std


ZOO: dict[str, ZooEntry] = {}


def register(entry: ZooEntry) -> ZooEntry:
    ZOO[entry.name] = entry
    return entry


register(ZooEntry(
    name="shapes-cnn", task="classify",
    build=lambda: nets.ShapesCNN(num_classes=len(SHAPE_CLASSES)),
    labels=list(SHAPE_CLASSES), input_size=(64, 64),
    mean=(0.390, 0.377, 0.374), std=(0.226, 0.200, 0.215), grayscale=False,
    description="Classifies one procedural shape (circle, square, triangle, star, hexagon, cross)"))


def _build_shapes_vit() -> nn.Module:
    from workbench.zoo.vit import shapes_vit  # torchvision is only needed once it is built
    return shapes_vit(num_classes=len(SHAPE_CLASSES))


register(ZooEntry(
    name="shapes-vit", task="classify", build=_build_shapes_vit,
    labels=list(SHAPE_CLASSES), input_size=(64, 64),
    mean=ZOO["shapes-cnn"].mean, std=ZOO["shapes-cnn"].std, grayscale=False,
    description="Small ViT (8x8 patches, 4 layers, 4 heads) on the shapes-cnn data"))


register(ZooEntry(
    name="digits-cnn", task="classify",
    build=lambda: nets.DigitsCNN(num_classes=len(DIGIT_CLASSES)),
    labels=list(DIGIT_CLASSES), input_size=(32, 32),
    mean=(0.306,), std=(0.324,), grayscale=True,
    description="Classifies scikit-learn's handwritten digits, upsampled to 32x32 grayscale"))


register(ZooEntry(
    name="textures-cnn", task="classify",
    build=lambda: nets.TexturesCNN(num_classes=len(TEXTURE_CLASSES)),
    labels=list(TEXTURE_CLASSES), input_size=(64, 64),
    mean=(0.430, 0.373, 0.353), std=(0.239, 0.208, 0.210), grayscale=False,
    description="Names the scikit-image photograph a 64x64 crop comes from; an 11x11 first "
                "layer of oriented edges and colour blobs from a sparse autoencoder"))


def names() -> list[str]:
    return list(ZOO)


def get(name: str) -> ZooEntry:
    key = name[4:] if name.startswith("zoo:") else name
    if key not in ZOO:
        raise KeyError(f"no bundled model {name!r}; bundled: {', '.join(ZOO)}")
    return ZOO[key]


def load(name: str) -> nn.Module:
    return get(name).load()


def card(name: str) -> dict:
    """The model card (JSON) of a bundled model."""
    return get(name).card()


def _detector_builder(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from workbench.zoo.detection_nets import BUILDERS  # torchvision's detection stack is heavy
        return BUILDERS[name]()
    return build


# The detectors eat float RGB in [0, 1] (mean 0, std 1 here) and normalise inside; their
# label 0 is background, as in torchvision's detection models.
for _name, _masks, _description in (
        ("shapes-maskrcnn", True, "Mask R-CNN: boxes and instance masks of shapes in 128x128 scenes"),
        ("shapes-fasterrcnn", False, "Faster R-CNN: the shapes Mask R-CNN's box path, without masks"),
        ("shapes-fcos", False, "FCOS: one-stage, anchor-free boxes of shapes in 128x128 scenes"),
        ("shapes-detr", False, "DETR: set prediction by 10 object queries, no anchors or NMS"),
        ("shapes-yolo", False, "YOLO: one-stage, an 8x8 grid of cells, 2 boxes and class scores each"),
        ("shapes-rfcn", False, "R-FCN: the Faster R-CNN's RPN with a position-sensitive 3x3 head"),
        ("shapes-rcnn", False, "R-CNN: a small CNN on each warped selective-search region"),
        ("shapes-sppnet", False, "SPPNet: one CNN forward per image, a spatial pyramid per region")):
    register(ZooEntry(
        name=_name, task="detect", build=_detector_builder(_name),
        labels=["__background__", *SHAPE_CLASSES], input_size=(128, 128),
        mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), grayscale=False,
        description=_description, extra={"masks": _masks}))


def _register_segmenter() -> None:
    from workbench.zoo.segmentation_data import SEGMENTATION_LABELS
    from workbench.zoo.segmentation_nets import ShapesUNet
    classifier = ZOO["shapes-cnn"]  # the encoder starts from it, so it eats the same input
    register(ZooEntry(
        name="shapes-segmenter", task="segment", build=lambda: ShapesUNet(len(SEGMENTATION_LABELS)),
        labels=list(SEGMENTATION_LABELS), input_size=(128, 128), mean=classifier.mean,
        std=classifier.std, grayscale=False,
        description="U-Net: background and the six shapes, per pixel, in 128x128 scenes"))


_register_segmenter()


def _register_generative() -> None:
    from workbench.zoo.generative import SPECS
    for spec in SPECS.values():
        register(ZooEntry(**spec.zoo_fields()))


_register_generative()


def _build_captioner() -> nn.Module:
    from workbench.zoo.captioner import ShowAttendTell
    return ShowAttendTell()


def _register_captioner() -> None:
    from workbench.zoo.captioner import VOCABULARY
    register(ZooEntry(
        name="shapes-captioner", task="caption", build=_build_captioner,
        labels=list(VOCABULARY), input_size=(128, 128), mean=ZOO["shapes-cnn"].mean,
        std=ZOO["shapes-cnn"].std, grayscale=False,
        description="Show, Attend and Tell: captions 128x128 scenes, soft attention per word"))


_register_captioner()


def _build_inpainter() -> nn.Module:
    from workbench.zoo.inpaint import ContextEncoder
    return ContextEncoder()


register(ZooEntry(
    name="digits-inpaint", task="inpaint", build=_build_inpainter,
    labels=[], input_size=(32, 32), mean=(0.0,), std=(1.0,), grayscale=True,
    description="Context encoder: fills a masked hole in a 32x32 digit (reconstruction + adversarial loss)"))


def _build_super_resolver() -> nn.Module:
    from workbench.zoo.superres import SuperResolver
    return SuperResolver()


for _name, _description in (
        ("sr-pixel", "4x super-resolution of shapes and digits, L1 pixel loss"),
        ("sr-gan", "4x super-resolution, SRGAN-style: pixel + perceptual + adversarial loss")):
    register(ZooEntry(
        name=_name, task="superres", build=_build_super_resolver, labels=[], input_size=(16, 16),
        mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), grayscale=False, description=_description,
        extra={"scale": 4}))
