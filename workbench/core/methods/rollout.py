"""Attention rollout (Abnar & Zuidema, 2020) over a vision transformer, optionally gradient-weighted
for a class (Chefer et al., 2021): the CLS token's joint attention to every patch, on the image.
See ``core.attention.rollout`` for the recipe."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.attention.rollout import FUSIONS, rollout
from workbench.core.attention.vit import read_attention, read_attention_gradients
from workbench.core.attribution.notes import SHORT, ZERO_GRADIENT
from workbench.core.context import Context
from workbench.core.params import as_dict, param
from workbench.core.model_traits import has_attention_layers
from workbench.core.registry import Method
from workbench.core.results.attention import RolloutHeatmap


@dataclass
class Params:
    head_fusion: str = field(default="mean", metadata=param(
        "Head fusion", choices=FUSIONS, help="how each layer's heads become one matrix"))
    discard_ratio: float = field(default=0.9, metadata=param(
        "Discard ratio", range=(0.0, 0.99), step=0.05,
        help="share of each layer's weakest attention set to zero before the rollout"))
    gradient: bool = field(default=False, metadata=param(
        "Gradient-weighted", help="weight each head by relu(gradient x attention) for the target class"))


def run(ctx: Context, p: Params) -> RolloutHeatmap:
    h = ctx.handle
    x = ctx.input_tensor()
    target = None
    if p.gradient:
        target = ctx.resolve_target(x)
        found = read_attention_gradients(h.module, x, target)
    else:
        found = read_attention(h.module, x)
    grid = found.grid
    if grid.prefix == 0:
        raise ValueError(f"rollout reads the CLS token's row, and {h.id} has no CLS token")
    joint = rollout(list(found.weights), p.head_fusion, p.discard_ratio,
                    list(found.gradients) if found.gradients is not None else None)
    how = f"{p.head_fusion} of heads, discard {p.discard_ratio:g}"
    subject = f"gradient rollout ({how})" if p.gradient else f"rollout ({how})"
    result = RolloutHeatmap(method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
                            rows=joint.float().numpy(), prefix_tokens=grid.prefix, row_prefix=grid.prefix,
                            grid_hw=grid.hw, geometry=h.geometry, image_hw=tuple(ctx.image.shape[:2]),
                            subject=subject, target=target, note=_zero_gradient_note(found.gradients),
                            target_label=h.label(target) if target is not None else "")
    return result.at(0)


def _zero_gradient_note(gradients) -> str:
    # torchvision initialises a ViT's head to zeros: with random weights no class depends on anything
    return SHORT[ZERO_GRADIENT] if gradients is not None and not bool(gradients.any()) else ""


METHOD = Method(name="rollout", kind="attention", tasks=("classify", "attend"), accepts=has_attention_layers,
                accepts_what="a transformer with nn.MultiheadAttention layers, such as a ViT", params=Params, run=run,
                title="Attention rollout (ViT)",
                description="Attention multiplied through the layers (mean/min/max of heads, weakest "
                            "share discarded), optionally weighted by gradients for a class.")
