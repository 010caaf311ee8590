"""Small CNN classifiers for the bundled world.

Plain Conv2d / BatchNorm2d / ReLU / MaxPool2d / Linear with readable names and no in-place
operations, so forward and backward hooks see every intermediate tensor.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn


def conv_block(index: int, c_in: int, c_out: int, pool: bool) -> list[tuple[str, nn.Module]]:
    layers: list[tuple[str, nn.Module]] = [
        (f"conv{index}", nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)),
        (f"bn{index}", nn.BatchNorm2d(c_out)),
        (f"relu{index}", nn.ReLU(inplace=False)),
    ]
    if pool:
        layers.append((f"pool{index}", nn.MaxPool2d(2)))
    return layers


def conv_stack(c_in: int, widths: tuple[int, ...], pools: tuple[bool, ...]) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    for i, (w, p) in enumerate(zip(widths, pools), start=1):
        layers += conv_block(i, c_in, w, p)
        c_in = w
    return nn.Sequential(OrderedDict(layers))


class ShapesCNN(nn.Module):
    """3x64x64 -> 6 logits: four conv-BN-ReLU blocks (16-32-64-128; max-pool after the first
    three), global average pooling and a linear classifier."""

    description = "4 conv-BN-ReLU blocks 16-32-64-128, 3 max-pools, global average pool, linear"

    def __init__(self, num_classes: int = 6, in_channels: int = 3,
                 widths: tuple[int, ...] = (16, 32, 64, 128)):
        super().__init__()
        pools = tuple(i < len(widths) - 1 for i in range(len(widths)))
        self.features = conv_stack(in_channels, widths, pools)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


class DigitsCNN(nn.Module):
    """1x32x32 -> 10 logits: three conv-BN-ReLU blocks (16-32-64) each followed by a
    max-pool, then dropout and a linear classifier on the 4x4 map."""

    description = "3 conv-BN-ReLU blocks 16-32-64 with max-pools, dropout, linear on 64x4x4"

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, ...] = (16, 32, 64), input_size: int = 32):
        super().__init__()
        self.features = conv_stack(in_channels, widths, (True,) * len(widths))
        side = input_size // 2 ** len(widths)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(widths[-1] * side * side, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.flatten(self.features(x))))


class TexturesCNN(nn.Module):
    """3x64x64 -> logits: an 11x11 first layer (conv1, with bias, no batch norm) -> ReLU ->
    max-pool, then three 3x3 conv-BN-ReLU blocks (max-pool after the first two), global average
    pooling and a linear classifier. Its conv layers are ``features.conv1`` .. ``features.conv4``.
    Any input size works; the spatial maps shrink by 8."""

    description = ("conv1 11x11 (64 filters, stride 1) -> ReLU -> max-pool, 3 conv-BN-ReLU blocks "
                   "64-128-128 (2 max-pools), global average pool, linear")

    def __init__(self, num_classes: int = 10, in_channels: int = 3, first: int = 64,
                 kernel: int = 11, widths: tuple[int, ...] = (64, 128, 128)):
        super().__init__()
        layers: list[tuple[str, nn.Module]] = [
            ("conv1", nn.Conv2d(in_channels, first, kernel, padding=kernel // 2)),
            ("relu1", nn.ReLU(inplace=False)), ("pool1", nn.MaxPool2d(2))]
        c_in = first
        for i, w in enumerate(widths, start=2):
            layers += conv_block(i, c_in, w, pool=i < len(widths) + 1)
            c_in = w
        self.features = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


ARCHITECTURES: dict[str, type[nn.Module]] = {"ShapesCNN": ShapesCNN, "DigitsCNN": DigitsCNN,
                                            "TexturesCNN": TexturesCNN}
