"""Holes in 32x32 digits and the context encoder that fills them (Pathak et al. 2016).

A mask is float (N, 1, 32, 32) or bool (32, 32) with 1 / True where a pixel is missing (the
hole). ``ContextEncoder`` eats the image with its hole blanked and the mask as a second
channel, and predicts every pixel; ``fill`` keeps the known pixels and takes the prediction in
the hole only. Training masks mix the issue's centred 12x12 square (jittered), random
rectangles and brush strokes like the ones a user paints.
"""
from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np
import torch
from torch import nn

SIDE = 32
HOLE = 12


def centre_hole(side: int = SIDE, size: int = HOLE) -> np.ndarray:
    """(side, side) bool: True on the centred size x size square."""
    if not 0 < size <= side:
        raise ValueError(f"a hole of {size} pixels does not fit a {side}-pixel image")
    mask = np.zeros((side, side), bool)
    top = (side - size) // 2
    mask[top:top + size, top:top + size] = True
    return mask


def _rectangle(rng: np.random.Generator, side: int) -> np.ndarray:
    h, w = rng.integers(6, 19, size=2)
    top, left = rng.integers(0, side - h + 1), rng.integers(0, side - w + 1)
    mask = np.zeros((side, side), bool)
    mask[top:top + h, left:left + w] = True
    return mask


def _strokes(rng: np.random.Generator, side: int) -> np.ndarray:
    canvas = np.zeros((side, side), np.uint8)
    for _ in range(rng.integers(1, 5)):
        (x0, y0), (x1, y1) = rng.integers(2, side - 2, size=(2, 2))
        cv2.line(canvas, (int(x0), int(y0)), (int(x1), int(y1)), 1, int(rng.integers(2, 6)))
    return canvas.astype(bool)


def _jittered_centre(rng: np.random.Generator, side: int) -> np.ndarray:
    size = int(rng.integers(10, 15))
    dy, dx = rng.integers(-3, 4, size=2)
    return np.roll(centre_hole(side, size), (int(dy), int(dx)), axis=(0, 1))


def random_masks(n: int, rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """(n, 1, side, side) float32 training holes: 40% centred squares of 10-14 pixels (moved up
    to 3 pixels), 30% rectangles of 6-18 pixels a side, 30% one to four brush strokes."""
    makers = (_jittered_centre, _rectangle, _strokes)
    kinds = rng.choice(3, size=n, p=(0.4, 0.3, 0.3))
    masks = [makers[k](rng, side) for k in kinds]
    return np.stack(masks)[:, None].astype(np.float32)


class ChannelwiseFC(nn.Module):
    """Pathak's channel-wise fully connected layer: every channel's h*w map to a new h*w map,
    one dense matrix per channel and no mixing between channels (a 1x1 conv mixes them after)."""

    def __init__(self, channels: int, side: int):
        super().__init__()
        self.side = side
        self.weight = nn.Parameter(torch.randn(channels, side * side, side * side) / side)
        self.bias = nn.Parameter(torch.zeros(channels, side * side))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        flat = x.reshape(n, c, 1, self.side * self.side)
        out = torch.matmul(flat, self.weight.unsqueeze(0)).squeeze(2) + self.bias
        return out.reshape(n, c, self.side, self.side)


def _down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = [("conv", nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm))]
    if norm:
        layers.append(("bn", nn.BatchNorm2d(c_out)))
    layers.append(("lrelu", nn.LeakyReLU(0.2)))
    return nn.Sequential(OrderedDict(layers))


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict([("deconv", nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)),
                                      ("bn", nn.BatchNorm2d(c_out)), ("relu", nn.ReLU())]))


class ContextEncoder(nn.Module):
    """(masked image, mask) 2x32x32 -> 1x32x32 in [0, 1].

    Encoder: stride-2 4x4 convs 32-64-128 to 4x4; bottleneck: channel-wise FC then a 1x1 conv;
    decoder: transposed convs back to 32x32, with skip connections from the encoder at 8x8 and
    16x16. A 1-channel input is an image without a hole (the mask is all zeros).
    """

    description = ("encoder convs 32-64-128 (stride 2) -> channel-wise FC 4x4 + 1x1 conv -> "
                   "transposed convs 64-32-1 with skips at 8x8 and 16x16, sigmoid")

    def __init__(self, widths: tuple[int, int, int] = (32, 64, 128)):
        super().__init__()
        w1, w2, w3 = widths
        self.enc1, self.enc2, self.enc3 = _down(2, w1, False), _down(w1, w2, True), _down(w2, w3, True)
        side = SIDE // 8
        self.bottleneck = nn.Sequential(OrderedDict([
            ("channelwise", ChannelwiseFC(w3, side)), ("mix", nn.Conv2d(w3, w3, 1)),
            ("bn", nn.BatchNorm2d(w3)), ("relu", nn.ReLU())]))
        self.dec3, self.dec2 = _up(w3, w2), _up(2 * w2, w1)
        self.dec1 = nn.ConvTranspose2d(2 * w1, 1, 4, 2, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = torch.cat([x, torch.zeros_like(x)], dim=1)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d3 = self.dec3(self.bottleneck(self.enc3(e2)))
        d2 = self.dec2(torch.cat([d3, e2], dim=1))
        return self.sigmoid(self.dec1(torch.cat([d2, e1], dim=1)))

    def predict(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Every pixel as the net sees it: image (N, 1, 32, 32) in [0, 1], mask 1 = hole."""
        return self(torch.cat([image * (1 - mask), mask], dim=1))

    def fill(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The image with its hole replaced by the prediction; known pixels untouched."""
        return blend(image, self.predict(image, mask), mask)


def blend(image: torch.Tensor, fill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Known pixels from ``image``, hole pixels (mask 1) from ``fill``."""
    return image * (1 - mask) + fill * mask
