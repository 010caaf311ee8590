"""A DETR's object queries and where they look: every query's box and class at every decoder
layer, one query's cross-attention over the image (or an image token's encoder self-attention),
and on a bundled scene the Hungarian matching of queries to the true objects."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.attention.detr import hungarian, matching_cost, read_detr
from workbench.core.context import Context
from workbench.core.detection.scenes import NO_SCENE, scene_truth
from workbench.core.model_traits import has_object_queries
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.detr import DetrAttention

LAST = -1
BEST = -1


@dataclass
class Params:
    query: int = field(default=BEST, metadata=param(
        "Query", range=(-1, 999), step=1, at_minimum="best object",
        help="the object query whose cross-attention is shown"))
    layer: int = field(default=LAST, metadata=param(
        "Decoder layer", range=(-1, 63), step=1, at_minimum="last", help="first is 0"))
    head: int = field(default=-1, metadata=param(
        "Head", range=(-1, 63), step=1, at_minimum="mean of heads"))
    score_threshold: float = field(default=0.7, metadata=param(
        "Object threshold", range=(0.0, 1.0), step=0.05,
        help="a query whose best class scores below this predicts no object"))
    token: str = field(default="", metadata=param(
        "Encoder token", help="ROW,COL of an image token: show its encoder self-attention instead"))
    scene: int = field(default=NO_SCENE, metadata=param(
        "Ground-truth scene", range=(-1, 10_000_000), step=1, at_minimum="none",
        help="the image is the bundled scene with this seed (sample:scene-N): match queries to "
             "its objects"))


def run(ctx: Context, p: Params) -> DetrAttention:
    h = ctx.handle
    x = ctx.input_tensor()
    reading = read_detr(h.module, x)
    image_hw = tuple(ctx.image.shape[:2])
    boxes = np.stack([h.geometry.boxes_to_image(b, image_hw) for b in reading.boxes])
    result = DetrAttention(
        method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
        weights=reading.cross, grid_hw=reading.feature_hw, encoder=reading.encoder, boxes=boxes,
        probs=reading.probs.astype(np.float32), label_names=list(h.labels),
        score_threshold=p.score_threshold, layer_names=reading.cross_names,
        geometry=h.geometry, image_hw=image_hw)
    if p.scene != NO_SCENE:
        result = with_ground_truth(result, ctx.image, p.scene)
    if p.token.strip():
        return result.at_token(_token(p.token, reading.feature_hw), head=p.head)
    return result.at(_query(result, p.query), p.layer, p.head)


def with_ground_truth(result: DetrAttention, image: np.ndarray, seed: int) -> DetrAttention:
    """``result`` with the bundled scene ``seed``'s objects and their Hungarian matching."""
    from dataclasses import replace
    boxes, labels = scene_truth(image, seed)
    cost = matching_cost(result.probs[-1], result.boxes[-1], boxes, labels, result.image_hw)
    query_of_object, _ = hungarian(cost)
    return replace(result, gt_boxes=boxes, gt_labels=labels + 1, cost=cost, query_of_object=query_of_object)


def _query(result: DetrAttention, query: int) -> int:
    if query == BEST:
        objects = result.objects(-1)
        return int(objects[0]) if len(objects) else int(np.argmax(result.scores(-1)))
    if not 0 <= query < result.num_queries:
        raise ValueError(f"query {query}: {result.model} has {result.num_queries} object queries "
                         f"(0-{result.num_queries - 1}; -1: the best object)")
    return query


def _token(text: str, grid_hw: tuple[int, int]) -> int:
    parts = [t.strip() for t in text.split(",")]
    try:
        row, col = (int(v) for v in parts)
    except ValueError:
        raise ValueError(f"token {text!r}: give ROW,COL of an image token, e.g. 8,8") from None
    gh, gw = grid_hw
    if not (0 <= row < gh and 0 <= col < gw):
        raise ValueError(f"token {text!r}: the image tokens form a {gh}x{gw} grid "
                         f"(rows 0-{gh - 1}, columns 0-{gw - 1})")
    return row * gw + col


METHOD = Method(name="detr-attention", kind="attention", tasks=("detect",), params=Params, run=run,
                title="DETR attention", accepts=has_object_queries,
                accepts_what="a DETR (a set predictor with object queries)",
                description="Each object query's box and class per decoder layer and its cross-attention "
                            "over the image; encoder self-attention at a token; Hungarian matching to a "
                            "bundled scene's objects.")
