"""How a DETR's queries are drawn: each query's box in its class colour, the "no object" ones
faded and dashed, the selected query outlined, under the map of where it looks."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.canvas_layers import PALETTE, BoxesLayer, Layer, token_map_layers

NO_OBJECT_COLOR = (190, 190, 190)
SELECTED_COLOR = (0, 220, 255)
GROUND_TRUTH_COLOR = (255, 255, 255)


def object_color(label: int) -> tuple[int, int, int]:
    return PALETTE[int(label) % len(PALETTE)]


def query_boxes(result: Any, layer: int | None = None, show_empty: bool = True, matched: bool = False) -> list[Layer]:
    """Every query's box in decoder ``layer``: objects coloured and labelled, the rest faded;
    ``matched``: each label also names the true object the query was matched to ("q2 star 0.97 → GT0")."""
    layer = result.layer if layer is None else layer
    gt = result.object_of_query() if matched and result.has_ground_truth else np.full(result.num_queries, -1)
    tag = [f" → GT{o}" if o >= 0 else "" for o in gt]
    boxes = result.boxes[layer]
    scores, labels = result.scores(layer), result.labels(layer)
    objects = set(result.objects(layer).tolist())
    out: list[Layer] = []
    empty = [q for q in range(result.num_queries) if q not in objects]
    if show_empty and empty:
        out.append(BoxesLayer(name="no-object queries", boxes=boxes[empty], colors=[NO_OBJECT_COLOR] * len(empty),
                              texts=[f"q{q}{tag[q]}" for q in empty], dashed=True, line_width=1.0, opacity=0.55))
    found = sorted(objects, key=lambda q: -scores[q])
    if found:
        out.append(BoxesLayer(
            name="object queries", boxes=boxes[found], colors=[object_color(labels[q]) for q in found],
            texts=[f"q{q} {result.label_name(int(labels[q]))} {scores[q]:.2f}{tag[q]}" for q in found],
            scores=[float(scores[q]) for q in found]))
    return out


def selected_box(result: Any) -> list[Layer]:
    """An outline around the selected query's box, or around the clicked encoder token."""
    if result.focus == "token":
        box = token_box(result, result.token)
        return [BoxesLayer(name="encoder token", boxes=box[None], colors=[SELECTED_COLOR])]
    box = result.boxes[result.layer][result.query]
    return [BoxesLayer(name=f"query {result.query}", boxes=np.asarray(box, np.float32)[None],
                       colors=[SELECTED_COLOR], line_width=3.0)]


def token_box(result: Any, token: int) -> np.ndarray:
    """(4,) xyxy image pixels of one encoder token's cell."""
    gh, gw = result.grid_hw
    h, w = result.image_hw
    x0, y0, x1, y1 = result.geometry.crop_box(result.image_hw) if result.geometry else (0, 0, w, h)
    r, c = divmod(token, gw)
    cw, ch = (x1 - x0) / gw, (y1 - y0) / gh
    return np.array([x0 + c * cw, y0 + r * ch, x0 + (c + 1) * cw, y0 + (r + 1) * ch], np.float32)


def ground_truth_boxes(result: Any) -> list[Layer]:
    """The true objects, numbered as in the matching, with the query each was given."""
    if not result.has_ground_truth:
        return []
    texts = [f"GT{i} {result.label_name(int(l))} → q{q}"
             for i, (l, q) in enumerate(zip(result.gt_labels, result.query_of_object))]
    return [BoxesLayer(name="ground truth", boxes=result.gt_boxes, texts=texts,
                       colors=[GROUND_TRUTH_COLOR] * len(texts), dashed=True, line_width=1.5)]


def detr_layers(result: Any) -> list[Layer]:
    """The map of the selected query (or token), every query's box, the selection outlined."""
    boxes = query_boxes(result) if result.focus == "query" else []
    return token_map_layers(result) + boxes + selected_box(result)


def query_panels(result: Any, layer: int | None = None) -> list[tuple[str, str, list[Layer]]]:
    """(title, subtitle, layers) per object query (the selected one too), as DETR's own figures
    show them: each query's cross-attention with its box."""
    layer = result.layer_index(layer)
    queries = result.objects(layer).tolist()
    if result.focus == "query" and result.query not in queries:
        queries.append(result.query)
    panels = []
    for q in queries:
        one = result.at(q, layer)
        panels.append((result.describe_query(q, layer), f"decoder layer {layer} cross-attention",
                       token_map_layers(one) + selected_box(one)))
    return panels
