"""SPPNet's spatial pyramid of one region: the bins of every level over the image, then each
level's max-pooled values of the strongest channel, one panel each."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.detection.region_layers import pyramid_panels
from workbench.figure.detectors import DetectorSide, export_panels
from workbench.figure.render import export_overlay


def export_pyramid(result: Any, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    if image is None:
        return export_overlay(result, image, path, scale)
    panels = [DetectorSide(title, subtitle, layers) for title, subtitle, layers in pyramid_panels(result)]
    return export_panels(path, image, panels, scale, columns=len(panels))
