"""The bundled R-CNN (Girshick et al. 2014) and SPPNet (He et al. 2014): region classifiers over
selective-search proposals, sized for 128x128 shapes scenes and sharing one small conv backbone.

- ``ShapesRCNN`` warps every proposal to ``WARP`` x ``WARP`` pixels, with R-CNN's context padding
  scaled to the shapes world (the paper keeps 16 px of image context around the box in a 227 px
  warp; here ``CONTEXT`` = 4 px of 48: the box itself fills the middle 40 x 40), and runs the
  backbone once per region, then an FC head.
- ``ShapesSPPNet`` runs the same backbone once on the whole image and max-pools each proposal's
  window of the stride-8 feature map into a spatial pyramid of 1x1, 2x2 and 4x4 bins (21 bins per
  channel), then an FC head.

Both heads give a softmax over the six shapes plus background (Fast R-CNN's choice; R-CNN trained
one linear SVM per class on the fine-tuned features) and class-specific box regression in R-CNN's
parametrisation (dx, dy relative to the proposal's size, dw, dh as log ratios; scaled by
``BOX_WEIGHTS`` as torchvision's ``BoxCoder`` does), then per-class NMS. A window covers the feature
cells ``round(x / 8)`` .. ``round(x1 / 8)`` (inclusive, clipped to the map), and the bins of a level
split it as adaptive max pooling does, as ``torchvision.ops.roi_pool`` bins a region.

Proposals come from selective search (fast mode, the best ``max_proposals``) unless given. In
training mode ``forward(images, targets)`` samples regions per
image (ground truth, jittered ground truth, random boxes and any ``targets[i]["proposals"]``),
labels them by IoU (>= 0.5: the box's class, else background, as R-CNN's fine-tuning did) and
returns the classification and box-regression losses.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes, roi_pool

from workbench.zoo.detection_data import DETECTION_LABELS
from workbench.zoo.nets import conv_stack
from workbench.zoo.selective_search import selective_search

NUM_CLASSES = len(DETECTION_LABELS)        # background + the six shapes
IMAGE_MEAN = (0.390, 0.377, 0.374)         # as the other bundled detectors
IMAGE_STD = (0.226, 0.200, 0.215)
BACKBONE_WIDTHS = (32, 64, 96, 128)
BACKBONE_POOLS = (True, True, True, False)  # stride 8
STRIDE = 8
WARP = 48                                   # R-CNN: 227
CONTEXT = 4
PYRAMID = (1, 2, 4)
HIDDEN = 256
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
MAX_PROPOSALS = 500
FG_IOU = 0.5
REGIONS_PER_IMAGE = 32
FG_FRACTION = 0.25
CHUNK = 256                                 # warped regions per backbone call


def propose(rgb: np.ndarray, max_proposals: int) -> np.ndarray:
    """The proposals of an image: selective search, fast mode, the best ``max_proposals`` (N, 4) xyxy."""
    return selective_search(rgb, "fast", max_proposals=max_proposals).boxes


def backbone() -> nn.Sequential:
    return conv_stack(3, BACKBONE_WIDTHS, BACKBONE_POOLS)


def context_windows(boxes: torch.Tensor, context: int = CONTEXT, warp: int = WARP) -> torch.Tensor:
    """Boxes dilated so that, warped to ``warp`` px, ``context`` px of image surround the box."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2 * (warp / (warp - 2 * context))
    return torch.cat([centre - half, centre + half], 1)


