"""What the DETR tab shows, read from one DetrAttention result without running the model again:
the view for a query (or an encoder token), layer, head and object threshold; the rows of the
query list and of the matching table; which query box lies under a click. Qt-free."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from workbench.core.canvas_layers import ImageLayer, Layer, token_map_layers
from workbench.core.detection.queries import (NO_OBJECT_COLOR, ground_truth_boxes, object_color, query_boxes,
                                              selected_box)

MEAN = -1
SCENE_NAME = re.compile(r"^(?:sample:)?scene-(\d+)$")


def scene_seed(image_name: str) -> int | None:
    """The seed of the bundled scene an image name names (``sample:scene-3`` -> 3), else None."""
    found = SCENE_NAME.match((image_name or "").strip())
    return int(found.group(1)) if found else None


def no_ground_truth_reason(image_name: str) -> str:
    shown = f"'{image_name}'" if image_name else "this image"
    return (f"No Hungarian matching for {shown}: its true objects are unknown. Only the bundled scenes "
            f"have them: open one with File ▸ Samples ▸ scene-N (image name sample:scene-N).")


def view_of(result: Any, threshold: float, query: int | None, layer: int, head: int,
            token: int | None = None) -> Any:
    """``result`` at decoder ``layer`` for ``query`` (None: the one the run picked) with ``head``
    (MEAN: the mean of the heads) and the object threshold; with ``token``, that image token's
    encoder self-attention (encoder layer ``layer``, or the last where the encoder has fewer)."""
    view = replace(result, score_threshold=float(threshold))
    query = view.query if query is None or not 0 <= query < view.num_queries else query
    view = view.at(query, layer, head)
    if token is None:
        return view
    return view.at_token(token, layer=min(layer, len(view.encoder) - 1), head=head)


def head_views(view: Any) -> list[Any]:
    """The shown map once per head: the query's cross-attention, or the token's self-attention."""
    heads = view.weights.shape[1] if view.focus == "query" else view.encoder.shape[1]
    if view.focus == "query":
        return [view.at(head=h) for h in range(heads)]
    layer = int(view.params.get("encoder_layer", -1))
    return [view.at_token(view.token, layer=layer, head=h) for h in range(heads)]


# --- layers ---------------------------------------------------------------------------
def queries_layers(image: np.ndarray, view: Any, show_empty: bool) -> list[Layer]:
    """The image with every query's box at the view's layer (objects in class colours, the others
    faded and dashed unless hidden, each label naming the true object its query was matched to), the
    true objects of a bundled scene (white, dashed), the selection outlined."""
    truth = [replace(layer, texts=[]) for layer in ground_truth_boxes(view)]   # the query labels name them
    return ([ImageLayer(name="image", image=np.asarray(image))] + truth
            + query_boxes(view, show_empty=show_empty, matched=True) + selected_box(view))


def map_layers(image: np.ndarray, view: Any) -> list[Layer]:
    """The image under the selected query's cross-attention (or the token's self-attention), with
    the query's box (or the token's cell)."""
    return [ImageLayer(name="image", image=np.asarray(image))] + token_map_layers(view) + selected_box(view)


def map_title(view: Any) -> tuple[str, str]:
    """(first line, second line) above the map."""
    who = "mean of heads" if view.head < 0 else f"head {view.head}"
    if view.focus == "token":
        r, c = divmod(view.token, view.grid_hw[1])
        layer = view.params.get("encoder_layer", "")
        return f"Encoder self-attention at token ({r}, {c})", f"encoder layer {layer} · {who}"
    return view.describe_query(view.query), f"cross-attention · decoder layer {view.layer} · {who}"


def queries_title(view: Any) -> tuple[str, str]:
    found = len(view.objects())
    return (f"Every query's box · decoder layer {view.layer}",
            f"{found} of {view.num_queries} are objects (score ≥ {view.score_threshold:.2f})")


def status_text(view: Any, running: bool) -> str:
    """What a click does now."""
    updating = " · updating…" if running else ""
    truth = " · white dashed boxes: the true objects" if view.has_ground_truth else ""
    if view.focus == "token":
        return f"Encoder self-attention of the outlined token{updating} · click another pixel, or Back to queries"
    return (f"Click a box (or a row) to pick its query · click the map for the encoder self-attention at that "
            f"pixel{truth}{updating}")


# --- picking --------------------------------------------------------------------------
def query_under(view: Any, x: float, y: float, show_empty: bool) -> int | None:
    """The query whose box (at the view's layer) holds image point (x, y): objects before "no
    object" queries (those only where shown), then the smallest box; None when no box holds it."""
    boxes = np.asarray(view.boxes[view.layer], np.float64)
    objects = set(view.objects().tolist())
    best: tuple[int, float, int] | None = None
    for q, (x0, y0, x1, y1) in enumerate(boxes):
        if not (min(x0, x1) <= x <= max(x0, x1) and min(y0, y1) <= y <= max(y0, y1)):
            continue
        if q not in objects and not show_empty:
            continue
        key = (0 if q in objects else 1, abs((x1 - x0) * (y1 - y0)), q)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def token_at(view: Any, x: float, y: float) -> int | None:
    """The image token (row by row) under image point (x, y); None outside what the model sees."""
    h, w = view.image_hw
    x0, y0, x1, y1 = view.geometry.crop_box(view.image_hw) if view.geometry is not None else (0, 0, w, h)
    if not (x0 <= x < x1 and y0 <= y < y1):
        return None
    gh, gw = view.grid_hw
    col = min(gw - 1, int((x - x0) / (x1 - x0) * gw))
    row = min(gh - 1, int((y - y0) / (y1 - y0) * gh))
    return row * gw + col


# --- tables ---------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryRow:
    query: int
    label: str                  # its best class
    score: float                # that class's probability
    no_object: float            # the "no object" probability
    is_object: bool             # score at or above the threshold
    color: tuple[int, int, int]
    matched: str                # "GT1 star" or "" (no ground truth, or not matched)


def query_rows(view: Any) -> list[QueryRow]:
    """One row per query at the view's decoder layer; the match is the last layer's (as in training)."""
    scores, labels, empty = view.scores(), view.labels(), view.no_object()
    objects = set(view.objects().tolist())
    matched = view.object_of_query() if view.has_ground_truth else np.full(view.num_queries, -1)
    rows = []
    for q in range(view.num_queries):
        obj = int(matched[q])
        name = f"GT{obj} {view.label_name(int(view.gt_labels[obj]))}" if obj >= 0 else ""
        rows.append(QueryRow(q, view.label_name(int(labels[q])), float(scores[q]), float(empty[q]), q in objects,
                             object_color(labels[q]) if q in objects else NO_OBJECT_COLOR, name))
    return rows


def object_names(view: Any) -> list[str]:
    return [f"GT{i} {view.label_name(int(l))}" for i, l in enumerate(view.gt_labels)]


def matching_summary(view: Any) -> str:
    """Which query took which true object."""
    pairs = [f"{name} → q{q}" if q >= 0 else f"{name} → none"
             for name, q in zip(object_names(view), view.query_of_object)]
    return "Matched on the last layer: " + " · ".join(pairs)
