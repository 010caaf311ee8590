"""The bundled YOLO: one forward pass, an S x S grid, B boxes and one class distribution per cell.

As in Redmon et al. 2016 (YOLOv1), sized for 128x128 shapes scenes: a 7-conv BN stack down to
stride 16 gives an 8x8 grid (objects are 12-48 px; two object centres share a 16 px cell in
about 1% of the held-out objects), and a small conv head predicts per cell ``B = 2`` boxes,
each ``(x, y)`` offsets inside the cell, ``sqrt(w), sqrt(h)`` relative to the input and a
confidence, plus ``C`` class probabilities shared by the cell. A box's score for class ``c``
is ``confidence * P(c | object)``; per-class NMS keeps the final boxes.

The loss is YOLOv1's assignment: an object belongs to the cell holding its centre, and within
it to the one of the B boxes with the highest IoU to it. Coordinates are squared errors on
``x, y, sqrt(w), sqrt(h)`` weighted by ``lambda_coord = 5``; the responsible box's confidence
is pulled to its IoU with the object, every other box's to 0 weighted by ``lambda_noobj = 0.5``;
class scores count on object cells only. Confidences use binary cross-entropy and classes
cross-entropy instead of the paper's squared errors (they train faster from scratch on a CPU);
the head is convolutional instead of the paper's fully connected layers.

``forward`` follows torchvision's detectors (``transform`` resizes and normalises, the
``score_thresh`` / ``nms_thresh`` / ``detections_per_img`` attributes tune the post-processing);
``grid`` returns the pre-NMS outputs of every cell and ``detections_from_grid`` the final boxes
from them, which is all ``forward`` does in eval mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes

from workbench.zoo.detection_data import DETECTION_LABELS, SCENE_SIZE
from workbench.zoo.nets import conv_stack

NUM_CLASSES = len(DETECTION_LABELS) - 1   # the shapes; model label k + 1 is class k
IMAGE_MEAN = (0.390, 0.377, 0.374)        # as the other bundled detectors
IMAGE_STD = (0.226, 0.200, 0.215)
# max-pools after conv1-3 and conv5: stride 16, an 8x8 grid on 128 px
BACKBONE_WIDTHS = (32, 48, 64, 96, 128, 128, 128)
BACKBONE_POOLS = (True, True, True, False, True, False, False)
STRIDE = 16
BOXES_PER_CELL = 2


@dataclass
class YoloGrid:
    """Every cell's predictions before NMS, in the pixels of the (resized) input tensor.

    ``class_probs`` (N, S, S, C): P(class | object) per cell; ``confidences`` (N, S, S, B);
    ``boxes`` (N, S, S, B, 4) xyxy; ``image_sizes``: each image's size after the transform,
    ``original_sizes``: before it (what ``detections_from_grid`` maps the boxes back to).
    """
    class_probs: torch.Tensor
    confidences: torch.Tensor
    boxes: torch.Tensor
    stride: tuple[float, float]
    image_sizes: list[tuple[int, int]]
    original_sizes: list[tuple[int, int]]

    def class_scores(self) -> torch.Tensor:
        """(N, S, S, B, C) confidence x class probability: the score of every candidate."""
        return self.confidences[..., None] * self.class_probs[..., None, :]


class ShapesYOLO(nn.Module):
    description = ("YOLOv1-style: 7-conv BN stack to stride 16 (8x8 grid), conv head, "
                   "2 boxes + 6 class probabilities per cell")

    def __init__(self, num_classes: int = NUM_CLASSES, boxes_per_cell: int = BOXES_PER_CELL,
                 lambda_coord: float = 5.0, lambda_noobj: float = 0.5, score_thresh: float = 0.05,
                 nms_thresh: float = 0.5, detections_per_img: int = 50):
        super().__init__()
        self.num_classes, self.boxes_per_cell = num_classes, boxes_per_cell
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        self.score_thresh, self.nms_thresh, self.detections_per_img = score_thresh, nms_thresh, detections_per_img
        self.transform = GeneralizedRCNNTransform(SCENE_SIZE, SCENE_SIZE, list(IMAGE_MEAN),
                                                  list(IMAGE_STD), size_divisible=STRIDE)
        self.backbone = conv_stack(3, BACKBONE_WIDTHS, BACKBONE_POOLS)
        width = BACKBONE_WIDTHS[-1]
        self.predictor = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, boxes_per_cell * 5 + num_classes, 1))

    # -- the grid ---------------------------------------------------------------------------
    def _raw(self, tensors: torch.Tensor) -> torch.Tensor:
        """(N, S, S, B*5 + C) head outputs, cell (row, column) last-but-one."""
        return self.predictor(self.backbone(tensors)).permute(0, 2, 3, 1)

    def _split(self, raw: torch.Tensor):
        n, s_h, s_w, _ = raw.shape
        b = self.boxes_per_cell
        per_box = raw[..., :5 * b].reshape(n, s_h, s_w, b, 5)
        return per_box[..., :2].sigmoid(), per_box[..., 2:4].sigmoid(), per_box[..., 4], raw[..., 5 * b:]

    @staticmethod
    def _decode(xy: torch.Tensor, sqrt_wh: torch.Tensor, input_hw: tuple[int, int]) -> torch.Tensor:
        """Cell offsets and sqrt sizes -> (N, S, S, B, 4) xyxy in input pixels."""
        _, s_h, s_w = xy.shape[:3]
        h, w = input_hw
        rows = torch.arange(s_h, dtype=xy.dtype, device=xy.device)[:, None, None]
        cols = torch.arange(s_w, dtype=xy.dtype, device=xy.device)[None, :, None]
        cx = (cols + xy[..., 0]) * (w / s_w)
        cy = (rows + xy[..., 1]) * (h / s_h)
        bw, bh = sqrt_wh[..., 0] ** 2 * w, sqrt_wh[..., 1] ** 2 * h
        return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)

    def grid(self, images) -> YoloGrid:
        """The pre-NMS outputs of every cell for a list of CHW images (or a batch)."""
        original = [tuple(im.shape[-2:]) for im in images]
        batch, _ = self.transform(list(images))
        raw = self._raw(batch.tensors)
        xy, sqrt_wh, conf_logits, class_logits = self._split(raw)
        input_hw = tuple(batch.tensors.shape[-2:])
        s_h, s_w = raw.shape[1:3]
        return YoloGrid(class_probs=class_logits.softmax(-1), confidences=conf_logits.sigmoid(),
                        boxes=self._decode(xy, sqrt_wh, input_hw),
                        stride=(input_hw[0] / s_h, input_hw[1] / s_w),
                        image_sizes=[tuple(s) for s in batch.image_sizes], original_sizes=original)

    def detections_from_grid(self, grid: YoloGrid) -> list[dict[str, torch.Tensor]]:
        """Per image: candidates scoring above ``score_thresh``, per-class NMS, the best
        ``detections_per_img``; ``cells`` (row * S + column) and ``slots`` (which of the B
        boxes) name where each detection came from."""
        scores_all = grid.class_scores()
        n, s_h, s_w, b, c = scores_all.shape
        out = []
        for k in range(n):
            scores = scores_all[k].reshape(-1)
            keep = torch.nonzero(scores > self.score_thresh).squeeze(1)
            cell_box, label = keep // c, keep % c
            boxes = clip_boxes_to_image(grid.boxes[k].reshape(-1, 4)[cell_box], grid.image_sizes[k])
            scores = scores[keep]
            valid = remove_small_boxes(boxes, 1e-2)
            boxes, scores, label, cell_box = boxes[valid], scores[valid], label[valid], cell_box[valid]
            kept = batched_nms(boxes, scores, label, self.nms_thresh)[:self.detections_per_img]
            out.append({"boxes": boxes[kept], "scores": scores[kept], "labels": label[kept] + 1,
                        "cells": cell_box[kept] // b, "slots": cell_box[kept] % b})
        return self.transform.postprocess(out, grid.image_sizes, grid.original_sizes)

    def postprocess_detections(self, grid: YoloGrid) -> list[dict[str, torch.Tensor]]:
        """As torchvision's one-stage detectors name their post-processing (thresholds, NMS)."""
        return self.detections_from_grid(grid)

    # -- forward ----------------------------------------------------------------------------
    def forward(self, images, targets: list[dict[str, torch.Tensor]] | None = None):
        if not self.training:
            return self.detections_from_grid(self.grid(images))
        if targets is None:
            raise ValueError("ShapesYOLO in training mode needs targets (boxes and labels)")
        batch, targets = self.transform(list(images), [dict(t) for t in targets])
        raw = self._raw(batch.tensors)
        return self.loss(raw, targets, tuple(batch.tensors.shape[-2:]))

    # -- the loss ---------------------------------------------------------------------------
    def assign(self, pred_boxes: torch.Tensor, gt_boxes: torch.Tensor, input_hw: tuple[int, int]):
        """YOLOv1's responsibility for one image: object -> (row, column, box slot, IoU).

        ``pred_boxes`` (S, S, B, 4) xyxy; the cell is the one holding the object's centre,
        the slot the box with the highest IoU to it. When two centres share a cell the later
        object keeps it (one class per cell).
        """
        s_h, s_w = pred_boxes.shape[:2]
        h, w = input_hw
        by_cell: dict[tuple[int, int], tuple[int, int, int, int, float]] = {}
        for k, box in enumerate(gt_boxes):
            cx, cy = float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
            row = min(max(int(cy // (h / s_h)), 0), s_h - 1)
            col = min(max(int(cx // (w / s_w)), 0), s_w - 1)
            ious = box_iou(pred_boxes[row, col], box[None])[:, 0]
            slot = int(ious.argmax())
            by_cell[(row, col)] = (k, row, col, slot, float(ious[slot]))
        return list(by_cell.values())

    def loss(self, raw: torch.Tensor, targets: list[dict], input_hw: tuple[int, int]) -> dict:
        xy, sqrt_wh, conf_logits, class_logits = self._split(raw)
        n, s_h, s_w, b = conf_logits.shape
        h, w = input_hw
        with torch.no_grad():
            pred = self._decode(xy, sqrt_wh, input_hw)
        obj = torch.zeros_like(conf_logits, dtype=torch.bool)
        iou_target = torch.zeros_like(conf_logits)
        xy_target, wh_target = torch.zeros_like(xy), torch.zeros_like(sqrt_wh)
        cls_target = torch.full((n, s_h, s_w), -100, dtype=torch.long, device=raw.device)
        for i, t in enumerate(targets):
            boxes = t["boxes"]
            for k, row, col, slot, iou in self.assign(pred[i], boxes, input_hw):
                x0, y0, x1, y1 = boxes[k]
                obj[i, row, col, slot] = True
                iou_target[i, row, col, slot] = iou
                xy_target[i, row, col, slot] = torch.stack([(x0 + x1) / 2 / (w / s_w) - col,
                                                            (y0 + y1) / 2 / (h / s_h) - row])
                wh_target[i, row, col, slot] = torch.stack([((x1 - x0) / w).clamp(min=0).sqrt(),
                                                            ((y1 - y0) / h).clamp(min=0).sqrt()])
                cls_target[i, row, col] = t["labels"][k] - 1
        coord = ((xy - xy_target) ** 2 + (sqrt_wh - wh_target) ** 2).sum(-1)
        conf = F.binary_cross_entropy_with_logits(conf_logits, iou_target, reduction="none")
        classes = F.cross_entropy(class_logits.reshape(-1, self.num_classes), cls_target.reshape(-1),
                                  reduction="sum")
        return {"loss_coord": self.lambda_coord * coord[obj].sum() / n,
                "loss_obj": conf[obj].sum() / n,
                "loss_noobj": self.lambda_noobj * conf[~obj].sum() / n,
                "loss_class": classes / n}


def build_yolo() -> ShapesYOLO:
    return ShapesYOLO()
