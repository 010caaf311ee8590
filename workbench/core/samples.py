"""Sample images by name, rendered deterministically from the bundled datasets.

``shapes-N``  one procedural shape, seed N, 128x128
``scene-N``   a procedural scene of 1-4 shapes, seed N, 128x128
``digit-N``   a held-out handwritten digit of class N (0-9), 128x128

Plugins add named samples of their own (``register_sample``).
"""
from __future__ import annotations

import os
import re
from typing import Callable

import numpy as np

from workbench.core.images import ImageError, as_rgb, load_image

SAMPLE_PREFIX = "sample:"
KINDS = ("shapes", "scene", "digit")
_NAME = re.compile(r"^(?P<kind>[a-z]+)-(?P<number>\d+)$")
_KINDS_HELP = ("samples are named shapes-N or scene-N (N = 0, 1, 2, ...) "
               "or digit-0 ... digit-9")


_registered: dict[str, Callable[[], np.ndarray]] = {}


def register_sample(name: str, make: Callable[[], np.ndarray]) -> None:
    """Add a sample image made by ``make()`` (any array ``as_rgb`` accepts) under ``name``."""
    key = name.strip().lower()
    if not key or _NAME.match(key) and _NAME.match(key)["kind"] in KINDS:
        raise ValueError(f"sample name {name!r} is empty or taken by the bundled samples")
    if key in _registered:
        raise ValueError(f"a sample named {name!r} is already registered")
    _registered[key] = make


def unregister_sample(name: str) -> None:
    _registered.pop(name.strip().lower(), None)


def sample_names() -> list[str]:
    """A handful of samples for menus, then the plugins' samples."""
    return ([f"shapes-{i}" for i in range(6)] + [f"scene-{i}" for i in range(4)]
            + [f"digit-{i}" for i in range(10)] + sorted(_registered))


def sample_image(name: str) -> np.ndarray:
    """The sample image called ``name`` as RGB uint8 HxWx3; the same name gives the same pixels."""
    if name.strip().lower() in _registered:
        return as_rgb(_registered[name.strip().lower()](), f"sample {name}")
    match = _NAME.match(name.strip().lower())
    if match is None or match["kind"] not in KINDS:
        raise ImageError(f"unknown sample {name!r}; {_KINDS_HELP}")
    kind, number = match["kind"], int(match["number"])
    if kind == "shapes":
        from workbench.zoo.shapes import render_shape
        image, _label = render_shape(seed=number, size=128)
    elif kind == "scene":
        from workbench.zoo.shapes import render_scene
        image = render_scene(seed=number).image
    else:
        if number > 9:
            raise ImageError(f"unknown sample {name!r}: digits run from digit-0 to digit-9")
        from workbench.zoo.digits import digit_image
        image = digit_image(str(number), split="test")
    return as_rgb(image, f"sample {name}")


def resolve_image(spec: str | os.PathLike) -> np.ndarray:
    """``sample:NAME`` or a path to an image file -> RGB uint8 HxWx3."""
    text = os.fspath(spec)
    if text.lower().startswith(SAMPLE_PREFIX):
        return sample_image(text[len(SAMPLE_PREFIX):])
    return load_image(text)
