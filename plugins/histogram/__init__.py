"""Example plugin: an image histogram, as a method, a result type with its renderer, and a panel.

- ``channel-histogram``: a method whose result is a new type, :class:`Histogram`;
- its renderer: shown in the view "histogram" (the panel below), drawn by ``figure.export_histogram``;
- ``panels()``: the Histogram panel, a dock with one curve per channel of the current image,
  live as images change, exportable like every panel.
This file is what a plugin needs: ``setup(registry)``, and optionally ``panels()`` and ``samples()``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.renderers import RENDERERS, Renderer
from workbench.core.results import Result

VIEW = "histogram"
CHANNELS = ("red", "green", "blue")


@dataclass
class Histogram(Result):
    """Pixel counts per channel: ``counts`` (3, bins) over ``edges`` (bins + 1) of 0..256."""
    counts: np.ndarray = field(default_factory=lambda: np.zeros((3, 0), np.int64))
    edges: np.ndarray = field(default_factory=lambda: np.zeros((1,), np.float64))

    kind = "histogram"

    def arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts, "edges": self.edges}


def histogram(image: np.ndarray, bins: int = 64, name: str = "") -> Histogram:
    """Per-channel counts of an RGB uint8 image in ``bins`` equal bins over 0..255."""
    edges = np.linspace(0, 256, bins + 1)
    counts = np.stack([np.histogram(image[..., c], bins=edges)[0] for c in range(3)])
    return Histogram(method="channel-histogram", params={"bins": bins}, counts=counts, edges=edges,
                     title=f"histogram {name}".strip())


@dataclass
class Params:
    bins: int = field(default=64, metadata=param("Bins", range=(2, 256), step=1))


def run(ctx, p: Params) -> Histogram:
    result = histogram(ctx.image, p.bins)
    result.model = ctx.handle.id
    return result


def setup(registry) -> None:
    RENDERERS.add(Histogram, Renderer(VIEW, figure=f"{__name__}.figure:export_histogram"), replace=True)
    registry.add(Method(name="channel-histogram", tasks=("classify", "detect", "segment", "autoencode"),
                        params=Params, run=run, title="Channel histogram",
                        kind="other", description="Pixel counts per colour channel (example plugin)."))


def panels() -> list[type]:
    from .panel import HistogramPanel
    return [HistogramPanel]
