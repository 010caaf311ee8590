"""A DETR's queries and their attention: every query's box and class at every decoder layer, the
selected query's cross-attention over the image, or the encoder's self-attention at a token.

The map shown (``heatmap``) is one query's cross-attention (``focus="query"``) or one image
token's encoder self-attention (``focus="token"``); ``at``/``at_token`` show another without
running the model again. Against ground truth, ``cost`` and ``query_of_object`` hold the
Hungarian matching.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workbench.core.geometry import Geometry
from workbench.core.results.base import AttentionMaps, Heatmap


def _empty(*shape: int) -> np.ndarray:
    return np.zeros(shape, np.float32)


@dataclass
class DetrAttention(AttentionMaps, Heatmap):
    """``weights``: cross-attention (layers, heads, queries, tokens); ``encoder``: (layers, heads,
    tokens, tokens); ``boxes`` (layers, queries, 4) in image pixels; ``probs`` (layers, queries,
    classes + 1), the last column "no object"; ``label_names`` the detector's (0: background, so
    class head index k is label k + 1)."""
    encoder: np.ndarray = field(default_factory=lambda: _empty(0, 0, 0, 0))
    boxes: np.ndarray = field(default_factory=lambda: _empty(0, 0, 4))
    probs: np.ndarray = field(default_factory=lambda: _empty(0, 0, 1))
    label_names: list[str] = field(default_factory=list)
    score_threshold: float = 0.7
    focus: str = "query"          # "query": a query's cross-attention; "token": encoder self-attention
    layer: int = -1
    head: int = -1                # -1: the mean of the heads
    query: int = 0
    token: int = 0
    layer_names: list[str] = field(default_factory=list)
    geometry: Geometry | None = None
    image_hw: tuple[int, int] = (0, 0)
    gt_boxes: np.ndarray = field(default_factory=lambda: _empty(0, 4))
    gt_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cost: np.ndarray = field(default_factory=lambda: _empty(0, 0))      # (queries, objects)
    query_of_object: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    kind = "detr-attention"

    # --- what the queries predict ------------------------------------------------------
    @property
    def layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def num_queries(self) -> int:
        return int(self.probs.shape[1])

    def layer_index(self, layer: int | None) -> int:
        layer = self.layer if layer is None else layer
        return self.layers + layer if layer < 0 else layer

    def scores(self, layer: int | None = None) -> np.ndarray:
        """(queries,) each query's best object-class probability."""
        return self.probs[self.layer_index(layer), :, :-1].max(-1)

    def labels(self, layer: int | None = None) -> np.ndarray:
        """(queries,) each query's best object class as a detector label (1-based)."""
        return self.probs[self.layer_index(layer), :, :-1].argmax(-1) + 1

    def no_object(self, layer: int | None = None) -> np.ndarray:
        return self.probs[self.layer_index(layer), :, -1]

    def objects(self, layer: int | None = None) -> np.ndarray:
        """The queries that predict an object above ``score_threshold``, best first."""
        s = self.scores(layer)
        keep = np.flatnonzero(s >= self.score_threshold)
        return keep[np.argsort(-s[keep], kind="stable")]

    def label_name(self, label: int) -> str:
        return self.label_names[label] if 0 <= label < len(self.label_names) else str(label)

    def describe_query(self, query: int, layer: int | None = None) -> str:
        s, lab = float(self.scores(layer)[query]), int(self.labels(layer)[query])
        if s < self.score_threshold:
            return f"query {query}: no object (best {self.label_name(lab)} {s:.2f})"
        return f"query {query}: {self.label_name(lab)} {s:.2f}"

    # --- maps --------------------------------------------------------------------------
    def query_map(self, query: int, layer: int | None = None, head: int | None = None) -> np.ndarray:
        """(gh, gw): query ``query``'s cross-attention over the image tokens."""
        w = self.weights[self.layer_index(layer)]
        head = self.head if head is None else head
        row = (w.mean(0) if head < 0 else w[head])[query]
        return np.asarray(row, np.float32).reshape(self.grid_hw)

    def token_map(self, token: int, layer: int | None = None, head: int | None = None) -> np.ndarray:
        """(gh, gw): image token ``token``'s encoder self-attention (last encoder layer by default)."""
        if not len(self.encoder):
            raise ValueError("this DETR's encoder self-attention was not captured")
        layer = len(self.encoder) - 1 if layer is None or layer < 0 else min(layer, len(self.encoder) - 1)
        w = self.encoder[layer]
        head = self.head if head is None else head
        row = (w.mean(0) if head < 0 else w[head])[token]
        return np.asarray(row, np.float32).reshape(self.grid_hw)

    def _on_image(self, grid_map: np.ndarray) -> np.ndarray:
        return self.geometry.map_to_image(grid_map, self.image_hw) if self.geometry is not None else grid_map

    def at(self, query: int | None = None, layer: int | None = None, head: int | None = None) -> "DetrAttention":
        """Query ``query``'s cross-attention in decoder ``layer`` (head -1: the mean of the heads)."""
        query = self.query if query is None else query
        layer = self.layer_index(layer)
        head = self.head if head is None else head
        if not (0 <= query < self.num_queries and 0 <= layer < self.layers
                and -1 <= head < self.weights.shape[1]):
            raise IndexError(f"query {query}, layer {layer}, head {head} outside {self.num_queries} "
                             f"queries, {self.layers} layers, {self.weights.shape[1]} heads (-1: mean)")
        amap = self.query_map(query, layer, head)
        who = "mean of heads" if head < 0 else f"head {head}"
        return replace(self, focus="query", query=query, layer=layer, head=head, attribution=amap,
                       heatmap=self._on_image(amap),
                       params={**self.params, "query": query, "layer": layer, "head": head},
                       title=f"decoder layer {layer} cross-attention, {who}: "
                             f"{self.describe_query(query, layer)}")

    def at_token(self, token: int, layer: int = -1, head: int | None = None) -> "DetrAttention":
        """Image token ``token``'s encoder self-attention (encoder ``layer``, -1: the last)."""
        head = self.head if head is None else head
        tokens = self.grid_hw[0] * self.grid_hw[1]
        if not 0 <= token < tokens:
            raise IndexError(f"token {token} outside the {tokens} image tokens")
        enc_layer = len(self.encoder) - 1 if layer < 0 else layer
        amap = self.token_map(token, enc_layer, head)
        r, c = divmod(token, self.grid_hw[1])
        who = "mean of heads" if head < 0 else f"head {head}"
        return replace(self, focus="token", token=token, head=head, attribution=amap,
                       heatmap=self._on_image(amap),
                       params={**self.params, "token": token, "encoder_layer": enc_layer, "head": head},
                       title=f"encoder layer {enc_layer} self-attention, {who}: token ({r}, {c})")

    # --- matching ----------------------------------------------------------------------
    @property
    def has_ground_truth(self) -> bool:
        return len(self.gt_boxes) > 0

    def object_of_query(self) -> np.ndarray:
        out = np.full(self.num_queries, -1, np.int64)
        for obj, q in enumerate(self.query_of_object):
            if q >= 0:
                out[q] = obj
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = {**Heatmap.arrays(self), "cross_attention": self.weights, "encoder_attention": self.encoder,
               "query_boxes": self.boxes, "query_probs": self.probs}
        if self.has_ground_truth:
            out.update(gt_boxes=self.gt_boxes, gt_labels=self.gt_labels, matching_cost=self.cost,
                       query_of_object=self.query_of_object)
        return out

    def meta(self) -> dict[str, Any]:
        return {**Heatmap.meta(self), "focus": self.focus, "layer": self.layer, "head": self.head,
                "query": self.query, "token": self.token, "grid_hw": list(self.grid_hw),
                "score_threshold": self.score_threshold, "label_names": self.label_names,
                "objects": self.objects().tolist(), "layer_names": self.layer_names,
                "geometry": self.geometry.to_dict() if self.geometry else None}
