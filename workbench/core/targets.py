"""What a classifier predicts, and the score an attribution method explains.

A classifier's forward may return logits, a tuple whose first item is the logits
(e.g. Inception with aux heads) or an object with a ``logits`` attribute. The target
score is always the logit of the target class, as captum's ``target=int`` and
pytorch-grad-cam's ``ClassifierOutputTarget`` define it.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch

from workbench.core.class_index import checked_class_index, out_of_range

# module -> the number of logits it returns (found once, by running the handle's example input)
_OUTPUT_WIDTHS: "weakref.WeakKeyDictionary[torch.nn.Module, int | None]" = weakref.WeakKeyDictionary()


def logits(output: Any) -> torch.Tensor:
    """The (N, classes) logits out of whatever a classifier's forward returned."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    found = getattr(output, "logits", None)
    if isinstance(found, torch.Tensor):
        return found
    raise TypeError(f"expected the model to return logits, got {type(output).__name__}")


def target_score(output: Any, target: int) -> torch.Tensor:
    """The (N,) logits of class ``target`` for every item of the batch."""
    out = logits(output)
    if out.dim() != 2:
        raise ValueError(f"expected (N, classes) logits, got shape {tuple(out.shape)}")
    if not 0 <= target < out.shape[1]:
        raise ValueError(out_of_range(target, out.shape[1]))
    return out[:, target]


def check_target(handle, target: Any) -> int | None:
    """The target as a class index, refused before any method runs when it is not one of the model's.

    ``None`` (the top prediction) passes. A negative index, or one past the last class (counted from
    the labels, else from the classifier's output), is a ValueError that names the target.
    """
    if target is None:
        return None
    return checked_class_index(target, class_count(handle))


def class_count(handle) -> int | None:
    """How many classes the model tells apart: its labels, else a classifier's logits; None if unknown."""
    if handle.labels:
        return len(handle.labels)
    if handle.task != "classify":
        return None
    module = handle.module
    if module not in _OUTPUT_WIDTHS:
        _OUTPUT_WIDTHS[module] = _output_width(handle)
    return _OUTPUT_WIDTHS[module]


def _output_width(handle) -> int | None:
    try:
        with torch.no_grad():
            out = logits(handle.module(handle.example_input()))
    except Exception:  # a model that cannot run on its example says so when the method runs it
        return None
    return int(out.shape[1]) if out.dim() == 2 else None


def topk(handle, image_or_tensor: np.ndarray | torch.Tensor, k: int = 5) -> list[tuple[int, str, float]]:
    """The k most probable classes (softmax of the logits) as (index, label, probability), best first.

    Takes an RGB uint8 image (preprocessed by the handle) or a tensor the model eats
    (CxHxW or 1xCxHxW); it runs on the device the model is on.
    """
    if isinstance(image_or_tensor, np.ndarray):
        x = handle.preprocess(image_or_tensor)
    else:
        x = image_or_tensor if image_or_tensor.dim() == 4 else image_or_tensor.unsqueeze(0)
    x = x.to(handle.device)
    with torch.no_grad():
        probs = torch.softmax(logits(handle.module(x))[0].float(), dim=0)
    values, indices = probs.topk(max(0, min(int(k), probs.numel())))
    return [(int(i), handle.label(int(i)), float(v)) for v, i in zip(values.cpu(), indices.cpu())]
