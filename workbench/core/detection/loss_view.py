"""The multi-task loss over the image: the ground truth, each stage's sampled regions coloured by
their share of that stage's loss (a scale per stage: the RPN's terms are often far smaller than the
head's), the costliest ones labelled with their terms, and the boxes those regress to."""
from __future__ import annotations

import numpy as np

from workbench.core import colormaps
from workbench.core.canvas_layers import BoxesLayer, Layer, LinesLayer, PALETTE
from workbench.core.results.training_loss import TrainingLoss

LOSS_COLORMAP = "inferno"
TRUTH_COLOR = (255, 255, 255)
STAGE_NAMES = {"rpn": "RPN anchors", "head": "head proposals"}


def training_loss_layers(result: TrainingLoss) -> list[Layer]:
    stages = ("rpn", "head") if result.show == "both" else (result.show,)
    layers: list[Layer] = []
    for name in stages:
        layers += _stage_layers(result, name, colorbar=name == stages[-1])
    names = [result.label_name(int(l)) for l in result.gt_labels]
    layers.append(BoxesLayer(name="ground truth", boxes=result.gt_boxes, texts=names, colors=[TRUTH_COLOR],
                             line_width=2.5))
    return layers


def _stage_layers(result: TrainingLoss, name: str, colorbar: bool) -> list[Layer]:
    s = result.stage(name)
    cost = s["cls"] + s["box"]
    levels = (0.0, max(float(cost.max(initial=0)), 1e-12))
    colours = [tuple(int(c) for c in rgb) for rgb in colormaps.apply(cost[None].astype(np.float32),
                                                                     LOSS_COLORMAP, levels)[0]]
    positive = s["labels"] > 0
    costly = result.costliest(name, result.top)
    texts = [""] * len(cost)
    for i in costly:
        what = result.label_name(int(s["labels"][i])) if name == "head" else ("object" if positive[i] else "background")
        texts[i] = f"{what} p={s['prob'][i]:.2f} cls {s['cls'][i]:.4f}" + (f" box {s['box'][i]:.4f}" if positive[i] else "")
    title = STAGE_NAMES[name]
    bg, fg = np.flatnonzero(~positive), np.flatnonzero(positive)
    costly_bg = np.array([i for i in costly if not positive[i]], np.int64)

    def boxes(layer: str, rows: np.ndarray, **style) -> BoxesLayer:
        return BoxesLayer(name=f"{title}: {layer}", boxes=s["boxes"][rows], colors=[colours[i] for i in rows],
                          texts=[texts[i] for i in rows], scores=list(cost[rows]), **style)
    # every background region at once hides the image, so only the costliest are shown until asked for
    layers: list[Layer] = [
        boxes("all background", bg, line_width=1.0, dashed=True, visible=False),
        boxes("costliest background", costly_bg, line_width=1.5, dashed=True),
        boxes("objects", fg, line_width=2.0, colormap=LOSS_COLORMAP, levels=levels, show_colorbar=colorbar,
              colorbar_label=f"share of the {'RPN' if name == 'rpn' else 'head'}'s loss")]
    ends = [i for i in costly if positive[i]]
    if ends:   # from each costly object region's centre to the centre of the box it regresses to
        centres = lambda b: np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)  # noqa: E731
        segments = np.stack([centres(s["boxes"][ends]), centres(s["predicted"][ends])], axis=1)
        colour = [PALETTE[int(s["labels"][i]) % len(PALETTE)] for i in ends] if name == "head" else [(0, 200, 255)]
        layers.append(LinesLayer(name=f"{title}: regression", segments=segments.astype(np.float32), colors=colour,
                                 line_width=1.5))
        layers.append(BoxesLayer(name=f"{title}: regressed boxes", boxes=s["predicted"][ends], colors=colour,
                                 line_width=1.0, dashed=True))
    return layers
