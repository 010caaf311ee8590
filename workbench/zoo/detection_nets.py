"""The bundled detectors: torchvision's Mask R-CNN, Faster R-CNN and FCOS, sized for 128x128
shapes scenes and trained from scratch.

Objects are 12-48 px, so every detector reads a stride-8 feature map (16x16 cells) from a
small conv stack in the style of ``ShapesCNN`` (conv-BN-ReLU blocks, max-pool between
resolutions) with a feature pyramid on top. The two-stage heads are narrowed for the CPU:
64-channel pyramid, 64 sampled regions per image, a 256-wide box head, 300 proposals kept.
All take a list of float CHW images in [0, 1] (or an NxCxHxW batch) and normalise inside.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.detection import FCOS, FasterRCNN, MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import MultiScaleRoIAlign

from workbench.zoo.detection_data import DETECTION_LABELS, SCENE_SIZE
from workbench.zoo.nets import conv_stack
from workbench.zoo.yolo import build_yolo
from workbench.zoo.rcnn import build_rcnn, build_sppnet

NUM_CLASSES = len(DETECTION_LABELS)
IMAGE_MEAN = (0.390, 0.377, 0.374)
IMAGE_STD = (0.226, 0.200, 0.215)
PYRAMID_CHANNELS = 64
# conv1..conv7; max-pools after conv1-3 and conv5-6, so relu5, relu6 and relu7 sit at
# strides 8, 16 and 32.
STACK_WIDTHS = (16, 32, 64, 96, 96, 128, 128)
STACK_POOLS = (True, True, True, False, True, True, False)
TAPS = {"relu5": 96, "relu6": 128, "relu7": 128}
STRIDES = (8, 16, 32)


def _bin_weights(start: torch.Tensor, length: torch.Tensor, bins: int, samples: int,
                 size: int) -> torch.Tensor:
    """(K, bins, size): per output bin, the mean over ``samples`` bilinear sample points of
    each input row's weight, with RoIAlign's rules at the borders."""
    frac = (torch.arange(bins * samples, dtype=start.dtype, device=start.device) + 0.5) / (bins * samples)
    pos = start[:, None] + frac * length[:, None]
    inside = ((pos >= -1) & (pos <= size)).to(pos.dtype)
    pos = pos.clamp(min=0)
    low = pos.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    up = (pos - low).where(low < size - 1, torch.zeros_like(pos)) * inside
    weights = (inside - up)[..., None] * F.one_hot(low, size) + up[..., None] * F.one_hot(high, size)
    return weights.reshape(len(start), bins, samples, size).mean(2)


class SeparableRoIAlign(MultiScaleRoIAlign):
    """RoIAlign (``aligned=False``, fixed sampling ratio) on one feature level, computed as
    two small matrix products per image.

    Bilinear sampling averaged over a bin factors into a row-weight and a column-weight
    matrix, so pooling is ``Wy @ F @ Wx^T``. Same numbers as ``torchvision.ops.roi_align``;
    on the CPU its backward pass is over ten times faster, and that backward pass dominated
    two-stage training here.
    """

    def forward(self, x: dict[str, torch.Tensor], boxes: list[torch.Tensor],
                image_shapes: list[tuple[int, int]]) -> torch.Tensor:
        (name,) = self.featmap_names
        feat = x[name]
        n, c, h, w = feat.shape
        scale = 2.0 ** round(math.log2(h / max(s[0] for s in image_shapes)))
        (oh, ow), g = self.output_size, self.sampling_ratio
        pooled = []
        for image, rois in zip(feat, boxes):
            r = rois * scale
            k = len(r)
            wy = _bin_weights(r[:, 1], (r[:, 3] - r[:, 1]).clamp(min=1), oh, g, h)
            wx = _bin_weights(r[:, 0], (r[:, 2] - r[:, 0]).clamp(min=1), ow, g, w)
            rows = (wy.reshape(k * oh, h) @ image.transpose(0, 1).reshape(h, c * w)).reshape(k, oh * c, w)
            pooled.append((rows @ wx.transpose(1, 2)).reshape(k, oh, c, ow).transpose(1, 2))
        return torch.cat(pooled) if pooled else feat.new_zeros((0, c, oh, ow))


class ShapesPyramid(nn.Module):
    """A conv stack with a top-down feature pyramid: 1x1 laterals, nearest-neighbour
    upsampling and sums, then a 3x3 conv-BN on each of the first ``levels`` outputs.

    Returns an ordered dict ``{"0": stride 8, "1": stride 16, ...}`` of ``out_channels`` maps.
    """

    def __init__(self, levels: int = 3, out_channels: int = PYRAMID_CHANNELS):
        super().__init__()
        names = list(TAPS)
        self.body = IntermediateLayerGetter(conv_stack(3, STACK_WIDTHS, STACK_POOLS),
                                            {n: n for n in names})
        self.lateral = nn.ModuleList(nn.Conv2d(TAPS[n], out_channels, 1) for n in names)
        self.smooth = nn.ModuleList(
            nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                          nn.BatchNorm2d(out_channels))
            for _ in range(levels))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        taps = list(self.body(x).values())
        merged = self.lateral[-1](taps[-1])
        sums = [merged]
        for lateral, tap in zip(reversed(self.lateral[:-1]), reversed(taps[:-1])):
            merged = lateral(tap) + F.interpolate(merged, size=tap.shape[-2:], mode="nearest")
            sums.insert(0, merged)
        return OrderedDict((str(i), smooth(s)) for i, (smooth, s) in enumerate(zip(self.smooth, sums)))


def _resize_options() -> dict:
    # fixed 128x128 input: torchvision's transform must not upscale to its 800 px default
    return {"min_size": SCENE_SIZE, "max_size": SCENE_SIZE,
            "image_mean": list(IMAGE_MEAN), "image_std": list(IMAGE_STD)}


def _two_stage_options() -> dict:
    c = PYRAMID_CHANNELS
    anchors = AnchorGenerator(sizes=((16, 24), (32, 48), (64, 128)),
                              aspect_ratios=((0.5, 1.0, 2.0),) * len(STRIDES))
    return dict(
        **_resize_options(),
        rpn_anchor_generator=anchors,
        rpn_head=RPNHead(c, anchors.num_anchors_per_location()[0]),
        rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100,
        rpn_batch_size_per_image=128,
        # every box under 224 px maps to the finest level, so pool from it alone
        box_roi_pool=SeparableRoIAlign(["0"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(c * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, NUM_CLASSES),
        box_batch_size_per_image=64, box_detections_per_img=50)


def build_mask_rcnn() -> MaskRCNN:
    c = PYRAMID_CHANNELS
    model = MaskRCNN(ShapesPyramid(), num_classes=None,
                     mask_roi_pool=SeparableRoIAlign(["0"], output_size=14, sampling_ratio=2),
                     mask_head=MaskRCNNHeads(c, (64, 64), 1),
                     mask_predictor=MaskRCNNPredictor(64, 64, NUM_CLASSES),
                     **_two_stage_options())
    model.description = ("Mask R-CNN: 7-conv BN stack + 3-level FPN (64 ch, strides 8-32), "
                         "RPN anchors 16-128 px, 256-wide box head, 2x64 mask head")
    return model


def build_faster_rcnn() -> FasterRCNN:
    model = FasterRCNN(ShapesPyramid(), num_classes=None, **_two_stage_options())
    model.description = ("Faster R-CNN: the box path of the bundled Mask R-CNN (same backbone, "
                         "FPN, RPN and box head weights), without its mask head")
    return model


def build_fcos() -> FCOS:
    # One stride-8 level: FCOS gives a level the objects whose farthest side lies within
    # 8 anchor sizes of a cell, and at 128 px every shape fits the first level.
    anchors = AnchorGenerator(sizes=((STRIDES[0],),), aspect_ratios=((1.0,),))
    model = FCOS(ShapesPyramid(levels=1), num_classes=NUM_CLASSES, anchor_generator=anchors,
                 head=FCOSHead(PYRAMID_CHANNELS, 1, NUM_CLASSES, num_convs=3),
                 score_thresh=0.05, nms_thresh=0.6, detections_per_img=50, topk_candidates=200,
                 **_resize_options())
    model.description = ("FCOS: 7-conv BN stack + top-down pyramid, one stride-8 level "
                         "(64 ch), 3-conv GroupNorm heads")
    return model


def build_rfcn() -> nn.Module:
    from workbench.zoo.rfcn import build_rfcn as rfcn
    return rfcn(_two_stage_options(), ShapesPyramid(), NUM_CLASSES)


def box_path_state(mask_rcnn_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A Mask R-CNN state dict without its mask head: the Faster R-CNN's weights."""
    return {k: v for k, v in mask_rcnn_state.items()
            if not k.startswith(("roi_heads.mask_head.", "roi_heads.mask_predictor."))}


def build_detr() -> nn.Module:
    from workbench.zoo.detr import shapes_detr
    return shapes_detr()


BUILDERS = {"shapes-maskrcnn": build_mask_rcnn, "shapes-fasterrcnn": build_faster_rcnn,
            "shapes-fcos": build_fcos, "shapes-detr": build_detr}
BUILDERS["shapes-yolo"] = build_yolo
BUILDERS.update({"shapes-rcnn": build_rcnn, "shapes-sppnet": build_sppnet})
BUILDERS["shapes-rfcn"] = build_rfcn
