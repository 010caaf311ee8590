"""How the optimised image is held: as pixels, as a colour-decorrelated Fourier spectrum, or (for
activation maximisation) as one object's outline (``object_image.ObjectImage``).

The Fourier parametrisation follows Olah et al., "Feature Visualization" (Distill 2017) and
Lucid/Lucent: each channel's spectrum is scaled by 1/frequency, so a step of the optimiser moves low
frequencies as much as high ones, and the three channels are mixed by the square root of ImageNet's
colour correlation before a sigmoid maps them into [0, 1].

Each holds a batch of N images and gives them as an (N, 3, H, W) tensor in [0, 1]. The in-place
regularisers (L2 decay towards grey, a Gaussian blur) act on what each one stores.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from workbench.core.optimize.object_image import OBJECT, ObjectImage

PIXEL, FOURIER = "pixel", "fourier"
PARAMETRISATIONS = (PIXEL, FOURIER)       # what any image can be held as
WITH_OBJECT = (*PARAMETRISATIONS, OBJECT)   # and, for an image made from nothing, one object's silhouette

# Lucid's colour correlation square root (ImageNet), columns normalised to at most 1
COLOR_CORRELATION_SQRT = np.array([[0.26, 0.09, 0.02],
                                   [0.27, 0.00, -0.05],
                                   [0.27, -0.09, 0.03]], np.float32)
COLOR_MIX = COLOR_CORRELATION_SQRT / np.linalg.norm(COLOR_CORRELATION_SQRT, axis=0).max()
FOURIER_SD = 0.01          # Lucid's initial spectrum scale
FOURIER_DAMPING = 4.0      # Lucid's divisor after the inverse transform: keeps the sigmoid out of saturation


class PixelImage:
    """Pixels in [0, 1], clamped after every step."""
    kind = PIXEL

    def __init__(self, shape: tuple[int, int, int, int], generator: torch.Generator, device: torch.device | str = "cpu",
                 init: torch.Tensor | None = None, noise: float = 0.1) -> None:
        if init is None:
            init = 0.5 + noise * torch.randn(shape, generator=generator)
        self.pixels = init.detach().to(device).clamp(0, 1).clone().requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.pixels]

    def image(self) -> torch.Tensor:
        return self.pixels

    @torch.no_grad()
    def after_step(self) -> None:
        self.pixels.clamp_(0, 1)

    @torch.no_grad()
    def decay(self, rate: float) -> None:
        self.pixels.sub_(0.5).mul_(1 - rate).add_(0.5)

    @torch.no_grad()
    def blur(self, sigma: float) -> None:
        self.pixels.copy_(gaussian_blur(self.pixels, sigma))


class FourierImage:
    """A per-channel spectrum scaled by 1/frequency, decorrelated colours, a sigmoid."""
    kind = FOURIER

    def __init__(self, shape: tuple[int, int, int, int], generator: torch.Generator,
                 device: torch.device | str = "cpu") -> None:
        n, c, h, w = shape
        self.size = (h, w)
        freqs = spectrum_frequencies(h, w)
        self.freqs = torch.from_numpy(freqs).float().to(device)
        scale = 1.0 / np.maximum(freqs, 1.0 / max(h, w))
        self.scale = torch.from_numpy(scale).float().to(device)[None, None, :, :, None]
        init = torch.randn((n, c, *freqs.shape, 2), generator=generator) * FOURIER_SD
        self.spectrum = init.to(device).requires_grad_(True)
        self.mix = torch.from_numpy(COLOR_MIX).to(device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def image(self) -> torch.Tensor:
        scaled = torch.view_as_complex(self.scale * self.spectrum)
        raw = torch.fft.irfftn(scaled, s=self.size, norm="ortho") / FOURIER_DAMPING
        mixed = torch.einsum("nchw,dc->ndhw", raw, self.mix)
        return torch.sigmoid(mixed)

    def after_step(self) -> None:
        pass

    @torch.no_grad()
    def decay(self, rate: float) -> None:
        self.spectrum.mul_(1 - rate)          # towards a zero spectrum: mid grey

    @torch.no_grad()
    def blur(self, sigma: float) -> None:
        # a Gaussian blur is a product in the frequency domain (applied before the sigmoid)
        gain = torch.exp(-2 * math.pi ** 2 * sigma ** 2 * self.freqs ** 2)
        self.spectrum.mul_(gain[None, None, :, :, None])


def make_image(kind: str, shape: tuple[int, int, int, int], generator: torch.Generator,
               device: torch.device | str = "cpu") -> PixelImage | FourierImage | ObjectImage:
    if kind == PIXEL:
        return PixelImage(shape, generator, device)
    if kind == FOURIER:
        return FourierImage(shape, generator, device)
    if kind == OBJECT:
        return ObjectImage(shape, generator, device)
    raise ValueError(f"parametrisation must be one of {', '.join(WITH_OBJECT)}, not {kind!r}")


def spectrum_frequencies(h: int, w: int) -> np.ndarray:
    """|f| in cycles per pixel for each coefficient of an (h, w) real FFT (Lucid's rfft2d_freqs)."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of (N, C, H, W) images, edges reflected."""
    if sigma <= 0:
        return images
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    pad = min(radius, images.shape[-1] - 1, images.shape[-2] - 1)
    if pad < radius:
        kernel = kernel[radius - pad: radius + pad + 1] / kernel[radius - pad: radius + pad + 1].sum()
    x = torch.nn.functional.pad(images, (pad, pad, pad, pad), mode="reflect")
    x = torch.nn.functional.conv2d(x, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return torch.nn.functional.conv2d(x, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


class ModelInput:
    """[0, 1] RGB images -> what the model eats: grey where it reads grey, then its mean and std."""

    def __init__(self, preprocess, device: torch.device | str = "cpu") -> None:
        self.grayscale = bool(preprocess.grayscale)
        c = 1 if self.grayscale else 3
        self.mean = torch.tensor(preprocess.mean[:c], dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.std = torch.tensor(preprocess.std[:c], dtype=torch.float32, device=device).view(1, -1, 1, 1)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.grayscale:
            images = (0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]).unsqueeze(1)
        return (images - self.mean) / self.std

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """The model's input back to [0, 1] RGB (grey repeated over three channels)."""
        images = (x * self.std + self.mean).clamp(0, 1)
        return images.repeat(1, 3, 1, 1) if self.grayscale else images
