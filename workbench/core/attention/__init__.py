"""Attention: weights captured from any nn.MultiheadAttention, the patch grid behind a ViT's tokens,
attention rollout, and positional-embedding similarity."""
from workbench.core.attention.capture import AttentionCaptureError, Captured, capture_attention
from workbench.core.attention.rollout import FUSIONS, discard_lowest, fuse_heads, gradient_weighted, rollout
from workbench.core.attention.tokens import TokenGrid, token_grid

__all__ = ["AttentionCaptureError", "Captured", "FUSIONS", "TokenGrid", "capture_attention", "discard_lowest",
           "fuse_heads", "gradient_weighted", "rollout", "token_grid"]
