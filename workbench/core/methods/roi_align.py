"""ROI Align / ROI Pool of one detection: the sampling grid on the image, the pooled channels.

For a two-stage detector: the final box is pooled on the feature level its ``box_roi_pool``
picks for it, exactly as the box head would pool it; the bins and sample points are drawn
over the image and the pooled channels fill a grid.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.core.methods._detection import (index_field, max_detections_field, pick_detection,
                                               score_threshold_field)
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.detection.roi import POOL_KINDS, input_to_image, roi_view
from workbench.core.results.roi import RoiGrid, RoiPooling


@dataclass
class Params:
    index: int = index_field()
    pool: str = field(default="align", metadata=param(
        "Pooling", choices=POOL_KINDS, help="align: bilinear samples averaged per bin (what the model uses); "
                                            "pool: max over whole feature cells per bin"))
    channels: int = field(default=16, metadata=param(
        "Channels", range=(0, 4096), step=1, help="pooled channels shown, strongest first", at_minimum="all"))
    score_threshold: float = score_threshold_field()
    max_detections: int = max_detections_field()


def strongest(pooled: np.ndarray, count: int) -> np.ndarray:
    """Channel indices by their largest pooled value, largest first (``count`` 0: all)."""
    order = np.argsort(-pooled.reshape(len(pooled), -1).max(1), kind="stable")
    return order[:count] if count else order


def run(ctx: Context, p: Params) -> RoiPooling:
    h = ctx.handle
    picked = pick_detection(ctx, p)
    view = roi_view(h.module, picked.x, picked.box, p.pool)
    image_hw = tuple(ctx.image.shape[:2])
    bins = input_to_image(view.bins, view, h.geometry, image_hw)
    pooled = view.pooled.float().cpu().numpy()
    shown = strongest(pooled, p.channels)
    label = h.label(picked.label)
    what = "ROI Align" if p.pool == "align" else "ROI Pool"
    title = f"{what} of box {picked.index} ({label} {picked.score:.2f}) on level {view.level.name}"
    common = dict(method="roi_align", model=h.id, params=as_dict(p), input=picked.x.cpu().numpy())
    grid = RoiGrid(**common, tiles=pooled[shown], titles=[f"ch {c}" for c in shown], title=title,
                   layer=f"level {view.level.name}", image_hw=image_hw, bins=bins,
                   extra={"channels": shown.astype(np.int64)})
    return RoiPooling(
        **common, title=title, grid=grid, pooled=pooled, bins=bins,
        box=input_to_image(view.box, view, h.geometry, image_hw)[0], box_input=view.box,
        points=input_to_image(view.points, view, h.geometry, image_hw), point_bins=view.point_bins,
        channels=shown.astype(np.int64), pool=p.pool, level=view.level.name, scale=view.level.scale,
        samples=view.samples, detection=picked.index, label=picked.label, label_name=label, score=picked.score)


METHOD = Method(name="roi_align", kind="detection", tasks=("detect",), params=Params, run=run, title="ROI Align",
                description="One detection's ROI Align (or ROI Pool): bins and sample points over the "
                            "image, pooled features as a channel grid (two-stage detectors).")
