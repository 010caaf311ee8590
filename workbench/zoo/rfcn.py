"""R-FCN (Dai et al. 2016) on the bundled two-stage detector: the Faster R-CNN's backbone and RPN,
frozen, with a position-sensitive head in place of its per-region box head.

Every region shares one computation: a conv turns the stride-8 feature map into k x k score maps
per class (and k x k maps per box coordinate); ``ps_roi_align`` pools bin (i, j) of a region from
map (i, j) only, and the k x k bins vote by averaging. The head plugs into torchvision's
``RoIHeads`` as its pooler, box head and predictor, so the model is a torchvision ``FasterRCNN``
in every other way (its transform, RPN, sampling, losses and post-processing).
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.ops import ps_roi_align

K = 3                    # bins per side
LEVEL = "0"              # the pyramid's stride-8 level: every shape maps there
STRIDE = 8
HIDDEN = 128


class PositionSensitivePool(nn.Module):
    """``box_roi_pool``: (N, C+1+4, K, K), each bin pooled from its own score map."""

    def __init__(self, in_channels: int, num_classes: int, k: int = K) -> None:
        super().__init__()
        self.k, self.num_classes = k, num_classes
        self.reduce = nn.Sequential(nn.Conv2d(in_channels, HIDDEN, 3, padding=1), nn.ReLU(inplace=True))
        self.cls_maps = nn.Conv2d(HIDDEN, k * k * num_classes, 1)
        self.box_maps = nn.Conv2d(HIDDEN, k * k * 4, 1)

    def score_maps(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The position-sensitive maps: (B, K*K*(C+1), H, W) scores and (B, K*K*4, H, W) box terms;
        channel ``c * K*K + i * K + j`` holds class ``c`` for bin row ``i``, column ``j`` (ps_roi_align's order)."""
        hidden = self.reduce(features[LEVEL])
        return self.cls_maps(hidden), self.box_maps(hidden)

    def forward(self, features: dict[str, torch.Tensor], proposals: list[torch.Tensor],
                image_sizes: list[tuple[int, int]]) -> torch.Tensor:
        scores, boxes = self.score_maps(features)
        cls = ps_roi_align(scores, proposals, self.k, spatial_scale=1 / STRIDE, sampling_ratio=2)
        box = ps_roi_align(boxes, proposals, self.k, spatial_scale=1 / STRIDE, sampling_ratio=2)
        return torch.cat([cls, box], dim=1)


class Vote(nn.Module):
    """``box_head``: the K x K bins vote by averaging."""

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return pooled.mean(dim=(2, 3))


class SplitVotes(nn.Module):
    """``box_predictor``: class logits, and the class-agnostic box deltas repeated per class (the shape
    torchvision's post-processing and loss expect)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, votes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, deltas = votes[:, : self.num_classes], votes[:, self.num_classes:]
        return logits, deltas.repeat(1, self.num_classes)


class RFCN(FasterRCNN):
    """A Faster R-CNN whose backbone and RPN stay frozen in inference mode while the head trains."""

    def train(self, mode: bool = True) -> "RFCN":
        super().train(mode)
        self.backbone.eval()
        self.rpn.eval()
        return self


def build_rfcn(two_stage_options: dict, backbone: nn.Module, num_classes: int) -> RFCN:
    model = RFCN(backbone, num_classes=None, **two_stage_options)
    # torchvision's constructor accepts only its own pooler type, so the head is swapped in after it
    heads = model.roi_heads
    heads.box_roi_pool = PositionSensitivePool(backbone.out_channels, num_classes)
    heads.box_head, heads.box_predictor = Vote(), SplitVotes(num_classes)
    for p in [*model.backbone.parameters(), *model.rpn.parameters()]:
        p.requires_grad_(False)
    model.description = (f"R-FCN: the bundled Faster R-CNN's backbone and RPN (frozen) with a {K}x{K} "
                         f"position-sensitive head (3x3 conv to {HIDDEN}, 1x1 to score and box maps)")
    return model
