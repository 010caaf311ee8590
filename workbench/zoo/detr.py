"""The bundled DETR: a CNN backbone, a transformer encoder-decoder and set prediction.

As in Carion et al. 2020, sized for 128x128 shapes scenes: a 7-layer conv stack at stride 8
(16x16 tokens), fixed 2D sine positions, 3 encoder and 3 decoder layers of width 128 (post-norm),
10 learned object queries, a class head with a "no object" class and a 3-layer box MLP. The
bundled model adds SMCA's Gaussian spatial prior to the cross-attention (``SpatialPrior``): a
from-scratch DETR learns slowly, and on two CPU cores the prior is what makes training fit. Every
attention is an ``nn.MultiheadAttention`` called by the layers here (``nn.TransformerDecoderLayer``
returns no weights), so ``capture_attention`` reads the encoder's self-attention and each
decoder layer's self- and cross-attention.

``forward`` follows torchvision's detectors: a list of float CHW images in [0, 1] (or a batch)
in, normalised inside; in eval mode one dict per image with ``boxes`` (xyxy pixels), ``labels``
(1-based, 0 is background), ``scores`` and ``queries`` (which query made each detection); in
training mode with targets, the dict of losses (``workbench.zoo.detr_loss``).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from workbench.zoo.detection_data import DETECTION_LABELS
from workbench.zoo.nets import conv_stack
from workbench.zoo.set_prediction import SetPrediction, cxcywh_to_xyxy, inverse_sigmoid

NUM_CLASSES = len(DETECTION_LABELS) - 1        # the shapes; index NUM_CLASSES is "no object"
IMAGE_MEAN = (0.390, 0.377, 0.374)
IMAGE_STD = (0.226, 0.200, 0.215)
BACKBONE_WIDTHS = (32, 48, 64, 96, 96, 128, 128)
BACKBONE_POOLS = (True, True, True, False, False, False, False)   # stride 8
STRIDE = 8
D_MODEL, HEADS, FFN = 128, 8, 256
ENCODER_LAYERS = DECODER_LAYERS = 3
QUERIES = 10
SCORE_THRESHOLD = 0.05    # as torchvision's detectors: a viewer filters above it


def sine_positions(h: int, w: int, d_model: int = D_MODEL, temperature: float = 10000.0,
                   device: torch.device | None = None) -> torch.Tensor:
    """(h*w, d_model) DETR's fixed 2D sine embedding: half the channels encode y, half x."""
    half = d_model // 2
    dim_t = temperature ** (2 * (torch.arange(half, device=device) // 2) / half)
    scale = 2 * math.pi
    y = (torch.arange(h, device=device, dtype=torch.float32) + 1) / h * scale
    x = (torch.arange(w, device=device, dtype=torch.float32) + 1) / w * scale
    py, px = y[:, None] / dim_t, x[:, None] / dim_t
    py = torch.stack([py[:, 0::2].sin(), py[:, 1::2].cos()], 2).flatten(1)
    px = torch.stack([px[:, 0::2].sin(), px[:, 1::2].cos()], 2).flatten(1)
    return torch.cat([py[:, None, :].expand(h, w, half), px[None, :, :].expand(h, w, half)],
                     2).reshape(h * w, d_model)


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int = D_MODEL, heads: int = HEADS, ffn: int = FFN):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d_model, ffn), nn.Linear(ffn, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, src: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        q = src + pos
        src = self.norm1(src + self.self_attn(q, q, src, need_weights=False)[0])
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int = D_MODEL, heads: int = HEADS, ffn: int = FFN):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d_model, ffn), nn.Linear(ffn, d_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, pos: torch.Tensor,
                query_pos: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        tgt = self.self_attend(tgt, query_pos)
        tgt = self.norm2(tgt + self.cross_attn(tgt + query_pos, memory + pos, memory,
                                               attn_mask=prior, need_weights=False)[0])
        return self.norm3(tgt + self.linear2(F.relu(self.linear1(tgt))))

    def self_attend(self, tgt: torch.Tensor, query_pos: torch.Tensor) -> torch.Tensor:
        q = tgt + query_pos
        return self.norm1(tgt + self.self_attn(q, q, tgt, need_weights=False)[0])


class BoxMLP(nn.Module):
    def __init__(self, d_model: int = D_MODEL, layers: int = 3):
        super().__init__()
        dims = [d_model] * layers + [4]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return x


class SpatialPrior(nn.Module):
    """SMCA's Gaussian-weighted co-attention (Gao et al. 2021): each query, at each decoder
    layer, predicts a centre (an offset from its own learned reference point) and a spread per
    head; ``-d^2 / (2 sigma^2)`` over the token grid is added to its cross-attention logits,
    and its box centre is predicted relative to that centre."""

    def __init__(self, queries: int = QUERIES, d_model: int = D_MODEL, heads: int = HEADS,
                 init_sigma: float = 0.15):
        super().__init__()
        self.heads = heads
        side = math.ceil(math.sqrt(queries))
        grid = (torch.arange(side * side)[:queries].float())
        start = torch.stack([(grid % side + 0.5) / side, (grid // side + 0.5) / side], 1)
        self.reference = nn.Parameter(inverse_sigmoid(start))          # (queries, 2) logits
        self.offset = nn.Linear(d_model, 2)
        self.log_sigma = nn.Linear(d_model, heads)
        for layer in (self.offset, self.log_sigma):
            nn.init.zeros_(layer.weight)
        nn.init.zeros_(self.offset.bias)
        nn.init.constant_(self.log_sigma.bias, math.log(init_sigma))

    def forward(self, state: torch.Tensor, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``state`` (N, Q, d) -> (centres (N, Q, 2) in [0, 1], additive mask (N*heads, Q, tokens))."""
        centre = (self.reference + self.offset(state)).sigmoid()
        sigma = self.log_sigma(state).exp()                           # (N, Q, heads)
        h, w = hw
        ys = (torch.arange(h, device=state.device, dtype=state.dtype) + 0.5) / h
        xs = (torch.arange(w, device=state.device, dtype=state.dtype) + 0.5) / w
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        d2 = ((gx.reshape(1, 1, -1) - centre[..., :1]) ** 2
              + (gy.reshape(1, 1, -1) - centre[..., 1:]) ** 2)           # (N, Q, tokens)
        mask = -d2.unsqueeze(2) / (2 * sigma.unsqueeze(-1) ** 2)       # (N, Q, heads, tokens)
        n, q = state.shape[:2]
        return centre, mask.permute(0, 2, 1, 3).reshape(n * self.heads, q, -1)


class ShapesDETR(nn.Module):
    description = (f"DETR: 7 conv-BN-ReLU layers at stride {STRIDE} (1x1 to {D_MODEL}), 2D sine "
                   f"positions, {ENCODER_LAYERS}+{DECODER_LAYERS} transformer layers ({HEADS} "
                   f"heads, FFN {FFN}), {QUERIES} object queries with a Gaussian spatial prior on "
                   f"their cross-attention (SMCA), class head with no-object, 3-layer box MLP")

    def __init__(self, num_classes: int = NUM_CLASSES, queries: int = QUERIES,
                 spatial_prior: bool = False):
        super().__init__()
        self.num_classes, self.num_queries = num_classes, queries
        self.score_thresh = SCORE_THRESHOLD
        self.backbone = conv_stack(3, BACKBONE_WIDTHS, BACKBONE_POOLS)
        self.input_proj = nn.Conv2d(BACKBONE_WIDTHS[-1], D_MODEL, 1)
        self.encoder = nn.ModuleList(EncoderLayer() for _ in range(ENCODER_LAYERS))
        self.decoder = nn.ModuleList(DecoderLayer() for _ in range(DECODER_LAYERS))
        self.decoder_norm = nn.LayerNorm(D_MODEL)
        self.query_embed = nn.Embedding(queries, D_MODEL)
        self.class_embed = nn.Linear(D_MODEL, num_classes + 1)
        self.bbox_embed = BoxMLP()
        self.spatial_prior = SpatialPrior(queries) if spatial_prior else None
        # per encoder token: background or the class of the shape under it (a training signal
        # that reaches the encoder directly; kept so the card's recipe can be replayed)
        self.token_class = nn.Linear(D_MODEL, num_classes + 1)
        self.register_buffer("image_mean", torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("image_std", torch.tensor(IMAGE_STD).view(1, 3, 1, 1), persistent=False)

    def batch(self, images) -> torch.Tensor:
        x = torch.stack(list(images)) if isinstance(images, (list, tuple)) else images
        return (x - self.image_mean) / self.image_std

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        """Normalised (N, 3, H, W) -> encoder memory (N, tokens, d), positions (tokens, d), grid."""
        f = self.input_proj(self.backbone(x))
        h, w = f.shape[-2:]
        src = f.flatten(2).transpose(1, 2)
        pos = sine_positions(h, w, D_MODEL, device=x.device)
        for layer in self.encoder:
            src = layer(src, pos)
        return src, pos, (h, w)

    def predict(self, x: torch.Tensor) -> SetPrediction:
        memory, pos, hw = self.encode(x)
        states, centres = self.decode(memory, pos, hw)
        hs = torch.stack([self.decoder_norm(t) for t in states])
        raw = self.bbox_embed(hs)
        if centres is None:
            boxes = raw.sigmoid()
        else:
            xy = (raw[..., :2] + inverse_sigmoid(torch.stack(centres))).sigmoid()
            boxes = torch.cat([xy, raw[..., 2:].sigmoid()], -1)
        return SetPrediction(self.class_embed(hs), boxes, memory, hw)

    def decode(self, memory: torch.Tensor, pos: torch.Tensor, hw: tuple[int, int],
               layers: int | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        """Each decoder layer's output (the first ``layers`` of them) and, with the spatial
        prior, the centre each query's attention was drawn to in that layer."""
        query_pos = self.query_embed.weight.unsqueeze(0).expand(len(memory), -1, -1)
        tgt = torch.zeros_like(query_pos)
        states, centres = [], []
        for block in list(self.decoder)[:layers]:
            prior = None
            if self.spatial_prior is not None:
                centre, prior = self.spatial_prior(tgt + query_pos, hw)
                centres.append(centre)
            tgt = block(tgt, memory, pos, query_pos, prior)
            states.append(tgt)
        return states, (centres if self.spatial_prior is not None else None)

    @torch.no_grad()
    def cross_attention(self, x: torch.Tensor, layer: int = -1) -> torch.Tensor:
        """(N, queries, tokens): decoder ``layer``'s cross-attention (mean of heads) for the
        normalised batch ``x``, recomputed by asking that layer's attention for its weights, so it
        needs no hooks."""
        memory, pos, hw = self.encode(x)
        layer = layer % len(self.decoder)
        states, _ = self.decode(memory, pos, hw, layer)
        query_pos = self.query_embed.weight.unsqueeze(0).expand(len(x), -1, -1)
        tgt = states[-1] if states else torch.zeros_like(query_pos)
        prior = self.spatial_prior(tgt + query_pos, hw)[1] if self.spatial_prior is not None else None
        block = self.decoder[layer]
        tgt = block.self_attend(tgt, query_pos)
        return block.cross_attn(tgt + query_pos, memory + pos, memory, attn_mask=prior,
                                need_weights=True)[1]

    def forward(self, images, targets: list[dict] | None = None):
        x = self.batch(images)
        out = self.predict(x)
        if self.training and targets is not None:
            from workbench.zoo.detr_loss import set_losses
            return set_losses(self, out, targets, tuple(x.shape[-2:]))
        return self.detections(out, tuple(x.shape[-2:]))

    def detections(self, out: SetPrediction, input_hw: tuple[int, int],
                   score_thresh: float | None = None) -> list[dict[str, torch.Tensor]]:
        """Per image: the queries whose best object class scores above ``score_thresh``."""
        thresh = self.score_thresh if score_thresh is None else score_thresh
        probs = out.logits[-1].softmax(-1)[..., :-1]
        scores, labels = probs.max(-1)
        h, w = input_hw
        scale = torch.tensor([w, h, w, h], dtype=out.boxes.dtype, device=out.boxes.device)
        boxes = cxcywh_to_xyxy(out.boxes[-1]) * scale
        result = []
        for s, lab, b in zip(scores, labels, boxes):
            keep = torch.nonzero(s > thresh).flatten()
            keep = keep[s[keep].argsort(descending=True)]
            result.append({"boxes": b[keep], "labels": lab[keep] + 1, "scores": s[keep],
                           "queries": keep})
        return result


def shapes_detr() -> ShapesDETR:
    return ShapesDETR(spatial_prior=True)
