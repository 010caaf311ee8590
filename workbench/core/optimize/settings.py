"""What the three input-optimising methods share: the regulariser fields of their Params, the seeded
generator, and what a classifier makes of the images they produce."""
from __future__ import annotations

from dataclasses import field
from typing import Any

import numpy as np
import torch

from workbench.core.optimize.parametrisation import ModelInput
from workbench.core.optimize.regularise import PRESETS_ORDER, Regularisers, preset
from workbench.core.params import param

PRESET = "preset"     # how a form shows a regulariser left to the preset (the bottom of its range)


# the regulariser fields of each method's Params (``decay: float = regulariser("decay")``): a preset, and
# any one of its values overridden (the bottom of each range, -1, keeps the preset's)
REGULARISER_FIELDS: dict[str, tuple[Any, dict]] = {
    "preset": ("medium", param("Preset", choices=PRESETS_ORDER,
                               help="regularisers from none to strong; the fields below override it")),
    "decay": (-1.0, param("L2 decay", range=(-1.0, 0.5), step=0.001, at_minimum=PRESET,
                          help="share of the way to grey after each step")),
    "blur_every": (-1, param("Blur every", range=(-1, 1000), step=1, at_minimum=PRESET,
                             help="steps between Gaussian blurs; 0: never")),
    "blur_sigma": (-1.0, param("Blur sigma", range=(-1.0, 10.0), step=0.1, at_minimum=PRESET, help="in pixels")),
    "jitter": (-1.0, param("Jitter", range=(-1.0, 0.5), step=0.01, at_minimum=PRESET,
                           help="largest random shift before each step, as a share of the image's side")),
    "tv": (-1.0, param("Total variation", range=(-1.0, 100.0), step=0.01, at_minimum=PRESET,
                       help="weight of the penalty on differences between neighbouring pixels")),
    "scale": (-1.0, param("Zoom", range=(-1.0, 0.9), step=0.01, at_minimum=PRESET,
                          help="largest random zoom before each step (0.1: 0.9x to 1.1x)")),
}


def regulariser(name: str, default: Any = None) -> Any:
    """A dataclass field for one regulariser setting (``default`` in place of the shared one)."""
    shared, metadata = REGULARISER_FIELDS[name]
    return field(default=shared if default is None else default, metadata=metadata)


def regularisers(p: Any) -> Regularisers:
    return preset(p.preset).overridden(decay=p.decay, blur_every=p.blur_every, blur_sigma=p.blur_sigma,
                                       jitter=p.jitter, tv=p.tv, scale=p.scale)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def class_probabilities(handle, images: np.ndarray, device: Any) -> np.ndarray | None:
    """(N, classes) softmax of a classifier on (N, H, W, 3) [0, 1] images at its input size; None otherwise."""
    if handle.task != "classify" or len(images) == 0:
        return None
    from workbench.core.targets import logits
    to_input = ModelInput(handle.preprocess, device)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).to(device)
    size = tuple(handle.input_size)
    if tuple(x.shape[-2:]) != size:
        x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        return logits(handle.module(to_input(x))).float().softmax(dim=1).cpu().numpy()


def image_tensor(image: np.ndarray, device: Any, size: tuple[int, int] | None = None) -> torch.Tensor:
    """An RGB uint8 image as (1, 3, H, W) in [0, 1], resized to ``size`` (h, w) when given."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255).unsqueeze(0)
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        x = torch.nn.functional.interpolate(x, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return x.to(device)
