"""A random multi-scale conv net in the spirit of Ustyuzhaninov et al. (2016), "Texture synthesis
using shallow convolutional networks with random filters": one layer of random 5x5 filters and a
ReLU at each of five scales of an image pyramid (1, 1/2, ... 1/16), so the receptive fields run
from 5 to 80 pixels. Seeded, so every run sees the same filters. Used to measure which extractor
transfers texture best (bench/features.py); load it for a run with ``multiscale_extractor(name)``."""
from __future__ import annotations

import math

import torch
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess

SCALES, CHANNELS, KERNEL = 5, 64, 5


class MultiscaleNet(nn.Module):
    def __init__(self, seed: int = 0, scales: int = SCALES, channels: int = CHANNELS, kernel: int = KERNEL) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.scales = nn.ModuleList(
            nn.Sequential(nn.Conv2d(3, channels, kernel, padding=kernel // 2, bias=False), nn.ReLU())
            for _ in range(scales))
        with torch.no_grad():
            for scale in self.scales:
                scale[0].weight.copy_(torch.randn(scale[0].weight.shape, generator=gen) / math.sqrt(3 * kernel ** 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for i, scale in enumerate(self.scales):
            # an antialiased bilinear shrink: an average pool's gradient would paint 2^i-pixel blocks
            smaller = nn.functional.interpolate(x, scale_factor=0.5 ** i, mode="bilinear", antialias=True,
                                                align_corners=False) if i else x
            outs.append(scale(smaller).mean(dim=(2, 3)))
        return torch.cat(outs, dim=1)


def multiscale_extractor(name: str, seed: int = 0) -> ModelHandle:
    """The net as a model handle called ``name`` (the extractor's name where a model id would go)."""
    net = MultiscaleNet(seed).eval()
    preprocess = Preprocess(Geometry((64, 64), "stretch"), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    return ModelHandle(id=name if seed == 0 else f"{name} (seed {seed})", module=net, task="classify",
                       preprocess=preprocess, labels=[f"feature {i}" for i in range(SCALES * CHANNELS)],
                       source="random init")
