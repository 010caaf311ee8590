"""Run a torchvision-style detector and keep its whole pipeline, not just the final boxes.

Two-stage models (``GeneralizedRCNN``: Faster/Mask R-CNN) are run stage by stage, exactly as
their ``forward`` does in eval mode, so the RPN proposals with their objectness and the
per-class boxes that go into NMS come out alongside the final detections. One-stage models
(FCOS, RetinaNet, SSD) are run twice: once as they are, once with NMS switched off, which
gives their candidates before NMS from their own post-processing code. Set predictors (DETR)
have no NMS: every object query's box, with its best class, is a candidate, and the final
boxes are the queries that score above the threshold. Keypoint R-CNN's keypoints come out with
its final boxes.

Everything is first captured in the pixels of the tensor fed to the model
(:class:`ModelSpacePipeline`), then mapped through the handle's geometry to image pixels
(:class:`DetectionPipeline`).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.hooks import capture_outputs
from workbench.core.model_traits import has_object_queries, is_region_classifier
from workbench.core.results.detections import DetectionPipeline, PipelineStages, empty_boxes

# detections_per_img while collecting candidates: high enough never to cut any
NO_LIMIT = 1_000_000
# an IoU threshold no pair of boxes exceeds, so NMS keeps every box
NMS_OFF = 1.0
MASK_THRESHOLD = 0.5

COCO_KEYPOINT_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle"]
# COCO's person skeleton, as 0-based pairs of keypoint indices
COCO_SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
                 (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]


def keypoint_layout(k: int) -> tuple[list[str], list[tuple[int, int]]]:
    """Names and skeleton for K keypoints: COCO's person when K is 17, else numbered points."""
    if k == len(COCO_KEYPOINT_NAMES):
        return list(COCO_KEYPOINT_NAMES), list(COCO_SKELETON)
    return [f"keypoint_{i}" for i in range(k)], []


@dataclass
class ModelSpacePipeline(PipelineStages):
    """A detector's stages in the pixels of its input tensor; ``masks`` are probabilities."""
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    masks: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None


