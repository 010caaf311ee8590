"""4x super-resolution of the bundled world: the net, the data and the low-resolution model.

The low-resolution image is the high-resolution one area-downsampled by 4 (each output pixel
the mean of a 4x4 block, as ``cv2.INTER_AREA`` does for an integer factor), rounded to uint8.
The net eats RGB in [0, 1] at any size and returns RGB in [0, 1] four times larger: bicubic
upsampling plus a learned residual. Grayscale images go in with their gray value in all
three channels (the digits are trained that way).

Training data (``workbench train sr-pixel`` / ``sr-gan``): single shapes (``render_shape``,
64x64 and 64x64 crops of 128x128 renders), 64x64 crops of 128x128 scenes (``render_scene``),
and the digits train split (32x32). Held out: the shapes test seeds of ``shapes-cnn`` at
64x64 and the digits test split.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

SCALE = 4
WIDTH = 32
BLOCKS = 4
SHAPES_TRAIN_SEEDS = 3_000_000   # disjoint from every shapes-cnn split
SHAPES_TEST_SEEDS = 2_000_000    # shapes-cnn's test split: neither net trained on them
SHAPES_TEST_COUNT = 600


class ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(self.relu(self.conv1(x)))


class SuperResolver(nn.Module):
    """3xhxw in [0, 1] -> 3x4hx4w: a 3x3 head, residual blocks at low resolution, two
    pixel-shuffle x2 stages, a 3x3 tail; the output is bicubic(x) + tail, clamped to [0, 1]."""

    description = (f"head conv 3-{WIDTH}, {BLOCKS} residual blocks ({WIDTH} ch) at low resolution, "
                   f"two conv + pixel-shuffle x2 stages ({WIDTH}, {WIDTH // 2} ch), tail conv to RGB, "
                   "added to the bicubic upsample")

    def __init__(self, width: int = WIDTH, blocks: int = BLOCKS):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(OrderedDict((f"block{i + 1}", ResidualBlock(width))
                                              for i in range(blocks)))
        self.up1 = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(width, width * 4, 3, padding=1)), ("shuffle", nn.PixelShuffle(2)),
            ("relu", nn.ReLU())]))
        self.up2 = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(width, width // 2 * 4, 3, padding=1)), ("shuffle", nn.PixelShuffle(2)),
            ("relu", nn.ReLU())]))
        self.tail = nn.Conv2d(width // 2, 3, 3, padding=1)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.tail(self.up2(self.up1(h + self.body(h))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (bicubic(x) + self.residual(x)).clamp(0.0, 1.0)


class PatchDiscriminator(nn.Module):
    """3xHxW -> a map of real/fake logits, one per overlapping patch (about 22 pixels wide)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers: list[tuple[str, nn.Module]] = []
        c_in = 3
        for i, w in enumerate(widths, start=1):
            layers += [(f"conv{i}", nn.utils.parametrizations.spectral_norm(nn.Conv2d(c_in, w, 4, 2, 1))),
                       (f"lrelu{i}", nn.LeakyReLU(0.2))]
            c_in = w
        layers.append(("out", nn.Conv2d(c_in, 1, 3, padding=1)))
        self.net = nn.Sequential(OrderedDict(layers))

    def forward(self, x):
        return self.net(x)


def bicubic(x: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """NxCxhxw -> NxCx(scale h)x(scale w), bicubic (a = -0.75, half-pixel centres, as OpenCV)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def downsample(hr: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Area downsampling of NxCxHxW in [0, 1] by ``scale``, rounded to uint8 levels."""
    return torch.round(F.avg_pool2d(hr, scale) * 255.0) / 255.0


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) RGB or (N, H, W) gray -> float NCHW RGB in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    if x.ndim == 3:
        x = x.unsqueeze(-1).expand(-1, -1, -1, 3)
    return x.permute(0, 3, 1, 2).contiguous()


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float NCHW in [0, 1] -> uint8 (N, H, W, 3)."""
    return (x.clamp(0, 1) * 255.0).round().byte().permute(0, 2, 3, 1).numpy()


def shapes_items(first_seed: int, count: int, size: int = 64) -> np.ndarray:
    from workbench.zoo.shapes import render_shape
    return np.stack([render_shape(first_seed + i, size)[0] for i in range(count)])


def shapes_scenes(first_seed: int, count: int, size: int = 128) -> np.ndarray:
    from workbench.zoo.shapes import render_scene
    return np.stack([render_scene(first_seed + i, size).image for i in range(count)])


def held_out(shapes: int = SHAPES_TEST_COUNT, digits: int | None = None) -> dict[str, np.ndarray]:
    """The card's held-out images: {"shapes": (N, 64, 64, 3), "digits": (M, 32, 32)} uint8."""
    from workbench.zoo.digits import load_split
    test_digits = load_split("test")[0]
    return {"shapes": shapes_items(SHAPES_TEST_SEEDS, shapes),
            "digits": test_digits if digits is None else test_digits[:digits]}


@torch.no_grad()
def upscale(model: nn.Module | None, lr: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """SR of a float NCHW RGB batch by ``model`` (None: bicubic, clamped to [0, 1])."""
    parts = []
    for b in lr.split(batch_size):
        parts.append(bicubic(b).clamp(0, 1) if model is None else model(b))
    return torch.cat(parts)
