"""What a classifier predicts, and the score an attribution method explains.

A classifier's forward may return logits, a tuple whose first item is the logits
(e.g. Inception with aux heads) or an object with a ``logits`` attribute. The target
score is always the logit of the target class, as captum's ``target=int`` and
pytorch-grad-cam's ``ClassifierOutputTarget`` define it.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


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
        raise ValueError(f"target class {target} is out of range: the model has {out.shape[1]} classes")
    return out[:, target]


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
