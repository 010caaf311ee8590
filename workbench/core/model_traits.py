"""What a loaded model is, read from its attributes without importing torch, so the UI can ask.

Used by methods that apply to only some models of a task (``Method.accepts``).
"""
from __future__ import annotations

from typing import Any


def has_object_queries(module: Any) -> bool:
    """A set predictor (DETR): object queries, a ``batch`` that normalises, a ``predict``."""
    return all(hasattr(module, a) for a in ("num_queries", "batch", "predict"))


def has_anchor_generator(module: Any) -> bool:
    """An anchor-based detector: an anchor generator with an IoU matcher, on its RPN (Faster/Mask
    R-CNN) or on itself (RetinaNet, SSD); not FCOS, whose one point per cell is assigned otherwise."""
    owner = getattr(module, "rpn", module)
    return hasattr(module, "transform") and all(
        hasattr(owner, a) for a in ("anchor_generator", "head", "box_coder", "proposal_matcher"))


def is_two_stage_detector(module: Any) -> bool:
    """A Fast/Faster/Mask R-CNN: a region proposal network and a box head over its proposals."""
    return all(hasattr(module, a) for a in ("transform", "backbone", "rpn", "roi_heads"))


def has_position_sensitive_head(module: Any) -> bool:
    """An R-FCN: a two-stage detector whose box pooler reads position-sensitive score maps."""
    pool = getattr(getattr(module, "roi_heads", None), "box_roi_pool", None)
    return is_two_stage_detector(module) and callable(getattr(pool, "score_maps", None))


ATTENTION_CLASS = "MultiheadAttention"


def has_attention_layers(module: Any) -> bool:
    """Whether ``module`` holds a torch.nn.MultiheadAttention (by class name; a TorchScript module
    keeps the name of the class it was made from)."""
    modules = getattr(module, "modules", None)
    if not callable(modules):
        return False
    for m in modules():
        if getattr(m, "original_name", "") == ATTENTION_CLASS:
            return True
        if any(c.__name__ == ATTENTION_CLASS for c in type(m).__mro__):
            return True
    return False


def has_patch_attention(module: Any) -> bool:
    """A transformer read patch by patch (a ViT), not a set predictor whose attention the DETR
    tab shows."""
    return has_attention_layers(module) and not has_object_queries(module)


def has_yolo_grid(module: Any) -> bool:
    """A YOLO-style grid detector: per-cell outputs from ``grid`` and the boxes from them."""
    return all(hasattr(module, a) for a in ("grid", "detections_from_grid", "boxes_per_cell"))


def is_region_classifier(module: Any) -> bool:
    """An R-CNN-style detector classifying proposals one by one: ``proposals``, ``classify``, ``detect``."""
    return all(callable(getattr(module, a, None)) for a in ("proposals", "classify", "detect", "region_logits"))
