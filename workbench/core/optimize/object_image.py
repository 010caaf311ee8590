"""An image that can only show one object: a silhouette of one colour over a plain background.

A classifier that ends in global average pooling counts evidence over the whole map, so free pixels
(or a Fourier spectrum) maximise a class by tiling the class's parts everywhere: a texture of
corners, not a shape. Here the optimiser moves only the outline of a single star-shaped polygon
(``vertices`` corners at evenly spaced angles about the centre, each at its own radius), filled with
one saturated colour over a plain muted background like the shapes world's: the class has to be
said with one silhouette. Straight edges between the corners keep the corners sharp, which is what
such a model reads. Colour and background are drawn from the generator and stay fixed.

The regularisers act on the outline: L2 decay pulls every radius back towards the starting circle,
total variation (in the loop) charges for the outline's length, jitter and zoom move and scale the
whole picture; there is nothing to blur.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from workbench.zoo.shapes import COLORS_RGB

OBJECT = "object"
OBJECT_COLOURS = np.array(list(COLORS_RGB.values()), np.float32) / 255   # the shapes world's palette
BACKGROUND_GREY = (35 / 255, 135 / 255)      # the shapes world's range of background levels
BACKGROUND_TINT = 22 / 255                   # and its largest per-channel tint
START_RADIUS = 0.3      # the starting circle's radius, as a share of the image's short side
MAX_RADIUS = 0.45       # no corner reaches further (so the object stays inside the image)
START_NOISE = 0.1       # sd of the starting log-radii: a circle nudged out of symmetry
STEP_SCALE = 0.4        # log-radius per unit of parameter: Adam's shared default (0.05) moves a radius ~2% a step
EDGE = 0.6              # the silhouette's anti-aliased edge, in pixels


class ObjectImage:
    """One polygon per image: its log-radii (N, vertices), over ``STEP_SCALE``, are the parameters."""
    kind = OBJECT

    def __init__(self, shape: tuple[int, int, int, int], generator: torch.Generator,
                 device: torch.device | str = "cpu", vertices: int = 24, noise: float = START_NOISE) -> None:
        n, _c, h, w = shape
        if vertices < 3:
            raise ValueError(f"an object needs at least 3 corners, got {vertices}")
        self.size = (h, w)
        self.radius, self.max_radius = START_RADIUS * min(h, w), MAX_RADIUS * min(h, w)
        yy, xx = torch.meshgrid(torch.arange(h) + 0.5 - h / 2, torch.arange(w) + 0.5 - w / 2, indexing="ij")
        self.distance = torch.sqrt(xx ** 2 + yy ** 2).to(device)
        # each pixel lies between corners i0 and i1; s0, s1: the sines of its angle from each
        step = 2 * math.pi / vertices
        theta = torch.remainder(torch.atan2(yy, xx), 2 * math.pi)
        segment = (theta / step).floor().long().clamp(0, vertices - 1)
        local = theta - segment * step
        self.i0 = segment.flatten().to(device)
        self.i1 = ((segment + 1) % vertices).flatten().to(device)
        self.s0 = torch.sin(local).flatten().to(device)
        self.s1 = torch.sin(step - local).flatten().to(device)
        self.sin_step = math.sin(step)
        start = noise / STEP_SCALE * torch.randn((n, vertices), generator=generator)
        self.shape_params = start.to(device).requires_grad_(True)
        pick = torch.randint(len(OBJECT_COLOURS), (n,), generator=generator)
        self.colour = torch.from_numpy(OBJECT_COLOURS)[pick].to(device).view(n, 3, 1, 1)
        grey = BACKGROUND_GREY[0] + (BACKGROUND_GREY[1] - BACKGROUND_GREY[0]) * torch.rand((n, 1, 1, 1), generator=generator)
        tint = BACKGROUND_TINT * (2 * torch.rand((n, 3, 1, 1), generator=generator) - 1)
        self.background = (grey + tint).clamp(0, 1).to(device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.shape_params]

    def radii(self) -> torch.Tensor:
        """(N, vertices) in pixels, below ``max_radius``."""
        r = self.radius * torch.exp(STEP_SCALE * self.shape_params)
        return self.max_radius * torch.tanh(r / self.max_radius)

    def alpha(self) -> torch.Tensor:
        """(N, 1, H, W): how much of each pixel the polygon covers."""
        r = self.radii()
        r0, r1 = r[:, self.i0], r[:, self.i1]
        # the distance from the centre to the edge between two corners, along the pixel's direction
        edge = r0 * r1 * self.sin_step / (r0 * self.s0 + r1 * self.s1)
        h, w = self.size
        return torch.sigmoid((edge.view(-1, h, w) - self.distance) / EDGE).unsqueeze(1)

    def image(self) -> torch.Tensor:
        a = self.alpha()
        return a * self.colour + (1 - a) * self.background

    def after_step(self) -> None:
        pass

    @torch.no_grad()
    def decay(self, rate: float) -> None:
        self.shape_params.mul_(1 - rate)          # towards the circle of START_RADIUS

    def blur(self, sigma: float) -> None:
        pass
