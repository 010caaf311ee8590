"""The bundled small ViT: torchvision's ``VisionTransformer``, sized for the 64x64 shapes.

It is the stock torchvision class (class token, learned positional embeddings, pre-norm
encoder blocks built on ``nn.MultiheadAttention``), so whatever reads a torchvision ViT reads
this one too. Its patch embedding is torchvision's optional convolutional stem (Xiao et al.
2021, "Early convolutions help transformers see better"): three stride-2 conv-BN-ReLU layers
and a 1x1 projection, one token per 8x8 patch as with a single 8x8 convolution. On a 2-core
budget the plain 8x8 patch convolution learned too slowly: val 0.21 after 250 steps where the
stem had reached 0.46, and 0.65 after 8 epochs without the stem or token labels.
"""
from __future__ import annotations

import torch
from torchvision.models import VisionTransformer
from torchvision.models.vision_transformer import ConvStemConfig

SHAPES_VIT = {"image_size": 64, "patch_size": 8, "num_layers": 4, "num_heads": 4,
              "hidden_dim": 64, "mlp_dim": 128}
STEM_CHANNELS = (16, 32, 64)  # each conv 3x3, stride 2: 64 -> 32 -> 16 -> 8 tokens a side


def shapes_vit(num_classes: int = 6) -> VisionTransformer:
    """3x64x64 -> logits: an 8x8 grid of patch tokens plus the class token."""
    stem = [ConvStemConfig(out_channels=c, kernel_size=3, stride=2) for c in STEM_CHANNELS]
    return VisionTransformer(**SHAPES_VIT, num_classes=num_classes, conv_stem_configs=stem)


def describe(config: dict = SHAPES_VIT) -> str:
    c = config
    grid = c["image_size"] // c["patch_size"]
    stem = "-".join(str(ch) for ch in STEM_CHANNELS)
    return (f"torchvision VisionTransformer: {c['image_size']}x{c['image_size']} input, "
            f"conv stem ({stem}, 3x3 stride 2, BN, ReLU; 1x1 to {c['hidden_dim']}) giving "
            f"{grid}x{grid} tokens of {c['patch_size']}x{c['patch_size']} pixels + class token, "
            f"{c['num_layers']} layers, {c['num_heads']} heads, hidden {c['hidden_dim']}, "
            f"MLP {c['mlp_dim']}")


def encode(model: VisionTransformer, x: torch.Tensor) -> torch.Tensor:
    """(N, 1 + grid*grid, hidden): the encoder's output tokens, class token first; ``model(x)``
    is ``model.heads(encode(model, x)[:, 0])``."""
    tokens = model._process_input(x)
    return model.encoder(torch.cat([model.class_token.expand(x.shape[0], -1, -1), tokens], 1))


@torch.no_grad()
def cls_attention(model: VisionTransformer, x: torch.Tensor, layer: int = -1) -> torch.Tensor:
    """(N, grid*grid): the class token's attention over the patches in encoder block ``layer``,
    averaged over heads. Recomputes torchvision's forward up to that block and asks its
    attention for the weights, so it needs no hooks (each row sums to 1 minus the class
    token's attention to itself)."""
    tokens = model._process_input(x)
    cls = model.class_token.expand(tokens.shape[0], -1, -1)
    encoder = model.encoder
    h = encoder.dropout(torch.cat([cls, tokens], dim=1) + encoder.pos_embedding)
    blocks = list(encoder.layers)
    target = blocks[layer]
    for block in blocks:
        if block is target:
            break
        h = block(h)
    y = target.ln_1(h)
    _, weights = target.self_attention(y, y, y, need_weights=True, average_attn_weights=True)
    return weights[:, 0, 1:]
