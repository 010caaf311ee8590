"""What a model file or id says about the model's input, checked before anything is allocated.

Sizes come from a file's metadata (``input_size``), from a ``file:`` id's ``?input=`` option,
from the input shape a torch.export program was exported with, or from a detector's
``min_size`` / ``max_size`` options; each is bounded to ``MIN_SIDE..MAX_SIDE`` pixels.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from workbench.core.checkpoints import ModelLoadError
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess

MIN_SIDE, MAX_SIDE = 8, 4096
CHANNELS = (1, 3)  # what preprocessing makes of an RGB image: grey or RGB


def side_error(option: str, value: Any) -> str | None:
    """Why ``value`` is not an image side the workbench takes, or None when it is one."""
    try:
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None:
        return f"{option} {value!r} is not a number of pixels"
    if not math.isfinite(number) or number != int(number) or not MIN_SIDE <= number <= MAX_SIDE:
        return f"{option} {str(value).strip()} is not a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}"
    return None


def checked_side(option: str, value: Any, origin: str) -> int:
    """``value`` as an image side, or a ModelLoadError naming the option and where it came from."""
    problem = side_error(option, value)
    if problem:
        raise ModelLoadError(f"{problem} (in {origin})")
    return int(float(value))


def input_size(value: Any, option: str = "input_size") -> tuple[int, int]:
    """(h, w) from 224, "224", [224, 224], "224x160" or "224,160"; ValueError when unusable."""
    given = value
    if isinstance(value, str):
        parts = [p.strip() for p in value.lower().replace("x", ",").split(",")]
        value = parts[0] if len(parts) == 1 else parts
    size = [value, value] if isinstance(value, (int, float, str)) and not isinstance(value, bool) \
        else list(value) if isinstance(value, (list, tuple)) else None
    if size is None or len(size) != 2:
        raise ValueError(f"{option} {given!r} is not a size like 224 or [224, 224]")
    for side in size:
        problem = side_error(option, side)
        if problem:
            raise ValueError(problem)
    return int(float(size[0])), int(float(size[1]))


def stated_size(meta: dict, path: Path) -> tuple[int, int] | None:
    """The ``input_size`` a file's metadata states, checked; None when it states none."""
    try:
        return input_size(meta["input_size"]) if "input_size" in meta else None
    except ValueError as e:
        raise ModelLoadError(f"the metadata in {path} cannot be used: {e}") from None


def apply_meta(handle: ModelHandle, meta: dict, path: Path, channels: int | None = None) -> ModelHandle:
    """Task, labels, input size, channels, mean and std that a file states about itself.

    ``channels`` is what the model itself shows it eats (its first conv's input channels, or
    an exported program's input shape); it decides grey or RGB unless the metadata does.
    """
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
        geometry = Geometry(input_size(meta["input_size"]), "stretch") if "input_size" in meta else pre.geometry
        grayscale = _grayscale(meta, channels, pre.grayscale)
        mean, std = _per_channel(meta, "mean", pre.mean), _per_channel(meta, "std", pre.std)
        if any(s <= 0 for s in std):
            raise ValueError(f"std {list(std)} must be above zero")
        handle.preprocess = Preprocess(geometry, mean, std, grayscale)
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"the metadata in {path} cannot be used: {e}") from None
    return handle


def _grayscale(meta: dict, channels: int | None, default: bool) -> bool:
    if "channels" in meta:
        if str(meta["channels"]) not in ("1", "3"):
            raise ValueError(f"channels {meta['channels']!r} must be 1 (grey) or 3 (RGB)")
        return str(meta["channels"]) == "1"
    if "grayscale" in meta:
        return str(meta["grayscale"]).lower() in ("true", "1", "yes")
    if channels is not None and channels not in CHANNELS:
        raise ValueError(f"the model takes {channels}-channel input; the workbench feeds 1 (grey) "
                         f"or 3 (RGB) channels")
    return default if channels is None else channels == 1


def _per_channel(meta: dict, key: str, default: tuple[float, ...]) -> tuple[float, ...]:
    if key not in meta:
        return tuple(default)
    value = meta[key]
    values = [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else list(value)
    numbers = tuple(float(v) for v in values)
    if len(numbers) not in (1, 3):
        raise ValueError(f"{key} {values} needs 1 value or 3 (one per RGB channel; a grey model uses the first)")
    return numbers


def json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        if "," in value:
            return [part.strip() for part in value.split(",")]
        return value
