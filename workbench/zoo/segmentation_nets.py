"""A small U-Net for semantic segmentation of shapes scenes.

The encoder is exactly the bundled shapes classifier's conv stack (``ShapesCNN.features``:
16-32-64-128 channels at strides 1-2-4-8), so it can start from that classifier's weights.
One extra block at stride 16 widens the receptive field past the largest shapes; the decoder
upsamples to stride 2, each step joined with the encoder map of the same stride; the logits
are resized bilinearly to full resolution (a full-resolution decoder step cost a third of the
training time and the shapes' edges come out as sharp without it).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

from workbench.zoo.nets import conv_stack


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)),
        ("bn", nn.BatchNorm2d(c_out)),
        ("relu", nn.ReLU(inplace=False)),
    ]))


class ShapesUNet(nn.Module):
    """3xHxW -> num_classes x H x W logits (H and W multiples of 16)."""

    description = ("U-Net: ShapesCNN encoder 16-32-64-128 (strides 1-8) + a 128-ch block at "
                   "stride 16; decoder 64-32-16 (to stride 2) with skip joins; 1x1 classifier; bilinear to full size")
    def __init__(self, num_classes: int = 7, widths: tuple[int, ...] = (16, 32, 64, 128),
                 decoder: tuple[int, ...] = (64, 32, 16)):
        super().__init__()
        pools = tuple(i < len(widths) - 1 for i in range(len(widths)))
        self.features = conv_stack(3, widths, pools)
        self.pool = nn.MaxPool2d(2)
        self.context = _block(widths[-1], widths[-1])
        ups, c_below = [], widths[-1]
        for skip, width in zip(reversed(widths), decoder):
            ups.append(_block(c_below + skip, width))
            c_below = width
        self.up = nn.ModuleList(ups)
        self.classifier = nn.Conv2d(c_below, num_classes, 1)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        skips = []
        for name, layer in self.features.named_children():
            if name.startswith("pool"):
                skips.append(x)
            x = layer(x)
        return skips + [x]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = self.encode(x)
        y = self.context(self.pool(skips[-1]))
        for block, skip in zip(self.up, reversed(skips)):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        return F.interpolate(self.classifier(y), size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


def encoder_state(classifier_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``features.*`` tensors of a ShapesCNN state dict (the U-Net's encoder)."""
    return {k: v for k, v in classifier_state.items() if k.startswith("features.")}
