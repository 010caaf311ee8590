"""How alike a ViT's learned positional embeddings are: one patch position's cosine similarity
with every other, over the patch grid and laid over the image."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.attention.tokens import token_grid
from workbench.core.attention.vit import positional_embedding, positional_similarity
from workbench.core.context import Context
from workbench.core.params import as_dict, param
from workbench.core.model_traits import has_attention_layers
from workbench.core.registry import Method
from workbench.core.results.attention import PositionalSimilarity


@dataclass
class Params:
    patch: str = field(default="centre", metadata=param(
        "Patch", help="the position compared with all others: centre, a patch index (row by row) or ROW,COL"))


def run(ctx: Context, p: Params) -> PositionalSimilarity:
    h = ctx.handle
    x = ctx.input_tensor()
    name, embedding = positional_embedding(h.module)
    grid = token_grid(h.module, embedding.shape[0], tuple(x.shape[-2:]))
    patch = grid.parse_patch(p.patch, "patch", centre_ok=True)
    similarity = positional_similarity(embedding, grid)
    result = PositionalSimilarity(method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
                                  rows=similarity.numpy(), prefix_tokens=0, row_prefix=0, grid_hw=grid.hw,
                                  geometry=h.geometry, image_hw=tuple(ctx.image.shape[:2]), signed=True,
                                  subject=f"positional similarity ({name})")
    return result.at(patch)


METHOD = Method(name="positional-similarity", kind="attention", tasks=("classify", "attend"), accepts=has_attention_layers,
                accepts_what="a transformer with nn.MultiheadAttention layers, such as a ViT", params=Params,
                run=run, title="Positional embedding similarity (ViT)",
                description="Cosine similarity of one patch position's learned embedding with every other.")
