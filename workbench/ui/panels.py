"""Every panel of the window, in one list: adding a panel is one module and one entry here.

An entry is ``"module:Class"`` (imported when the window is built) or a :class:`Deferred`
tab, whose module (it may import torch) is imported the first time the tab is shown.
Plugins add panels through their ``panels()`` function (see ``workbench.plugins``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Deferred:
    """A central tab built on first show: its title and object name are known before its module."""
    path: str            # "module:Class"
    title: str
    object_name: str
    tasks: tuple[str, ...] = ()   # loading a model of one of these tasks brings the tab forward
    wants: str = ""               # or "module:function", handle -> bool, for models of any task


PANELS: list[str | Deferred] = [
    "workbench.ui.image_view:ImageView",
    "workbench.ui.grid_panel:GridPanel",
    "workbench.ui.attribution.compare:ComparePanel",
    Deferred("workbench.ui.attention.panel:AttentionPanel", "Attention", "attentionTab", ("attend",),
             "workbench.core.model_traits:has_patch_attention"),
    Deferred("workbench.ui.detr.panel:DetrPanel", "DETR", "detrTab", (),
             "workbench.core.model_traits:has_object_queries"),
    Deferred("workbench.ui.caption.panel:CaptionPanel", "Captions", "captionTab", ("caption",)),
    Deferred("workbench.ui.latent.explorer:LatentPanel", "Latent", "latentTab", ("generate", "autoencode")),
    Deferred("workbench.ui.ganlab.panel:GanLabPanel", "GAN lab", "ganLabTab"),
    Deferred("workbench.ui.detection.detectors:DetectorsPanel", "Detectors", "detectorsTab"),
    Deferred("workbench.ui.features.panel:FeaturesPanel", "Features", "featuresTab"),
    Deferred("workbench.ui.projector.panel:ProjectorPanel", "Projector", "projectorTab"),
    Deferred("workbench.ui.style.panel:StylePanel", "Style", "styleTab"),
    Deferred("workbench.ui.superres.panel:SuperresPanel", "Super-res", "superresTab", ("superres",)),
    Deferred("workbench.ui.inpaint.panel:InpaintPanel", "Inpaint", "inpaintTab", ("inpaint",)),
    "workbench.ui.model_dock:ModelPanel",
    "workbench.ui.method_dock:MethodPanel",
    "workbench.ui.layers_dock:LayersPanel",
    "workbench.ui.attribution.dock:AttributionPanel",
    "workbench.ui.detection.dock:DetectionPanel",
    "workbench.ui.detection.region:RegionPanel",
    "workbench.ui.detection.segmentation_legend:SegmentationLegend",
    "workbench.ui.batch.panel:BatchPanel",
]


def wanted(entry: Deferred, handle) -> bool:
    """Whether loading ``handle`` should bring the deferred tab forward."""
    if handle.task in entry.tasks:
        return True
    return bool(entry.wants) and bool(resolve(entry.wants)(handle.module))


def resolve(path: str):
    """What ``"module:name"`` names (a panel class, a predicate), imported now."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
