"""Images made by optimising the input: activation maximisation, feature inversion, DeepDream."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ImageGrid, Result


@dataclass
class Visualisation(Result):
    """(N, H, W, 3) images in [0, 1], one per objective, with the mean objective of the batch being optimised
    (the last, when several run in turn) after each of its steps."""
    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 3), np.float32))
    titles: list[str] = field(default_factory=list)
    curve: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    values: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))   # (N,) the objective now
    probabilities: np.ndarray | None = None   # (N, classes): what a classifier makes of each image
    labels: list[str] = field(default_factory=list)   # the classes of ``probabilities``
    layer: str = ""
    step: int = 0
    steps: int = 0

    kind = "visualisation"

    @property
    def finished(self) -> bool:
        return self.step >= self.steps

    def as_grid(self) -> ImageGrid:
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input,
                         tiles=np.asarray(self.images, np.float32), titles=list(self.titles), title=self.title)

    def prediction(self, index: int) -> tuple[int, float] | None:
        """The class the model gives image ``index`` and its probability (None without probabilities)."""
        if self.probabilities is None:
            return None
        row = self.probabilities[index]
        top = int(np.argmax(row))
        return top, float(row[top])

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"images": self.images, "curve": self.curve, "values": self.values}
        if self.probabilities is not None:
            out["probabilities"] = self.probabilities
        return out

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "titles": self.titles, "layer": self.layer, "step": self.step,
                "steps": self.steps, "labels": self.labels}


@dataclass
class Inversion(Visualisation):
    """Images reconstructed from one or more layers' features of ``original`` (Mahendran & Vedaldi),
    each scored by its SSIM against the original: how much of the image that layer keeps."""
    original: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 3), np.float32))
    layers: list[str] = field(default_factory=list)
    ssim: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))

    kind = "inversion"

    def as_grid(self) -> ImageGrid:
        tiles = np.concatenate([np.asarray(self.original, np.float32)[None], np.asarray(self.images, np.float32)])
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input, tiles=tiles,
                         titles=["original", *self.titles], title=self.title)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "original": self.original, "ssim": self.ssim}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "layers": self.layers, "ssim": [round(float(s), 4) for s in self.ssim]}


@dataclass
class Dream(Visualisation):
    """DeepDream: ``images[0]`` grew from ``original`` by amplifying what ``layer`` sees in it."""
    original: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 3), np.float32))
    octave: int = 0
    octaves: int = 0

    kind = "dream"

    def as_grid(self) -> ImageGrid:
        tiles = np.stack([np.asarray(self.original, np.float32), np.asarray(self.images[0], np.float32)])
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input, tiles=tiles,
                         titles=["original", *self.titles[:1]], title=self.title)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "original": self.original}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "octave": self.octave, "octaves": self.octaves}
