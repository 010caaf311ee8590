"""How each result type is shown: its canvas overlays, its figure and the view that shows it.

One registry, looked up along the result's class hierarchy, so a subclass is shown as its
parent unless it registers its own renderer. Plugins add a result type with
``RENDERERS.add(MyResult, Renderer(...))`` (or ``registry.add_result_type`` in their setup).

A figure is named as ``"module:function"`` and imported only when a figure is drawn, so the
Qt-free core can name painters that live in ``workbench.figure`` (or in a plugin).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from workbench.core import canvas_layers as CL
from workbench.core.detection.anchor_layers import anchor_layers
from workbench.core.detection.loss_view import training_loss_layers
from workbench.core.detection.queries import detr_layers
from workbench.core.detection.vote_view import vote_layers
from workbench.core.detection.proposals import proposal_layers
from workbench.core.detection.region_layers import pyramid_layers
from workbench.core.detection.view import default_layers as detection_default_layers
from workbench.core.detection.yolo_grid import yolo_layers
from workbench.core.results.anchors import AnchorsAtLocation
from workbench.core.results.attention import AttentionHeadGrid, AttentionHeatmap, TokenRowsHeatmap
from workbench.core.results.detr import DetrAttention
from workbench.core.results.caption import CaptionAttention
from workbench.core.results.features import Visualisation
from workbench.core.results.embedding import Embedding
from workbench.core.results.base import Curves, Detections, Frames, Heatmap, ImageGrid, Points2D, Result, SegMask
from workbench.core.results.proposals import RankedProposals
from workbench.core.results.region_classifier import PyramidPooling, WarpedRegions
from workbench.core.results.roi import RoiPooling
from workbench.core.results.position_sensitive import PositionSensitiveVote
from workbench.core.results.scores import Scores
from workbench.core.results.yolo import YoloGridResult
from workbench.core.results.training_loss import TrainingLoss
from workbench.core.results.style import Stylisation
from workbench.core.results.inpaint import Inpainting
from workbench.core.results.superres import SuperResolution

IMAGE, GRID, DETECTION = "image", "grid", "detection"
OVERLAY_FIGURE = "workbench.figure.render:export_overlay"
GRID_FIGURE = "workbench.figure.render:export_grid_result"


@dataclass(frozen=True)
class Renderer:
    """``view``: the name of the view that shows the result ("image": overlays on the canvas,
    "grid": the tile grid, "detection": the detection panel over the canvas), or "" when no
    view shows it and it is only exported. ``layers``: result -> canvas layers over its image.
    ``figure``: "module:function" with signature (result, image, path, scale) -> Path.
    ``script``: how File > Export as Script redraws it with matplotlib: "overlay" (its layers over
    its image), "grid", "scores", "curves", or "" when it has no such script."""
    view: str
    layers: Callable[[Any], list] | None = None
    figure: str = OVERLAY_FIGURE
    script: str = "overlay"


class Renderers:
    def __init__(self) -> None:
        self._by_type: dict[type, Renderer] = {}

    def add(self, result_type: type, renderer: Renderer, replace: bool = False) -> None:
        if not (isinstance(result_type, type) and issubclass(result_type, Result)):
            raise TypeError(f"a renderer is for a Result subclass, not {result_type!r}")
        if not isinstance(renderer, Renderer):
            raise TypeError(f"expected a Renderer, got {type(renderer).__name__}")
        if ":" not in renderer.figure:
            raise ValueError(f"figure {renderer.figure!r} must be named as 'module:function'")
        if result_type in self._by_type and not replace:
            raise ValueError(f"{result_type.__name__} already has a renderer")
        self._by_type[result_type] = renderer

    def remove(self, result_type: type) -> None:
        self._by_type.pop(result_type, None)

    def for_type(self, result_type: type) -> Renderer:
        for cls in result_type.__mro__:
            if cls in self._by_type:
                return self._by_type[cls]
        return self._by_type[Result]

    def __contains__(self, result_type: type) -> bool:
        return result_type in self._by_type


RENDERERS = Renderers()
RENDERERS.add(Result, Renderer(view="", script=""))
RENDERERS.add(Heatmap, Renderer(IMAGE, CL.heatmap_layers))
RENDERERS.add(SegMask, Renderer(IMAGE, CL.segmentation_layers))
RENDERERS.add(Points2D, Renderer(IMAGE, CL.points_layers))
RENDERERS.add(RoiPooling, Renderer(IMAGE, CL.roi_layers))
# as the Detection panel first shows them (its default score threshold), all boxes stay in the npz
RENDERERS.add(Detections, Renderer(DETECTION, detection_default_layers))
RENDERERS.add(RankedProposals, Renderer(DETECTION, proposal_layers))  # selective search: proposals shown
RENDERERS.add(ImageGrid, Renderer(GRID, figure=GRID_FIGURE, script="grid"))
RENDERERS.add(Frames, Renderer(GRID, figure=GRID_FIGURE, script="grid"))
RENDERERS.add(Scores, Renderer("", figure="workbench.figure.scores:export_scores", script="scores"))
RENDERERS.add(Curves, Renderer("", script="curves"))
# attention: one map on the image (rollout and positional similarity too), or every head as a grid
RENDERERS.add(AttentionHeatmap, Renderer(IMAGE, CL.token_map_layers))
RENDERERS.add(TokenRowsHeatmap, Renderer(IMAGE, CL.token_map_layers))
RENDERERS.add(AttentionHeadGrid, Renderer(GRID, figure=GRID_FIGURE, script="grid"))
# a DETR's queries: the selected query's map with every query's box; the figure has a panel per object
RENDERERS.add(DetrAttention, Renderer(IMAGE, detr_layers, figure="workbench.figure.detr:export_detr"))
RENDERERS.add(YoloGridResult, Renderer(IMAGE, yolo_layers, figure="workbench.figure.yolo:export_yolo"))
# a caption: the selected word's attention on the image; the figure adds a strip of every word's map
RENDERERS.add(CaptionAttention, Renderer(IMAGE, CL.token_map_layers,
                                         figure="workbench.figure.caption:export_caption"))
# images made by optimising the input (activation maximisation, inversion, DeepDream): their tiles as a grid
RENDERERS.add(Visualisation, Renderer(GRID, figure=GRID_FIGURE, script="grid"))
# an embedding: its scatter, coloured by label (the Projector tab draws it live)
RENDERERS.add(Embedding, Renderer("", figure="workbench.figure.embedding:export_embedding", script=""))
RENDERERS.add(TrainingLoss, Renderer(IMAGE, training_loss_layers))
RENDERERS.add(PositionSensitiveVote, Renderer(IMAGE, vote_layers, figure="workbench.figure.rfcn:export_rfcn"))
RENDERERS.add(Stylisation, Renderer(GRID, figure="workbench.figure.style:export_style", script="grid"))
# inpainting: the input with its hole, the fill and the original in the grid; the figure adds the losses
RENDERERS.add(Inpainting, Renderer(GRID, figure="workbench.figure.inpaint:export_inpaint", script="grid"))
# super-resolution: the upscales side by side with their scores, and the loupe under them
RENDERERS.add(SuperResolution, Renderer(GRID, figure="workbench.figure.superres:export_superres", script="grid"))

# the anchors at a clicked location: levels by colour, matched solid; the figure adds a key
RENDERERS.add(AnchorsAtLocation, Renderer(IMAGE, anchor_layers, figure="workbench.figure.anchors:export_anchors"))
# R-CNN's warped crops as a grid; SPPNet's pyramid bins over the image, the figure adds each level's pooled values
RENDERERS.add(WarpedRegions, Renderer(GRID, figure=GRID_FIGURE, script="grid"))
RENDERERS.add(PyramidPooling, Renderer(IMAGE, pyramid_layers, figure="workbench.figure.rcnn:export_pyramid"))

def renderer_for(result: Result) -> Renderer:
    return RENDERERS.for_type(type(result))


def layers_for(result: Result) -> list[CL.Layer]:
    """The overlay layers that show a result over its image (empty when it has none)."""
    make = renderer_for(result).layers
    return make(result) if make is not None else []