def warp_regions(image: torch.Tensor, windows: torch.Tensor, size: int = WARP) -> torch.Tensor:
    """(N, C, size, size): each xyxy window of the (C, H, W) image resized bilinearly (sampled at
    the centres of a size x size grid over the window); outside the image is 0 (the mean, once
    normalised, as R-CNN fills it)."""
    _, h, w = image.shape
    steps = (torch.arange(size, dtype=image.dtype, device=image.device) + 0.5) / size
    xs = windows[:, 0:1] + steps * (windows[:, 2:3] - windows[:, 0:1])   # (N, size)
    ys = windows[:, 1:2] + steps * (windows[:, 3:4] - windows[:, 1:2])
    gx = (2 * xs / w - 1)[:, None, :].expand(-1, size, -1)
    gy = (2 * ys / h - 1)[:, :, None].expand(-1, -1, size)
    grid = torch.stack([gx, gy], -1)
    return F.grid_sample(image[None].expand(len(windows), -1, -1, -1), grid, mode="bilinear",
                         padding_mode="zeros", align_corners=False)


def feature_windows(boxes: torch.Tensor, map_hw: tuple[int, int], stride: int = STRIDE) -> torch.Tensor:
    """(N, 4) long: the first and last feature cells (x0, y0, x1, y1, inclusive) of each box."""
    cells = torch.floor(boxes / stride + 0.5).long()
    limit = torch.tensor([map_hw[1], map_hw[0], map_hw[1], map_hw[0]], device=boxes.device) - 1
    cells = torch.minimum(cells.clamp(min=0), limit)
    cells[:, 2:] = torch.maximum(cells[:, 2:], cells[:, :2])
    return cells


