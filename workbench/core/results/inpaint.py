"""Inpainting: an image with a hole, what filled it and the losses of the fill.

Every picture is at the model's resolution, grey values in [0, 1]: ``original`` is the model input
as it was (the pixels under the hole too, so the fill can be compared with what was painted over),
``mask`` the hole (True = missing), ``masked`` the input with the hole blanked, ``generated`` every
pixel as the filler made it (the generator's G(z) or the context encoder's prediction) and
``filled`` the result: known pixels kept, the hole from ``generated`` (pasted or Poisson-blended).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ImageGrid, Result

LATENT, ENCODER = "latent", "encoder"
FILL_NAMES = {LATENT: "latent optimisation", ENCODER: "context encoder"}
HOLE_RGB, HOLE_ALPHA = (0.9, 0.16, 0.16), 0.45     # the hole's translucent tint in every picture of it
COLUMNS = ("input and hole", "generated", "filled", "original")


def hole_tinted(picture: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A grey picture in [0, 1] as float RGB (H, W, 3) with the hole tinted translucent red."""
    grey = np.clip(np.asarray(picture, np.float32), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    hole = np.asarray(mask, bool)
    rgb[hole] = (1 - HOLE_ALPHA) * rgb[hole] + HOLE_ALPHA * np.asarray(HOLE_RGB, np.float32)
    return rgb


def _empty() -> np.ndarray:
    return np.zeros((0,), np.float32)


def _picture() -> np.ndarray:
    return np.zeros((1, 1), np.float32)


@dataclass
class Inpainting(Result):
    fill: str = LATENT
    original: np.ndarray = field(default_factory=_picture)
    mask: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), bool))
    masked: np.ndarray = field(default_factory=_picture)
    generated: np.ndarray = field(default_factory=_picture)
    filled: np.ndarray = field(default_factory=_picture)
    context_curve: np.ndarray = field(default_factory=_empty)   # latent: per step, the best start's
    prior_curve: np.ndarray = field(default_factory=_empty)
    latent: np.ndarray = field(default_factory=_empty)          # latent: the best start's z
    context_loss: float = float("nan")     # weighted mean error of ``generated`` on the known pixels
    prior_loss: float = float("nan")       # latent: ||z||^2 / (2 d)
    hole_mse: float = float("nan")         # mean squared error of ``filled`` against ``original`` in the hole
    step: int = 0
    steps: int = 0
    restarts: int = 0
    best_restart: int = -1
    blend: str = "paste"

    kind = "inpainting"

    @property
    def fill_name(self) -> str:
        return FILL_NAMES.get(self.fill, self.fill)

    @property
    def hole_pixels(self) -> int:
        return int(np.asarray(self.mask, bool).sum())

    def loss_text(self) -> str:
        """The losses in one line, as the panel and the figure print them."""
        parts = [f"context {self.context_loss:.4f}"]
        if np.isfinite(self.prior_loss):
            parts.append(f"prior {self.prior_loss:.3f}")
        if np.isfinite(self.hole_mse):
            parts.append(f"hole MSE vs original {self.hole_mse:.4f}")
        return " · ".join(parts)

    def pictures(self) -> list[np.ndarray]:
        """Float RGB (H, W, 3) pictures in COLUMNS order: the input with its hole tinted, the
        filler's output, the filled image, the original."""
        def grey(a: np.ndarray) -> np.ndarray:
            return np.repeat(np.clip(np.asarray(a, np.float32), 0, 1)[..., None], 3, axis=2)
        return [hole_tinted(self.masked, self.mask), grey(self.generated), grey(self.filled), grey(self.original)]

    def as_grid(self) -> ImageGrid:
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input,
                         tiles=np.stack(self.pictures()).astype(np.float32), title=self.title,
                         titles=[f"{c} ({self.fill_name})" for c in COLUMNS])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"original": np.asarray(self.original, np.float32), "mask": np.asarray(self.mask, bool),
                "masked": np.asarray(self.masked, np.float32), "generated": np.asarray(self.generated, np.float32),
                "filled": np.asarray(self.filled, np.float32),
                "context_curve": np.asarray(self.context_curve, np.float32),
                "prior_curve": np.asarray(self.prior_curve, np.float32),
                "latent": np.asarray(self.latent, np.float32)}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "fill": self.fill, "context_loss": float(self.context_loss),
                "prior_loss": float(self.prior_loss), "hole_mse": float(self.hole_mse), "step": self.step,
                "steps": self.steps, "restarts": self.restarts, "best_restart": self.best_restart,
                "blend": self.blend}
