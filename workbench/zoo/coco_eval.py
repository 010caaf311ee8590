"""COCO mean average precision of detections and instance masks, by pycocotools' COCOeval.

Ground truth and predictions are per-image dicts of numpy arrays: ``boxes`` (N, 4) xyxy in
pixels, ``labels`` (N,), ``masks`` (N, H, W) bool (optional) and, for predictions, ``scores``
(N,). Both are turned into COCO dicts in memory; nothing is written to disk.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np


def _xywh(boxes: np.ndarray) -> list[list[float]]:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1).tolist()


def _rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils
    return mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))


def _size(gt: dict, fallback: tuple[int, int]) -> tuple[int, int]:
    masks = gt.get("masks")
    return tuple(masks.shape[-2:]) if masks is not None and np.ndim(masks) == 3 else fallback


def _ground_truth(gts: list[dict], masks: bool, image_size: tuple[int, int]):
    from pycocotools.coco import COCO
    images, annotations, labels = [], [], set()
    for image_id, gt in enumerate(gts, start=1):
        h, w = _size(gt, image_size)
        images.append({"id": image_id, "height": int(h), "width": int(w)})
        for i, (box, label) in enumerate(zip(_xywh(gt["boxes"]), np.asarray(gt["labels"]).tolist())):
            ann = {"id": len(annotations) + 1, "image_id": image_id, "category_id": int(label),
                   "bbox": box, "area": box[2] * box[3], "iscrowd": 0}
            if masks:
                ann["segmentation"] = _rle(gt["masks"][i])
                ann["area"] = float(np.count_nonzero(gt["masks"][i]))
            annotations.append(ann)
            labels.add(int(label))
    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations,
                    "categories": [{"id": c, "name": str(c)} for c in sorted(labels)]}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _results(preds: list[dict], masks: bool) -> list[dict]:
    out = []
    for image_id, p in enumerate(preds, start=1):
        scores = np.asarray(p["scores"], dtype=np.float64).reshape(-1).tolist()
        labels = np.asarray(p["labels"]).reshape(-1).tolist()
        for i, (box, label, score) in enumerate(zip(_xywh(p["boxes"]), labels, scores)):
            row = {"image_id": image_id, "category_id": int(label), "score": score}
            if masks:
                row["segmentation"] = _rle(p["masks"][i])
            else:
                row["bbox"] = box
            out.append(row)
    return out


def _average_precision(gt_coco, results: list[dict], iou_type: str) -> tuple[float, float]:
    """(AP@[.5:.95], AP@.5), averaged over the categories that have ground truth."""
    from pycocotools.cocoeval import COCOeval
    if not results or not gt_coco.getAnnIds():
        return 0.0, 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        dt_coco = gt_coco.loadRes(results)
        ev = COCOeval(gt_coco, dt_coco, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return max(0.0, float(ev.stats[0])), max(0.0, float(ev.stats[1]))


def coco_map(gts: list[dict], preds: list[dict], masks: bool = False,
             image_size: tuple[int, int] = (128, 128)) -> dict[str, float]:
    """``map_50_95`` and ``map_50`` of the boxes, and with ``masks`` also ``mask_map_50_95`` and
    ``mask_map_50``, over all images (at most 100 detections each, COCO's default)."""
    if len(gts) != len(preds):
        raise ValueError(f"{len(gts)} ground-truth images but {len(preds)} predictions")
    gt_coco = _ground_truth(gts, masks, image_size)
    out = dict(zip(("map_50_95", "map_50"), _average_precision(gt_coco, _results(preds, False), "bbox")))
    if masks:
        out.update(zip(("mask_map_50_95", "mask_map_50"),
                       _average_precision(gt_coco, _results(preds, True), "segm")))
    return out
