"""Every result type (how each is shown: ``workbench.core.renderers``).

Typed, numpy-backed, device-free results; each saves to npz with its params as JSON.
"""
from workbench.core.results.base import (ActivationGrid, AttentionMaps, Curves, Detections, Frames, Heatmap,
                                         ImageGrid, Points2D, Result, SegMask)
from workbench.core.results.attention import (AttentionHeadGrid, AttentionHeatmap, PositionalSimilarity, RolloutHeatmap,
                                              TokenRowsHeatmap)
from workbench.core.results.detections import DetectionPipeline, PipelineStages
from workbench.core.results.roi import RoiGrid, RoiPooling
from workbench.core.results.scores import Scores

__all__ = ["ActivationGrid", "AttentionHeadGrid", "AttentionHeatmap", "AttentionMaps", "Curves", "DetectionPipeline",
           "Detections", "Frames", "Heatmap", "ImageGrid", "PipelineStages", "Points2D", "PositionalSimilarity", "Result",
           "RolloutHeatmap", "RoiGrid", "RoiPooling", "Scores", "SegMask", "TokenRowsHeatmap"]
