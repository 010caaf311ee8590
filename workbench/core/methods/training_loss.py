"""Fast/Faster R-CNN's multi-task loss on a bundled scene: the RPN's objectness and box terms over
its sampled anchors, the box head's classification and box terms over its sampled proposals, each
region's share drawn on the image. The four sums equal torchvision's own training forward."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.core.detection.scenes import NO_SCENE, scene_masks, scene_truth
from workbench.core.model_traits import is_two_stage_detector
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.training_loss import TrainingLoss

SHOW = ("head", "rpn", "both")


@dataclass
class Params:
    scene: int = field(default=NO_SCENE, metadata=param(
        "Ground-truth scene", range=(-1, 10_000_000), step=1, at_minimum="none",
        help="the image is the bundled scene with this seed (sample:scene-N); the loss needs its objects"))
    seed: int = field(default=0, metadata=param(
        "Sampling seed", range=(0, 2 ** 31 - 1), step=1, help="draws the regions the samplers pick, as in one training step"))
    show: str = field(default="head", metadata=param("Show", choices=SHOW, help="whose sampled regions are drawn"))
    top: int = field(default=5, metadata=param(
        "Labelled regions", range=(0, 512), step=1, help="the costliest regions of each stage get their terms written"))


def run(ctx: Context, p: Params) -> TrainingLoss:
    import torch

    from workbench.core.detection.multitask_loss import decompose
    if p.scene == NO_SCENE:
        raise ValueError("the multi-task loss needs ground truth: open a bundled scene (sample:scene-N) "
                         "and set 'Ground-truth scene' to N")
    h = ctx.handle
    image_hw = tuple(ctx.image.shape[:2])
    boxes, labels = scene_truth(ctx.image, p.scene)
    x = ctx.input_tensor()
    input_hw = tuple(x.shape[-2:])
    to_input = np.array([input_hw[1] / image_hw[1], input_hw[0] / image_hw[0]] * 2, np.float32)
    masks = None
    if getattr(h.module.roi_heads, "has_mask", lambda: False)():
        masks = torch.from_numpy(scene_masks(ctx.image, p.scene))
    d = decompose(h.module, x, torch.from_numpy(boxes * to_input), torch.from_numpy(labels + 1), p.seed, masks)
    scale = np.array([input_hw[1] / d.input_hw[1], input_hw[0] / d.input_hw[0]] * 2, np.float32)

    def stage(regions) -> dict[str, np.ndarray]:
        out = {k: getattr(regions, k) for k in ("labels", "cls", "box", "prob")}
        for k in ("boxes", "predicted", "matched"):
            out[k] = h.geometry.boxes_to_image(getattr(regions, k) * scale, image_hw).astype(np.float32)
        return out
    terms = d.terms()
    return TrainingLoss(method=METHOD.name, model=h.id, params=as_dict(p), input=x.cpu().numpy(),
                        rpn=stage(d.rpn), head=stage(d.head), terms=terms, gt_boxes=boxes, gt_labels=labels + 1,
                        label_names=list(h.labels), show=p.show, top=p.top,
                        title=f"multi-task loss on scene {p.scene}: {sum(terms.values()):.4f} = RPN "
                              f"{terms['loss_objectness'] + terms['loss_rpn_box_reg']:.4f} + head "
                              f"{terms['loss_classifier'] + terms['loss_box_reg']:.4f} ({h.id})")


METHOD = Method(name="training-loss", kind="detection", tasks=("detect",), params=Params, run=run,
                title="Multi-task loss", accepts=is_two_stage_detector,
                accepts_what="a two-stage detector (Fast/Faster/Mask R-CNN)",
                description="Fast/Faster R-CNN's training objective on a bundled scene: RPN objectness and box "
                            "regression over its sampled anchors, head classification and box regression over its "
                            "sampled proposals, each region's share on the image.")
