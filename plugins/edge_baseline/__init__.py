"""Example plugin: an edge-detector baseline for saliency maps.

Adebayo et al. ("Sanity checks for saliency maps", 2018) showed that some saliency maps look
much like a plain edge detector. This plugin adds `edge-baseline`, the Sobel gradient magnitude
of the image, so a saliency map can be compared against it side by side: its
``kind="attribution"`` puts it in the Attribution panel and the Compare tab.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import Heatmap


@dataclass
class Params:
    blur: float = field(default=1.0, metadata=param("Blur sigma (px)", range=(0.0, 10.0), step=0.5))


def run(ctx, p: Params) -> Heatmap:
    grey = cv2.cvtColor(ctx.image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    if p.blur > 0:
        grey = cv2.GaussianBlur(grey, (0, 0), p.blur)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    return Heatmap(method="edge-baseline", model=ctx.handle.id, params={"blur": p.blur},
                   heatmap=magnitude, attribution=magnitude, title="edge baseline (Sobel)")


def setup(registry) -> None:
    registry.add(Method(name="edge-baseline", tasks=("classify", "detect", "segment"), params=Params, run=run,
                        kind="attribution", title="Edge baseline",
                        description="Sobel edge magnitude: a sanity baseline for saliency."))
