"""A tiny torchvision ViT and an independent forward that computes its attention by hand."""
import torch
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess


def tiny_vit(seed: int = 0) -> VisionTransformer:
    """torchvision's ViT, random, with a random head (torchvision starts the head at zero, so no
    class score would depend on anything)."""
    torch.manual_seed(seed)
    vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                            mlp_dim=32, num_classes=3).eval()
    nn.init.normal_(vit.heads.head.weight, std=0.5)
    return vit


def tiny_vit_handle(seed: int = 0) -> ModelHandle:
    return ModelHandle(id="test:tiny-vit", module=tiny_vit(seed), task="classify",
                       preprocess=Preprocess(Geometry((32, 32))), labels=["a", "b", "c"])


def reference_attention(mha: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) per head, (batch, heads, q, k), from the module's in_proj weights
    (batch-first inputs)."""
    e, h = mha.embed_dim, mha.num_heads
    w, b = mha.in_proj_weight, mha.in_proj_bias
    q = query @ w[:e].T + b[:e]
    k = key @ w[e:2 * e].T + b[e:2 * e]
    split = lambda t: t.reshape(t.shape[0], t.shape[1], h, e // h).transpose(1, 2)   # noqa: E731
    q, k = split(q), split(k)
    return torch.softmax(q @ k.transpose(-1, -2) / (e // h) ** 0.5, dim=-1)


def reference_forward(vit: VisionTransformer, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The ViT's logits and each layer's attention (batch, heads, tokens, tokens), written out by hand
    so the attention tensors are part of the graph."""
    tokens = vit._process_input(x)
    t = torch.cat([vit.class_token.expand(x.shape[0], -1, -1), tokens], dim=1) + vit.encoder.pos_embedding
    attentions = []
    for block in vit.encoder.layers:
        mha = block.self_attention
        y = block.ln_1(t)
        a = reference_attention(mha, y, y)
        attentions.append(a)
        e, h = mha.embed_dim, mha.num_heads
        v = (y @ mha.in_proj_weight[2 * e:].T + mha.in_proj_bias[2 * e:])
        v = v.reshape(v.shape[0], v.shape[1], h, e // h).transpose(1, 2)
        mixed = (a @ v).transpose(1, 2).reshape(t.shape)
        t = t + mha.out_proj(mixed)
        t = t + block.mlp(block.ln_2(t))
    return vit.heads(vit.encoder.ln(t)[:, 0]), attentions
