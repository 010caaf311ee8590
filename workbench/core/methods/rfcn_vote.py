"""R-FCN's position-sensitive vote on one detection: the k x k score maps of a class, each pooled
into its own bin of the region, assembled over the image; the bins' mean is the class's logit."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.core.methods._detection import (index_field, max_detections_field, pick_detection,
                                               score_threshold_field)
from workbench.core.model_traits import has_position_sensitive_head
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.position_sensitive import PositionSensitiveVote

OWN_CLASS = -1


@dataclass
class Params:
    index: int = index_field()
    label: int = field(default=OWN_CLASS, metadata=param(
        "Class", range=(-1, 999), step=1, at_minimum="the detection's",
        help="whose score maps vote (0: background)"))
    score_threshold: float = score_threshold_field()
    max_detections: int = max_detections_field()


def run(ctx: Context, p: Params) -> PositionSensitiveVote:
    import cv2

    from workbench.core.detection.position_sensitive import read_vote
    h = ctx.handle
    picked = pick_detection(ctx, p)
    label = picked.label if p.label == OWN_CLASS else p.label
    vote = read_vote(h.module, picked.x, np.asarray(picked.box), label)
    input_hw = tuple(picked.x.shape[-2:])
    assembled = np.zeros(input_hw, np.float32)
    for index, (x0, y0, x1, y1) in enumerate(vote.bins):
        whole = cv2.resize(vote.maps[index], (input_hw[1], input_hw[0]), interpolation=cv2.INTER_LINEAR)
        c0, c1 = int(np.clip(round(x0), 0, input_hw[1])), int(np.clip(round(x1), 0, input_hw[1]))
        r0, r1 = int(np.clip(round(y0), 0, input_hw[0])), int(np.clip(round(y1), 0, input_hw[0]))
        assembled[r0:r1, c0:c1] = whole[r0:r1, c0:c1]
    image_hw = tuple(ctx.image.shape[:2])
    probs = np.exp(vote.logits - vote.logits.max())
    probs /= probs.sum()
    name = h.label(label)
    return PositionSensitiveVote(
        method=METHOD.name, model=h.id, params=as_dict(p), input=picked.x.cpu().numpy(),
        heatmap=h.geometry.map_to_image(assembled, image_hw), attribution=assembled, target=label,
        target_label=name, signed=True, maps=vote.maps, bins=h.geometry.boxes_to_image(vote.bins, image_hw),
        bin_scores=vote.bin_scores, logits=vote.logits, probs=probs.astype(np.float32),
        box=h.geometry.boxes_to_image(np.asarray(picked.box, np.float32)[None], image_hw)[0], k=vote.k,
        detection=picked.index, label=label, label_name=name, score=picked.score,
        title=f"R-FCN vote for {name} on detection {picked.index}: mean of {vote.k}x{vote.k} bins "
              f"{vote.vote:.2f}, p={probs[label]:.2f}")


METHOD = Method(name="rfcn-vote", kind="detection", tasks=("detect",), params=Params, run=run,
                title="R-FCN vote", accepts=has_position_sensitive_head,
                accepts_what="an R-FCN (position-sensitive score maps)",
                description="R-FCN's k x k position-sensitive score maps of a class, each pooled into its own bin "
                            "of a detection's region and assembled over the image; the bins' mean is the logit.")
