"""Other views of an attention result without running the model again: another query patch, the
CLS token, every layer and head as one grid. Qt-free; everything comes from the result's own
matrices through its ``at``."""
from __future__ import annotations

import math

import numpy as np

from workbench.core.results import ImageGrid
from workbench.core.results.attention import AttentionHeatmap, TokenRowsHeatmap, token_name
from workbench.ui.attention.patches import centre_patch

MapResult = AttentionHeatmap | TokenRowsHeatmap


def _prefix_and_token(result: MapResult) -> tuple[int, int]:
    if isinstance(result, AttentionHeatmap):
        return result.prefix_tokens, result.query
    return result.row_prefix, result.row


def query_patch(result: MapResult) -> int | None:
    """The patch (row by row) whose map is shown; None for the CLS token (or another non-patch token)."""
    prefix, token = _prefix_and_token(result)
    return token - prefix if token >= prefix else None


def at_patch(result: MapResult, patch: int) -> MapResult:
    """The map of another patch (its attention, its rollout row, its positional similarity)."""
    prefix, _ = _prefix_and_token(result)
    if isinstance(result, AttentionHeatmap):
        return result.at(query=prefix + patch)
    return result.at(prefix + patch)


def at_start(result: MapResult) -> MapResult:
    """The map the view starts from: the CLS token's, or the centre patch's where rows are patches."""
    prefix, _ = _prefix_and_token(result)
    if isinstance(result, AttentionHeatmap):
        return result.at(query=0)
    return result.at(0 if prefix > 0 else centre_patch(result.grid_hw))


def query_name(result: MapResult) -> str:
    prefix, token = _prefix_and_token(result)
    return token_name(token, prefix, result.grid_hw)


def every_head(result: AttentionHeatmap) -> ImageGrid:
    """Every layer's every head for the result's query: tiles row by row, a row per layer, titled
    "head H, layer L" so a figure labels the heads above the columns and the layers beside the rows."""
    layers, heads = result.weights.shape[:2]
    tiles = np.stack([result.grid_map(layer, head, result.query)
                      for layer in range(layers) for head in range(heads)]).astype(np.float32)
    titles = [f"head {h}, layer {l}" for l in range(layers) for h in range(heads)]
    params = {**result.params, "layer": "all", "head": "all", "query_token": result.query}
    return ImageGrid(method=result.method, model=result.model, params=params, input=result.input,
                     tiles=tiles, titles=titles, extra={"weights": result.weights},
                     title=f"attention of {query_name(result)}: every layer (rows) and head (columns)")


def enlarged(grid: ImageGrid, min_side: int) -> ImageGrid:
    """The grid with each tile's cells repeated so a tile is at least ``min_side`` pixels across
    (a 14 x 14 patch map would otherwise be too small in a figure for its labels)."""
    h, w = grid.tiles.shape[1:3]
    k = max(1, math.ceil(min_side / max(1, min(h, w))))
    if k == 1:
        return grid
    tiles = np.repeat(np.repeat(grid.tiles, k, axis=1), k, axis=2)
    return ImageGrid(method=grid.method, model=grid.model, params=grid.params, input=grid.input,
                     tiles=tiles, titles=grid.titles, extra=grid.extra, title=grid.title)
