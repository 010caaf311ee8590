"""The regularisers that keep an optimised image natural, and presets from gentle to strong.

Following Yosinski et al. 2015 ("Understanding neural networks through deep visualization") and
Olah et al. 2017: L2 decay pulls the image towards grey after each step, a Gaussian blur every
``blur_every`` steps removes the high frequencies that gradients love, jitter shifts the image by
a random few pixels before each forward so a pattern must work at every offset, and total variation
(a loss term) penalises differences between neighbouring pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

PRESETS_ORDER = ("none", "gentle", "medium", "strong")


@dataclass(frozen=True)
class Regularisers:
    decay: float = 0.0          # share pulled towards grey after each step
    blur_every: int = 0         # steps between blurs (0: never)
    blur_sigma: float = 0.0     # the blur's sigma in pixels
    jitter: float = 0.0         # largest random shift, as a share of the image's side
    tv: float = 0.0             # weight of the total variation loss
    scale: float = 0.0          # largest random zoom before each forward, as a share (0.2: 0.8x to 1.2x)

    def jitter_pixels(self, side: int) -> int:
        return int(round(self.jitter * side))

    def overridden(self, **values: float) -> "Regularisers":
        """These settings with the given values in place of the preset's (negative: keep the preset's)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None and v >= 0})


PRESETS = {
    "none": Regularisers(),
    "gentle": Regularisers(decay=0.001, blur_every=8, blur_sigma=0.5, jitter=1 / 32, tv=0.03, scale=0.05),
    "medium": Regularisers(decay=0.003, blur_every=4, blur_sigma=0.6, jitter=1 / 16, tv=0.1, scale=0.1),
    "strong": Regularisers(decay=0.01, blur_every=2, blur_sigma=0.8, jitter=1 / 8, tv=0.3, scale=0.2),
}


def preset(name: str) -> Regularisers:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"preset must be one of {', '.join(PRESETS_ORDER)}, not {name!r}") from None


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, per image: (N,)."""
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    return dx + dy


def zoom(images: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """The images zoomed about their centre by one random factor in [1 - share, 1 + share], same size."""
    if share <= 0:
        return images
    factor = 1 + share * (2 * float(torch.rand((), generator=generator)) - 1)
    n = images.shape[0]
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / factor
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="reflection",
                                           align_corners=False)


def jitter(images: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """The images rolled by one random offset in [-pixels, pixels] along each axis."""
    if pixels <= 0:
        return images
    dy, dx = (int(v) for v in torch.randint(-pixels, pixels + 1, (2,), generator=generator))
    return torch.roll(images, shifts=(dy, dx), dims=(-2, -1))
