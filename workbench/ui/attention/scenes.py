"""What the Attention tab draws for a result: the layers of one map over the image (the map
coloured over the range of the patches, the query patch outlined), or the heads grid."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core import colormaps
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, ImageLayer, Layer, with_value_range
from workbench.figure import montage
from workbench.figure.render import overlay_layers
from workbench.ui.attention import views as V
from workbench.ui.attention.canvas import GridScene, MapScene
from workbench.ui.attention.patches import patch_box

GRID_COLORMAP = colormaps.UNSIGNED_DEFAULT
QUERY_COLOR = (0, 220, 255)


def query_marker(view: Any) -> list[Layer]:
    """An outline around the query patch (none for the CLS token)."""
    patch = V.query_patch(view)
    if patch is None:
        return []
    box = patch_box(*divmod(patch, view.grid_hw[1]), view.grid_hw, view.image_hw, view.geometry)
    return [BoxesLayer(name="query patch", boxes=np.array([box], np.float32), colors=[QUERY_COLOR])]


def map_layers(image: np.ndarray, view: Any, display: Any) -> list[Layer]:
    """The image, the map over it and the query patch. A map that explains a class (a gradient
    rollout) is coloured by the workspace's attribution display options, as everywhere else."""
    layers = overlay_layers(view, display)
    if getattr(view, "target", None) is None:
        layers = [with_value_range(l, view.attribution) if isinstance(l, HeatmapLayer) else l for l in layers]
    return [ImageLayer(name="image", image=np.asarray(image))] + layers + query_marker(view)


def map_scene(image: np.ndarray, view: Any, display: Any) -> MapScene:
    return MapScene(map_layers(image, view, display), view.title)


def grid_scene(image: np.ndarray, view: Any) -> GridScene:
    """The image with the query patch beside a tile per layer (rows) and head (columns); the
    shown layer (and head, if one is chosen) highlighted."""
    grid = V.every_head(view)
    layers, heads = view.weights.shape[:2]
    base = [ImageLayer(name="image", image=np.asarray(image))] + query_marker(view)
    return GridScene(base, f"query: {V.query_name(view)}", montage.tile_images(grid, GRID_COLORMAP), layers, heads,
                     (view.layer, view.head if view.head >= 0 else None), grid.title)
