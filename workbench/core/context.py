"""What a method sees when it runs: the model, the image, the device, the target, a cancel flag."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from workbench.core.handle import ModelHandle


class Cancelled(Exception):
    """Raised inside a method when its job was cancelled."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class Progress:
    """Yielded by generator methods: a fraction in [0, 1] and a short message."""
    fraction: float
    message: str = ""


@dataclass
class Partial:
    """Yielded by generator methods: a partial result to show while the work goes on."""
    result: Any


@dataclass
class Context:
    handle: "ModelHandle"
    image: np.ndarray | None = None
    device: Any = "cpu"
    target: int | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    seed: int = 0
    chunk_scale: float = 1.0  # batch sizes are scaled by this; below 1 after a GPU out-of-memory retry

    def batch(self, size: int) -> int:
        """A batch size scaled down after out-of-memory retries (at least 1)."""
        return max(1, int(size * self.chunk_scale))

    def input_tensor(self) -> "torch.Tensor":
        """The image as the model eats it (1xCxHxW on the context's device)."""
        if self.image is None:
            raise ValueError("this method needs an image; open one first")
        return self.handle.preprocess(self.image).to(self.device)

    def resolve_target(self, x: "torch.Tensor | None" = None) -> int:
        """The explicit target, or the model's top prediction for the input."""
        if self.target is not None:
            return int(self.target)
        import torch

        from workbench.core.targets import logits
        x = self.input_tensor() if x is None else x
        with torch.no_grad():
            return int(logits(self.handle.module(x)).argmax(dim=1)[0])
