"""Explain one detection: Grad-CAM or occlusion of its class score.

The detector is wrapped into a classifier of that one detection (``core.box_score``): images
in, the class logits of the region proposal (two-stage) or head location (one-stage) the
detection came from out. The Grad-CAM and occlusion methods then run on it unchanged, with
the detection's label as the target.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

from workbench.core.detection.box_score import MATCH_TOLERANCE, BoxSource, box_score_module, find_source
from workbench.core.context import Context, Partial, Progress
from workbench.core.handle import ModelHandle
from workbench.core.methods import gradcam, occlusion
from workbench.core.methods._cam import layer_field
from workbench.core.methods._detection import (Picked, index_field, max_detections_field, pick_detection,
                                               score_threshold_field)
from workbench.core.occlusion import BASELINES
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results import Heatmap

EXPLAINERS = ("gradcam", "occlusion")


@dataclass
class Params:
    index: int = index_field()
    explainer: str = field(default="gradcam", metadata=param(
        "Explain by", choices=EXPLAINERS, help="Grad-CAM at a layer, or occlusion of input windows"))
    layer: str = layer_field()
    window: int = field(default=0, metadata=param(
        "Window", range=(0, 1024), step=1, help="occlusion: side in input pixels; auto: 1/8 of the input side",
        at_minimum="auto"))
    stride: int = field(default=0, metadata=param(
        "Stride", range=(0, 1024), step=1, help="occlusion: 0: half the window"))
    baseline: str = field(default="zero", metadata=param("Baseline", choices=BASELINES, help="occlusion fill"))
    score_threshold: float = score_threshold_field()
    max_detections: int = max_detections_field()


def box_handle(handle: ModelHandle, source: BoxSource) -> ModelHandle:
    """The detector's handle with the one-detection classifier as its module."""
    return ModelHandle(id=handle.id, module=box_score_module(handle.module, source), task="classify",
                       preprocess=handle.preprocess, labels=list(handle.labels), source=handle.source)


def default_layer(handle: ModelHandle, source: BoxSource) -> str:
    """The last backbone conv giving the feature map the detection was read from, else the last backbone conv."""
    convs = [l for l in handle.layers() if l.is_conv and l.name.startswith("backbone.")]
    if not convs:
        raise ValueError(f"{handle.id} has no conv layers in its backbone; choose a layer")
    same = [l.name for l in convs if l.output_shape == source.level_shape]
    return same[-1] if same else convs[-1].name


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    if p.explainer not in EXPLAINERS:
        raise ValueError(f"unknown explainer {p.explainer!r}; use one of {', '.join(EXPLAINERS)}")
    picked = pick_detection(ctx, p)
    yield Progress(0.05, f"finding where box {picked.index} came from")
    source = find_source(ctx.handle.module, picked.x, picked.box, picked.label, picked.score)
    if source.mismatch > MATCH_TOLERANCE:
        raise ValueError(f"box {picked.index} matches no proposal or head location (off by "
                         f"{source.mismatch:.3g} px); the model's post-processing is not the one expected")
    sub = replace(ctx, handle=box_handle(ctx.handle, source), target=picked.label)
    if p.explainer == "gradcam":
        layer = p.layer or default_layer(sub.handle, source)
        return _relabel(gradcam.run(sub, gradcam.Params(layer=layer)), ctx, p, picked, source, layer=layer)
    # coarser than occlusion's own default: every window runs the whole backbone
    window = p.window or max(4, round(min(picked.x.shape[-2:]) / 8))
    inner = occlusion.run(sub, occlusion.Params(window=window, stride=p.stride, baseline=p.baseline))
    result = None
    try:
        while True:
            item = next(inner)
            if isinstance(item, Partial):
                item = Partial(_relabel(item.result, ctx, p, picked, source))
            yield item
    except StopIteration as stop:
        result = stop.value
    return _relabel(result, ctx, p, picked, source)


def _relabel(hm: Heatmap, ctx: Context, p: Params, picked: Picked, source: BoxSource, **used) -> Heatmap:
    """The inner method's heatmap, named and described as an explanation of the detection."""
    label = ctx.handle.label(picked.label)
    what = "Grad-CAM" if p.explainer == "gradcam" else "occlusion"
    geometry, image_hw = ctx.handle.geometry, tuple(ctx.image.shape[:2])
    box = geometry.boxes_to_image(picked.box, image_hw)[0]
    params = {**as_dict(p), **{k: v for k, v in hm.params.items() if k in ("window", "stride")}, **used,
              "box": [float(v) for v in box], "label": picked.label, "score": picked.score,
              "level": source.level, "source": "proposal" if source.proposal is not None else "anchor"}
    if source.anchor is not None:
        params["anchor"] = source.anchor
    return replace(hm, method="explain_box", params=params,
                   title=f"{what} of box {picked.index}: {label} {picked.score:.2f}")


METHOD = Method(name="explain_box", kind="detection", tasks=("detect",), params=Params, run=run, title="Explain a box",
                description="Grad-CAM or occlusion of one detection's class score (two-stage: its "
                            "proposal through the box head; one-stage: its head location).")
