"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3).

Each 2x2 output tile costs 16 multiplies per input/output channel pair instead of 36, done as
16 batched matrix products; the transforms only add and subtract. The result is the same
convolution up to float rounding (in practice closer to a float64 reference than the direct
kernel). It pays off for wide layers (hundreds of channels), where the products dominate.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_G = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]], dtype=torch.float64)


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """(K, C, 3, 3) -> (16, C, K): G w G^T for every filter, one matrix per tile position."""
    g = _G.to(weight.device)
    u = g @ weight.double() @ g.T                       # (K, C, 4, 4)
    return u.permute(2, 3, 1, 0).reshape(16, weight.shape[1], weight.shape[0]).to(weight.dtype).contiguous()


def conv3x3(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None, relu: bool) -> torch.Tensor:
    """Valid (unpadded) 3x3 convolution of x (B, C, H, W) with weights from ``transform_weight``;
    returns (B, K, H - 2, W - 2) in channels-last memory."""
    b, c, h, w = x.shape
    ho, wo = h - 2, w - 2
    th, tw = (ho + 1) // 2, (wo + 1) // 2
    xs = x.permute(0, 2, 3, 1)
    if 2 * th + 2 > h or 2 * tw + 2 > w:       # odd output: one more row/column of tiles
        xs = F.pad(xs, (0, 0, 0, 2 * tw + 2 - w, 0, 2 * th + 2 - h))
    # input transform B^T d B, rows then columns, for all tiles at once
    r = [xs[:, k:k + 2 * th:2] for k in range(4)]
    t = (r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])
    v = x.new_empty(4, 4, b, th, tw, c)
    for a in range(4):
        col = [t[a][:, :, k:k + 2 * tw:2] for k in range(4)]
        torch.sub(col[0], col[2], out=v[a, 0])
        torch.add(col[1], col[2], out=v[a, 1])
        torch.sub(col[2], col[1], out=v[a, 2])
        torch.sub(col[1], col[3], out=v[a, 3])
    k = u.shape[2]
    m = torch.bmm(v.view(16, b * th * tw, c), u).view(4, 4, b, th, tw, k)
    # output transform A^T m A
    s = (m[0] + m[1] + m[2], m[1] - m[2] - m[3])
    y = x.new_empty(b, th, 2, tw, 2, k)
    for i in range(2):
        torch.add(s[i][0] + s[i][1], s[i][2], out=y[:, :, i, :, 0])
        torch.sub(s[i][1] - s[i][2], s[i][3], out=y[:, :, i, :, 1])
    y = y.view(b, 2 * th, 2 * tw, k)
    if 2 * th != ho or 2 * tw != wo:
        y = y[:, :ho, :wo].contiguous()
    if bias is not None:
        y += bias
    if relu:
        y.relu_()
    return y.permute(0, 3, 1, 2)


def suits(conv: torch.nn.Conv2d, min_channels: int = 256) -> bool:
    return (tuple(conv.kernel_size) == (3, 3) and tuple(conv.stride) == (1, 1)
            and tuple(conv.dilation) == (1, 1) and conv.groups == 1
            and min(conv.in_channels, conv.out_channels) >= min_channels)
