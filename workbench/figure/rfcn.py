"""An R-FCN vote as in its paper: the assembled map with the region's bins and their scores, then
each of the k x k position-sensitive maps of the class over the whole image with the one bin it
fills outlined. One colour scale for every panel, so the maps compare."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer
from workbench.core.colormaps import SIGNED_DEFAULT
from workbench.core.detection.vote_view import BIN_COLOR, vote_layers
from workbench.core.results.position_sensitive import PositionSensitiveVote
from workbench.figure.detectors import DetectorSide, export_panels
from workbench.figure.render import export_overlay


def export_rfcn(result: PositionSensitiveVote, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    if image is None or not len(result.maps):
        return export_overlay(result, image, path, scale)
    h, w = np.asarray(image).shape[:2]
    reach = float(max(np.percentile(np.abs(result.maps), 99), 1e-6))   # a few extreme cells would wash the rest out
    levels = (-reach, reach)
    first = vote_layers(result)
    first[0] = HeatmapLayer(name=first[0].name, data=result.heatmap, colormap=SIGNED_DEFAULT, levels=levels,
                            signed=True, colorbar_label=f"{result.label_name} score")
    panels = [DetectorSide("the vote", f"{result.label_name}: mean {result.vote:+.2f}, "
                                       f"p={result.probs[result.label]:.2f}", first)]
    for index, fmap in enumerate(result.maps):
        whole = cv2.resize(fmap, (w, h), interpolation=cv2.INTER_LINEAR)
        layers = [HeatmapLayer(name=result.bin_title(index), data=whole.astype(np.float32), colormap=SIGNED_DEFAULT,
                               levels=levels, signed=True, show_colorbar=False),
                  BoxesLayer(name="bin", boxes=result.bins[index:index + 1], colors=[BIN_COLOR], line_width=2.0,
                             texts=[f"{result.bin_scores[index]:+.2f}"])]
        panels.append(DetectorSide(f"map {result.bin_title(index)}", "fills only its own bin", layers))
    return export_panels(path, image, panels, scale, columns=result.k + 1)