@contextmanager
def overridden(obj: Any, **values: Any) -> Iterator[None]:
    """Set attributes for the duration of the block (``None`` values are left alone)."""
    values = {k: v for k, v in values.items() if v is not None}
    old = {k: getattr(obj, k) for k in values}
    try:
        for k, v in values.items():
            setattr(obj, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(obj, k, v)


def is_two_stage(model: nn.Module) -> bool:
    return all(hasattr(model, a) for a in ("transform", "backbone", "rpn", "roi_heads"))


def is_one_stage(model: nn.Module) -> bool:
    return all(hasattr(model, a) for a in ("transform", "postprocess_detections", "nms_thresh",
                                           "detections_per_img", "score_thresh"))


def capture_pipeline(model: nn.Module, x: torch.Tensor, score_threshold: float | None = None,
                     max_detections: int | None = None) -> ModelSpacePipeline:
    """Run ``model`` on the (1, C, h, w) tensor ``x`` in eval mode and capture its stages.

    ``score_threshold`` and ``max_detections`` replace the model's own box score threshold
    and detections per image for this run only (``None`` or 0: the model's own).
    """
    model.eval()
    max_detections = max_detections or None
    with torch.no_grad():
        if is_two_stage(model):
            with overridden(model.roi_heads, score_thresh=score_threshold,
                             detections_per_img=max_detections):
                return _two_stage(model, x)
        if is_one_stage(model):
            with overridden(model, score_thresh=score_threshold, detections_per_img=max_detections):
                return _one_stage(model, x)
        if has_object_queries(model) and hasattr(model, "detections"):
            return _set_prediction(model, x, score_threshold)
        if is_region_classifier(model):
            with overridden(model, score_thresh=score_threshold, detections_per_img=max_detections):
                return _region_classifier(model, x)
        start = time.perf_counter()
        out = model([x[0]])
        elapsed = (time.perf_counter() - start) * 1000
        return _final(out[0], elapsed, notes=[f"{type(model).__name__} exposes no stages before its "
                                              f"final detections; no proposals or pre-NMS boxes"])


def _final(out: dict[str, torch.Tensor], time_ms: float, **extra: Any) -> ModelSpacePipeline:
    masks, keypoints, kp_scores = out.get("masks"), out.get("keypoints"), out.get("keypoints_scores")
    return ModelSpacePipeline(
        boxes=_np(out["boxes"], np.float32), scores=_np(out["scores"], np.float32),
        labels=_np(out["labels"], np.int64),
        masks=None if masks is None else _np(masks[:, 0], np.float32),
        keypoints=None if keypoints is None else _np(keypoints, np.float32),
        keypoint_scores=None if kp_scores is None else _np(kp_scores, np.float32),
        time_ms=time_ms, **extra)


def _np(t: torch.Tensor, dtype: type) -> np.ndarray:
    return t.detach().cpu().numpy().astype(dtype)


def _two_stage(model: nn.Module, x: torch.Tensor) -> ModelSpacePipeline:
    """GeneralizedRCNN.forward in eval mode, stage by stage."""
    from torchvision.models.detection.transform import resize_boxes
    roi = model.roi_heads
    original = tuple(x.shape[-2:])
    start = time.perf_counter()
    images, _ = model.transform([x[0]])
    features = model.backbone(images.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    proposals, objectness = _rpn_proposals(model.rpn, images, features)
    with capture_outputs(roi, {"box_predictor": roi.box_predictor}) as captured:
        detections, _ = roi(features, proposals, images.image_sizes)
    detections = model.transform.postprocess(detections, images.image_sizes, [original])
    elapsed = (time.perf_counter() - start) * 1000

    class_logits, box_regression = captured["box_predictor"]
    with overridden(roi, nms_thresh=NMS_OFF, detections_per_img=NO_LIMIT):
        (pre_boxes,), (pre_scores,), (pre_labels,) = roi.postprocess_detections(
            class_logits, box_regression, proposals, images.image_sizes)
    resized = images.image_sizes[0]
    return _final(detections[0], elapsed,
                  proposals=_np(resize_boxes(proposals[0], resized, original), np.float32),
                  proposal_scores=_np(objectness[0], np.float32),
                  pre_nms_boxes=_np(resize_boxes(pre_boxes, resized, original), np.float32),
                  pre_nms_scores=_np(pre_scores, np.float32), pre_nms_labels=_np(pre_labels, np.int64),
                  nms_threshold=float(roi.nms_thresh), max_detections=int(roi.detections_per_img),
                  architecture="two-stage")


def _rpn_proposals(rpn: nn.Module, images: Any, features: "OrderedDict[str, torch.Tensor]"):
    """RegionProposalNetwork.forward in eval mode, keeping the objectness it drops."""
    from torchvision.models.detection.rpn import concat_box_prediction_layers
    maps = list(features.values())
    objectness, deltas = rpn.head(maps)
    anchors = rpn.anchor_generator(images, maps)
    per_level = [o[0].numel() for o in objectness]
    objectness, deltas = concat_box_prediction_layers(objectness, deltas)
    proposals = rpn.box_coder.decode(deltas.detach(), anchors).view(len(anchors), -1, 4)
    return rpn.filter_proposals(proposals, objectness, images.image_sizes, per_level)


def _one_stage(model: nn.Module, x: torch.Tensor) -> ModelSpacePipeline:
    start = time.perf_counter()
    final = model([x[0]])[0]
    elapsed = (time.perf_counter() - start) * 1000
    with overridden(model, nms_thresh=NMS_OFF, detections_per_img=NO_LIMIT):
        candidates = model([x[0]])[0]
    return _final(final, elapsed, pre_nms_boxes=_np(candidates["boxes"], np.float32),
                  pre_nms_scores=_np(candidates["scores"], np.float32),
                  pre_nms_labels=_np(candidates["labels"], np.int64),
                  nms_threshold=float(model.nms_thresh), max_detections=int(model.detections_per_img),
                  architecture="one-stage",
                  notes=[f"{type(model).__name__} is one-stage: no region proposals"])


def _region_classifier(model: nn.Module, x: torch.Tensor) -> ModelSpacePipeline:
    """R-CNN and SPPNet: selective-search proposals (ranked: they carry no objectness), every
    proposal's class-specific boxes before NMS, and the final detections."""
    from workbench.core.results.proposals import rank_scores
    start = time.perf_counter()
    proposals = model.proposals(x[0])
    classified = model.classify(x[0], proposals)
    final = model.select(x[0], *classified)
    elapsed = (time.perf_counter() - start) * 1000
    with overridden(model, nms_thresh=NMS_OFF, detections_per_img=NO_LIMIT):
        candidates = model.select(x[0], *classified)
    return _final(final, elapsed, proposals=_np(proposals, np.float32), proposal_scores=rank_scores(len(proposals)),
                  pre_nms_boxes=_np(candidates["boxes"], np.float32),
                  pre_nms_scores=_np(candidates["scores"], np.float32),
                  pre_nms_labels=_np(candidates["labels"], np.int64),
                  nms_threshold=float(model.nms_thresh), max_detections=int(model.detections_per_img),
                  architecture="region classifier",
                  notes=[f"{type(model).__name__} classifies selective-search proposals, coloured by rank "
                         f"(they carry no objectness)"])


def _set_prediction(model: nn.Module, x: torch.Tensor, score_threshold: float | None) -> ModelSpacePipeline:
    start = time.perf_counter()
    batch = model.batch(x[:1])
    out = model.predict(batch)
    input_hw = tuple(batch.shape[-2:])
    final = model.detections(out, input_hw, score_threshold)[0]
    elapsed = (time.perf_counter() - start) * 1000
    every = model.detections(out, input_hw, -1.0)[0]
    order = every["queries"].argsort()
    return _final(final, elapsed, pre_nms_boxes=_np(every["boxes"][order], np.float32),
                  pre_nms_scores=_np(every["scores"][order], np.float32),
                  pre_nms_labels=_np(every["labels"][order], np.int64),
                  architecture="set prediction",
                  notes=[f"{type(model).__name__} predicts a set with {model.num_queries} object "
                         f"queries: no proposals and no NMS; the candidates are every query's box "
                         f"with its best class, in query order"])


def to_image_pixels(p: ModelSpacePipeline, geometry: Geometry, image_hw: tuple[int, int],
                    **result_fields: Any) -> DetectionPipeline:
    """Map every stage through ``geometry`` onto an image of ``image_hw``; masks become uint8."""
    def boxes(b: np.ndarray) -> np.ndarray:
        return geometry.boxes_to_image(b, image_hw) if len(b) else empty_boxes()

    masks = None
    if p.masks is not None:
        masks = np.zeros((len(p.masks), *image_hw), np.uint8)
        for i, prob in enumerate(p.masks):
            masks[i] = geometry.map_to_image(prob, image_hw) > MASK_THRESHOLD
    keypoints = None
    if p.keypoints is not None:
        keypoints = p.keypoints.astype(np.float32, copy=True)
        xy = np.tile(keypoints[..., :2].reshape(-1, 2), (1, 2))  # points as (x, y, x, y) boxes
        keypoints[..., :2] = boxes(xy)[:, :2].reshape(keypoints.shape[:-1] + (2,))
        if "keypoint_names" not in result_fields:
            names, skeleton = keypoint_layout(keypoints.shape[1])
            result_fields = {**result_fields, "keypoint_names": names, "skeleton": skeleton}
    return DetectionPipeline(
        boxes=boxes(p.boxes), scores=p.scores, labels=p.labels, masks=masks,
        keypoints=keypoints, keypoint_scores=p.keypoint_scores,
        proposals=boxes(p.proposals), proposal_scores=p.proposal_scores,
        pre_nms_boxes=boxes(p.pre_nms_boxes), pre_nms_scores=p.pre_nms_scores,
        pre_nms_labels=p.pre_nms_labels, nms_threshold=p.nms_threshold,
        max_detections=p.max_detections, time_ms=p.time_ms, architecture=p.architecture,
        notes=list(p.notes), **result_fields)
