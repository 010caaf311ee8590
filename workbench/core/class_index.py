"""A class target checked against a model's classes: one rule and one message everywhere."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np


def checked_class_index(target: Any, classes: int | None) -> int:
    """``target`` as a class index in 0..classes-1 (any index >= 0 when ``classes`` is unknown);
    a ValueError that names the target otherwise."""
    if isinstance(target, (bool, np.bool_)):
        raise ValueError(f"target must be a class index (an integer), got {target!r}")
    try:
        index = operator.index(target)
    except TypeError:
        raise ValueError(f"target must be a class index (an integer), got {target!r}") from None
    if index < 0 or (classes is not None and index >= classes):
        raise ValueError(out_of_range(index, classes))
    return index


def out_of_range(target: int, classes: int | None) -> str:
    if classes is None:
        return f"target {target} is out of range: class indices start at 0"
    return f"target {target} is out of range: the model has {classes} classes ({_span(classes)})"


def _span(classes: int) -> str:
    return "none" if classes <= 0 else "0" if classes == 1 else f"0-{classes - 1}"
