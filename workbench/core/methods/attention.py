"""A vision transformer's attention: one layer and head, or every head as a grid, for one query.

The query is the CLS token or a patch; the map is that token's attention to every patch, laid
over the image. The result keeps every layer's weights (layers, heads, tokens, tokens).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.attention.vit import read_attention
from workbench.core.context import Context
from workbench.core.params import as_dict, param
from workbench.core.model_traits import has_attention_layers
from workbench.core.registry import Method
from workbench.core.results.attention import AttentionHeadGrid, AttentionHeatmap, token_name

LAST = -1
ALL_HEADS = -1


@dataclass
class Params:
    layer: int = field(default=LAST, metadata=param(
        "Layer", range=(-1, 1023), step=1, at_minimum="last", help="the attention layer, first is 0"))
    head: int = field(default=ALL_HEADS, metadata=param(
        "Head", range=(-1, 1023), step=1, at_minimum="all (grid)",
        help="one head on the image, or every head as a grid"))
    query: str = field(default="cls", metadata=param(
        "Query", help="whose attention: cls, a patch index (row by row) or ROW,COL"))


def run(ctx: Context, p: Params) -> AttentionHeatmap | AttentionHeadGrid:
    h = ctx.handle
    x = ctx.input_tensor()
    found = read_attention(h.module, x)
    layers, heads = found.weights.shape[:2]
    layer = layers - 1 if p.layer == LAST else p.layer
    if not 0 <= layer < layers:
        raise ValueError(f"layer {p.layer}: {h.id} has {layers} attention layers (0-{layers - 1}; -1: the last)")
    if p.head >= heads:
        raise ValueError(f"head {p.head}: the layers of {h.id} have {heads} heads (0-{heads - 1}; -1: all)")
    grid = found.grid
    if p.query.strip().lower() == "cls":
        if grid.prefix == 0:
            raise ValueError(f"query 'cls': {h.id} has no CLS token; choose a patch")
        query = 0
    else:
        query = grid.patch_token(grid.parse_patch(p.query, "query"))
    common = dict(method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
                  weights=found.weights.numpy(), grid_hw=grid.hw, prefix_tokens=grid.prefix,
                  layer_names=found.names, geometry=h.geometry, image_hw=tuple(ctx.image.shape[:2]))
    if p.head != ALL_HEADS:
        return AttentionHeatmap(**common).at(layer, p.head, query)
    tiles = np.stack([found.weights[layer, i, query, grid.prefix:].numpy().reshape(grid.hw)
                      for i in range(heads)]).astype(np.float32)
    return AttentionHeadGrid(**common, tiles=tiles, titles=[f"head {i}" for i in range(heads)],
                             layer=found.names[layer], layer_index=layer, query=query,
                             title=f"attention layer {layer}, every head: "
                                   f"{token_name(query, grid.prefix, grid.hw)}")


METHOD = Method(name="attention", kind="attention", tasks=("classify", "attend"), accepts=has_attention_layers,
                accepts_what="a transformer with nn.MultiheadAttention layers, such as a ViT", params=Params, run=run,
                title="Attention (ViT)",
                description="A transformer's attention to the image patches, per layer and head, "
                            "from the CLS token or a patch.")
