"""A YOLO grid figure: the class map with the responsible cells, each box slot's confidence per
cell, the boxes before NMS and the detections after it, one panel each."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.detection.yolo_grid import yolo_panels
from workbench.figure.detectors import DetectorSide, export_panels
from workbench.figure.render import export_overlay

MAX_COLUMNS = 5


def export_yolo(result: Any, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    if image is None:
        return export_overlay(result, image, path, scale)
    panels = [DetectorSide(title, subtitle, layers) for title, subtitle, layers in yolo_panels(result)]
    return export_panels(path, image, panels, scale, columns=min(MAX_COLUMNS, len(panels)))
