"""Attention read from a transformer, as maps over the image.

Each type keeps the matrix it was read from, so any other patch, layer or head can be shown
without running the model again (``at(...)``; a grid tile with ``channel_heatmap``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workbench.core.geometry import Geometry
from workbench.core.results.base import ActivationGrid, AttentionMaps, Heatmap


def _rows() -> np.ndarray:
    return np.zeros((0, 0), np.float32)


def _on_image(geometry: Geometry | None, grid_map: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    grid_map = np.asarray(grid_map, np.float32)
    return geometry.map_to_image(grid_map, image_hw) if geometry is not None else grid_map


def token_name(token: int, prefix: int, grid_hw: tuple[int, int]) -> str:
    """"CLS" for the first prefix token, else the patch's row and column."""
    if token < prefix:
        return "CLS" if token == 0 else f"token {token}"
    r, c = divmod(token - prefix, grid_hw[1])
    return f"patch ({r}, {c})"


@dataclass
class AttentionHeatmap(AttentionMaps, Heatmap):
    """One query's attention over the patches, in one layer and head (``head=-1``: the mean of the
    heads), laid over the image; ``weights`` (layers, heads, tokens, tokens) holds every layer."""
    prefix_tokens: int = 1        # tokens before the patches (the CLS token)
    layer: int = 0
    head: int = -1
    query: int = 0                # a token index: 0 is the CLS token, prefix_tokens + i patch i
    layer_names: list[str] = field(default_factory=list)
    geometry: Geometry | None = None
    image_hw: tuple[int, int] = (0, 0)

    def grid_map(self, layer: int, head: int, query: int) -> np.ndarray:
        """(gh, gw): the attention of token ``query`` to every patch."""
        w = self.weights[layer]
        row = (w.mean(axis=0) if head < 0 else w[head])[query, self.prefix_tokens:]
        return np.asarray(row, np.float32).reshape(self.grid_hw)

    def at(self, layer: int | None = None, head: int | None = None, query: int | None = None) -> "AttentionHeatmap":
        """The same weights shown for another layer, head or query token."""
        layer = self.layer if layer is None else layer
        head = self.head if head is None else head
        query = self.query if query is None else query
        layers, heads, tokens = self.weights.shape[:3]
        if not (0 <= layer < layers and -1 <= head < heads and 0 <= query < tokens):
            raise IndexError(f"layer {layer}, head {head}, query {query} outside {layers} layers, "
                             f"{heads} heads (-1: their mean), {tokens} tokens")
        amap = self.grid_map(layer, head, query)
        who = "mean of heads" if head < 0 else f"head {head}"
        return replace(self, layer=layer, head=head, query=query, attribution=amap,
                       heatmap=_on_image(self.geometry, amap, self.image_hw),
                       params={**self.params, "layer": layer, "head": head, "query_token": query},
                       title=f"attention layer {layer}, {who}: "
                             f"{token_name(query, self.prefix_tokens, self.grid_hw)}")

    def arrays(self) -> dict[str, np.ndarray]:
        return {**Heatmap.arrays(self), "weights": self.weights}

    def meta(self) -> dict[str, Any]:
        return {**Heatmap.meta(self), "grid_hw": list(self.grid_hw), "prefix_tokens": self.prefix_tokens,
                "layer": self.layer, "head": self.head, "query": self.query, "layer_names": self.layer_names,
                "geometry": self.geometry.to_dict() if self.geometry else None}


@dataclass
class AttentionHeadGrid(AttentionMaps, ActivationGrid):
    """Every head's map (heads, gh, gw) for one layer and query; a tile laid over the image is
    that head's AttentionHeatmap."""
    prefix_tokens: int = 1
    layer_index: int = 0
    query: int = 0
    layer_names: list[str] = field(default_factory=list)

    kind = "attention-heads"

    def channel_heatmap(self, index: int) -> AttentionHeatmap:
        if not 0 <= index < len(self.tiles):
            raise IndexError(f"head {index} out of range (the layer has {len(self.tiles)})")
        one = AttentionHeatmap(method=self.method, model=self.model, params=self.params, input=self.input,
                               weights=self.weights, grid_hw=self.grid_hw, prefix_tokens=self.prefix_tokens,
                               layer_names=self.layer_names, geometry=self.geometry, image_hw=self.image_hw)
        return one.at(self.layer_index, index, self.query)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**ActivationGrid.arrays(self), "weights": self.weights}

    def meta(self) -> dict[str, Any]:
        return {**ActivationGrid.meta(self), "grid_hw": list(self.grid_hw), "prefix_tokens": self.prefix_tokens,
                "layer_index": self.layer_index, "query": self.query, "layer_names": self.layer_names}


@dataclass
class TokenRowsHeatmap(Heatmap):
    """A map over the patches read from one row of a matrix whose columns are tokens (the first
    ``prefix_tokens`` of them not patches); ``at(row)`` shows another row."""
    rows: np.ndarray = field(default_factory=_rows)
    row: int = 0
    prefix_tokens: int = 0
    grid_hw: tuple[int, int] = (0, 0)
    geometry: Geometry | None = None
    image_hw: tuple[int, int] = (0, 0)
    row_prefix: int = 0           # rows before the patch rows (a CLS row)
    subject: str = ""             # what the rows are; the title adds the row's token
    note: str = ""                # why the map shows nothing, where it shows nothing; ends the title

    kind = "token-map"
    matrix_name = "rows"

    def grid_map(self, row: int) -> np.ndarray:
        return np.asarray(self.rows[row, self.prefix_tokens:], np.float32).reshape(self.grid_hw)

    def at(self, row: int) -> "TokenRowsHeatmap":
        if not 0 <= row < len(self.rows):
            raise IndexError(f"row {row} out of range ({len(self.rows)} rows)")
        amap = self.grid_map(row)
        return replace(self, row=row, attribution=amap, params={**self.params, "row": row},
                       heatmap=_on_image(self.geometry, amap, self.image_hw),
                       title=f"{self.subject}: {token_name(row, self.row_prefix, self.grid_hw)}"
                             + (f" — {self.note}" if self.note else ""))

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), self.matrix_name: self.rows}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "row": self.row, "prefix_tokens": self.prefix_tokens,
                "grid_hw": list(self.grid_hw), "geometry": self.geometry.to_dict() if self.geometry else None}


@dataclass
class RolloutHeatmap(TokenRowsHeatmap):
    """Attention rollout: ``rows`` is the joint attention (tokens, tokens); row 0 is the CLS token's."""
    kind = "rollout"
    matrix_name = "rollout"


@dataclass
class PositionalSimilarity(TokenRowsHeatmap):
    """Cosine similarity (patches, patches) of the learned positional embeddings; a row per patch."""
    kind = "positional-similarity"
    matrix_name = "similarity"