def bin_edges(first: int, last: int, n: int) -> list[tuple[int, int]]:
    """The cells [start, end) of each of ``n`` bins over cells first..last, as adaptive pooling splits them."""
    length = last - first + 1
    return [(first + (i * length) // n, first + -(-((i + 1) * length) // n)) for i in range(n)]


def pyramid_pool(features: torch.Tensor, cells: torch.Tensor, levels: tuple[int, ...] = PYRAMID) -> torch.Tensor:
    """(N, C * sum(n * n)): each window's cells of the (C, h, w) map max-pooled into n x n bins per
    level, levels concatenated (each level channel-major, as ``flatten`` of (C, n, n)). ``roi_pool``
    on the windows in cell units bins them as ``adaptive_max_pool2d`` of the window would."""
    rois = torch.cat([cells.new_zeros((len(cells), 1)), cells], 1).to(features.dtype)
    return torch.cat([roi_pool(features[None], rois, n, 1.0).flatten(1) for n in levels], 1)


def _head(inputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, HIDDEN), nn.ReLU(inplace=True), nn.Dropout(0.25),
                         nn.Linear(HIDDEN, HIDDEN), nn.ReLU(inplace=True))


class RegionDetector(nn.Module):
    """What R-CNN and SPPNet share: normalisation, proposals, region sampling, the loss and the
    post-processing. Subclasses give ``region_logits(image, boxes) -> (class logits, deltas)``."""

    def __init__(self, score_thresh: float = 0.05, nms_thresh: float = 0.3, detections_per_img: int = 50,
                 max_proposals: int = MAX_PROPOSALS):
        super().__init__()
        self.score_thresh, self.nms_thresh, self.detections_per_img = score_thresh, nms_thresh, detections_per_img
        self.max_proposals = max_proposals
        self.box_coder = BoxCoder(BOX_WEIGHTS)
        self.backbone = backbone()
        self.register_buffer("mean", torch.tensor(IMAGE_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGE_STD).view(3, 1, 1), persistent=False)

    def normalise(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std

    def proposals(self, image: torch.Tensor) -> torch.Tensor:
        """The installed proposer's (selective search, fast) best ``max_proposals`` boxes for a
        (3, H, W) image in [0, 1]."""
        rgb = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        return torch.from_numpy(np.asarray(propose(rgb, self.max_proposals), np.float32)).to(image.device)

    def classify(self, image: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class probabilities (N, K) and class-specific boxes (N, K, 4) of proposals in one image."""
        logits, deltas = self.region_logits(self.normalise(image), boxes)
        decoded = self.box_coder.decode_single(deltas.reshape(len(boxes), -1), boxes) if len(boxes) else \
            boxes.new_zeros((0, NUM_CLASSES * 4))
        return logits.softmax(-1), decoded.reshape(len(boxes), -1, 4)

    def detect(self, image: torch.Tensor, boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-class NMS over every proposal's class-specific boxes; ``proposal_index`` names the
        proposal each detection came from."""
        return self.select(image, *self.classify(image, boxes))

    def select(self, image: torch.Tensor, probs: torch.Tensor, decoded: torch.Tensor) -> dict[str, torch.Tensor]:
        """``detect``'s selection from regions already classified (``classify``'s output): the
        score threshold, per-class NMS and the detection limit, as they are set now."""
        n, k = probs.shape
        decoded = clip_boxes_to_image(decoded, tuple(image.shape[-2:]))
        scores, all_boxes = probs[:, 1:].reshape(-1), decoded[:, 1:].reshape(-1, 4)
        labels = torch.arange(1, k, device=image.device).repeat(n)
        index = torch.arange(n, device=image.device).repeat_interleave(k - 1)
        keep = scores > self.score_thresh
        keep &= torch.zeros_like(keep).index_fill_(0, remove_small_boxes(all_boxes, 1e-2), True)
        scores, all_boxes, labels, index = scores[keep], all_boxes[keep], labels[keep], index[keep]
        kept = batched_nms(all_boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
        return {"boxes": all_boxes[kept], "scores": scores[kept], "labels": labels[kept],
                "proposal_index": index[kept]}

    def forward(self, images, targets: list[dict] | None = None, proposals: list[torch.Tensor] | None = None):
        images = list(images)
        if self.training:
            if targets is None:
                raise ValueError(f"{type(self).__name__} in training mode needs targets (boxes and labels)")
            return self.loss(images, targets)
        if proposals is None:
            proposals = [self.proposals(im) for im in images]
        return [self.detect(im, p.to(im.dtype)) for im, p in zip(images, proposals)]

    # -- training ---------------------------------------------------------------------------
    def sample_regions(self, target: dict, image_hw: tuple[int, int], generator: torch.Generator | None = None):
        """Regions of one training image with their labels (0: background) and box targets."""
        gt, gt_labels = target["boxes"], target["labels"]
        h, w = image_hw
        size = (gt[:, 2:] - gt[:, :2]).repeat_interleave(24, 0)
        shift = (torch.rand(len(size), 2, generator=generator) - 0.5) * 0.6 * size
        scale = torch.exp((torch.rand(len(size), 2, generator=generator) - 0.5) * 0.8)
        centre = (gt[:, :2] + gt[:, 2:]).repeat_interleave(24, 0) / 2 + shift
        jittered = torch.cat([centre - size * scale / 2, centre + size * scale / 2], 1)
        wh = torch.rand(48, 2, generator=generator) * torch.tensor([w * 0.5, h * 0.5]) + 8
        corner = torch.rand(48, 2, generator=generator) * (torch.tensor([w, h]) - wh)
        rand = torch.cat([corner, corner + wh], 1)
        extra = target.get("proposals", gt.new_zeros((0, 4)))
        boxes = clip_boxes_to_image(torch.cat([gt, jittered, rand, extra]), image_hw)
        boxes = boxes[remove_small_boxes(boxes, 4.0)]
        iou, match = box_iou(boxes, gt).max(1) if len(gt) else (boxes.new_zeros(len(boxes)), None)
        fg = torch.nonzero(iou >= FG_IOU).squeeze(1)
        bg = torch.nonzero(iou < FG_IOU).squeeze(1)
        n_fg = min(len(fg), int(REGIONS_PER_IMAGE * FG_FRACTION))
        fg = fg[torch.randperm(len(fg), generator=generator)[:n_fg]]
        bg = bg[torch.randperm(len(bg), generator=generator)[:REGIONS_PER_IMAGE - n_fg]]
        chosen = torch.cat([fg, bg])
        labels = torch.zeros(len(chosen), dtype=torch.long)
        matched = gt.new_zeros((len(chosen), 4))
        if n_fg:
            labels[:n_fg] = gt_labels[match[fg]]
            matched[:n_fg] = gt[match[fg]]
        return boxes[chosen], labels, matched

    def loss(self, images: list[torch.Tensor], targets: list[dict]) -> dict[str, torch.Tensor]:
        logits, deltas, labels, goal, regions = [], [], [], [], []
        for image, target in zip(images, targets):
            boxes, lab, matched = self.sample_regions(target, tuple(image.shape[-2:]))
            lg, dl = self.region_logits(self.normalise(image), boxes)
            logits.append(lg), deltas.append(dl), labels.append(lab), goal.append(matched), regions.append(boxes)
        logits, deltas, labels = torch.cat(logits), torch.cat(deltas), torch.cat(labels)
        fg = torch.nonzero(labels > 0).squeeze(1)
        encoded = self.box_coder.encode_single(torch.cat(goal)[fg], torch.cat(regions)[fg])
        picked = deltas.reshape(len(labels), -1, 4)[fg, labels[fg]]
        box_loss = F.smooth_l1_loss(picked, encoded, beta=1 / 9, reduction="sum") / max(len(labels), 1)
        return {"loss_classifier": F.cross_entropy(logits, labels), "loss_box_reg": box_loss}


class ShapesRCNN(RegionDetector):
    description = (f"R-CNN: each selective-search region warped to {WARP}x{WARP} with {CONTEXT} px of "
                   f"context, 4 conv-BN-ReLU (stride 8), FC {HIDDEN}-{HIDDEN}, softmax over 6 shapes + "
                   f"background and class-specific box regression, per-class NMS")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        cells = WARP // STRIDE
        self.head = _head(BACKBONE_WIDTHS[-1] * cells * cells)
        self.cls_score = nn.Linear(HIDDEN, NUM_CLASSES)
        self.bbox_pred = nn.Linear(HIDDEN, NUM_CLASSES * 4)

    def warp(self, image: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """The normalised (N, 3, WARP, WARP) crops R-CNN classifies for ``boxes`` of the normalised image."""
        return warp_regions(image, context_windows(boxes))

    def region_logits(self, image: torch.Tensor, boxes: torch.Tensor):
        outs = [self.head(self.backbone(self.warp(image, boxes[i:i + CHUNK])).flatten(1))
                for i in range(0, len(boxes), CHUNK)]
        hidden = torch.cat(outs) if outs else image.new_zeros((0, HIDDEN))
        return self.cls_score(hidden), self.bbox_pred(hidden)


class ShapesSPPNet(RegionDetector):
    description = (f"SPPNet: the R-CNN's 4 conv-BN-ReLU layers (stride 8) run once per image, each "
                   f"selective-search region's window max-pooled into a {'+'.join(f'{n}x{n}' for n in PYRAMID)} "
                   f"spatial pyramid, FC {HIDDEN}-{HIDDEN}, softmax over 6 shapes + background and "
                   f"class-specific box regression, per-class NMS")
    levels = PYRAMID

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.head = _head(BACKBONE_WIDTHS[-1] * sum(n * n for n in PYRAMID))
        self.cls_score = nn.Linear(HIDDEN, NUM_CLASSES)
        self.bbox_pred = nn.Linear(HIDDEN, NUM_CLASSES * 4)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """The (C, h, w) conv map of a normalised (3, H, W) image: the one forward per image."""
        return self.backbone(image[None])[0]

    def region_logits(self, image: torch.Tensor, boxes: torch.Tensor):
        fmap = self.features(image)
        pooled = pyramid_pool(fmap, feature_windows(boxes, tuple(fmap.shape[-2:])))
        hidden = self.head(pooled)
        return self.cls_score(hidden), self.bbox_pred(hidden)


def build_rcnn() -> ShapesRCNN:
    return ShapesRCNN()


def build_sppnet() -> ShapesSPPNet:
    return ShapesSPPNet()
