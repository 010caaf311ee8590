"""What a DETR attends to: its encoder's self-attention, each decoder layer's cross-attention
from the object queries to the image tokens, and what every query predicts at every layer.

A DETR here is a module with ``batch(images)`` (normalising), ``predict(x)`` returning per
decoder layer ``logits`` (layers, N, queries, classes + 1; the last class is "no object") and
``boxes`` (cx, cy, w, h fractions) plus the token grid ``feature_hw``, and attention layers that
are ``nn.MultiheadAttention`` (read with ``capture_attention``). The calls are told apart by
shape: encoder self-attention is tokens x tokens, decoder self-attention queries x queries and
cross-attention queries x tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.attention.capture import AttentionCaptureError, capture_attention
from workbench.core.model_traits import has_object_queries
from workbench.zoo.set_prediction import cxcywh_to_xyxy


@dataclass
class DetrReading:
    logits: np.ndarray          # (layers, queries, classes + 1)
    boxes: np.ndarray           # (layers, queries, 4) xyxy pixels of the model's input
    cross: np.ndarray           # (layers, heads, queries, tokens)
    encoder: np.ndarray         # (encoder layers, heads, tokens, tokens)
    feature_hw: tuple[int, int]
    cross_names: list[str]
    encoder_names: list[str]

    @property
    def probs(self) -> np.ndarray:
        e = np.exp(self.logits - self.logits.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)


@torch.no_grad()
def read_detr(model: nn.Module, x: torch.Tensor) -> DetrReading:
    """Run ``model`` on the first image of ``x`` (float RGB in [0, 1]) and read its attention."""
    if not has_object_queries(model):
        raise AttentionCaptureError(f"{type(model).__name__} is not a DETR: it has no object queries "
                                    f"(num_queries, batch, predict)")
    model.eval()
    batch = model.batch(x[:1])
    with capture_attention(model) as captured:
        out = model.predict(batch)
    h, w = out.feature_hw
    tokens, queries = h * w, model.num_queries
    encoder, cross, enc_names, cross_names = [], [], [], []
    for name, weights in zip(captured.names, captured.weights):
        q, k = weights.shape[-2:]
        if (q, k) == (tokens, tokens):
            encoder.append(weights[0])
            enc_names.append(name)
        elif (q, k) == (queries, tokens):
            cross.append(weights[0])
            cross_names.append(name)
    if not cross:
        raise AttentionCaptureError(f"no cross-attention from {queries} queries to {tokens} image "
                                    f"tokens was captured in {type(model).__name__}")
    ih, iw = batch.shape[-2:]
    xyxy = cxcywh_to_xyxy(out.boxes[:, 0]) * torch.tensor([iw, ih, iw, ih], dtype=out.boxes.dtype)
    return DetrReading(logits=out.logits[:, 0].float().numpy(), boxes=xyxy.float().numpy(),
                       cross=torch.stack(cross).float().numpy(),
                       encoder=(torch.stack(encoder).float().numpy() if encoder
                                else np.zeros((0, 0, tokens, tokens), np.float32)),
                       feature_hw=(h, w), cross_names=cross_names, encoder_names=enc_names)


def matching_cost(probs: np.ndarray, boxes: np.ndarray, gt_boxes: np.ndarray, gt_classes: np.ndarray,
                  image_hw: tuple[int, int]) -> np.ndarray:
    """(queries, objects): DETR's Hungarian cost, 1 x -p(class) + 5 x L1 + 2 x -GIoU, with boxes
    as fractions of the image (Carion et al. 2020). ``gt_classes`` index the class head."""
    from workbench.zoo.detr_loss import pair_cost
    h, w = image_hw
    scale = np.array([w, h, w, h], np.float32)
    pred = torch.as_tensor(np.asarray(boxes, np.float32) / scale)
    gt = torch.as_tensor(np.asarray(gt_boxes, np.float32).reshape(-1, 4) / scale)
    cls = torch.as_tensor(probs[:, np.asarray(gt_classes, np.int64)])
    return pair_cost(cls, pred, gt).numpy()


def hungarian(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query per object, object per query): the one-to-one assignment of least total cost;
    -1 for a query that took no object."""
    from scipy.optimize import linear_sum_assignment
    rows, cols = linear_sum_assignment(cost)
    query_of_object = np.full(cost.shape[1], -1, np.int64)
    query_of_object[cols] = rows
    object_of_query = np.full(cost.shape[0], -1, np.int64)
    object_of_query[rows] = cols
    return query_of_object, object_of_query
