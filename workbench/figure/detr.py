"""A DETR figure as in its paper: a panel per object query, its decoder cross-attention over the
image and its box; for an encoder token, that token's self-attention map."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.detection.queries import query_panels
from workbench.figure.detectors import DetectorSide, export_panels
from workbench.figure.render import export_overlay

MAX_COLUMNS = 5


def export_detr(result: Any, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    if result.focus != "query" or image is None:
        return export_overlay(result, image, path, scale)
    panels = [DetectorSide(title, subtitle, layers) for title, subtitle, layers in query_panels(result)]
    return export_panels(path, image, panels, scale, columns=min(MAX_COLUMNS, len(panels)))
