"""Generative nets for 1x32x32 digits: a conv autoencoder, a conv VAE and a DCGAN / SNGAN pair.

Every image these nets make or eat is in [0, 1]. Each latent model turns standard normal
noise into a latent with ``latent_from_noise`` (the identity for the VAE and the GANs; for
the plain autoencoder, a Gaussian fitted to the training latents, in its principal axes),
and turns a latent into pixels with ``decode``. Layers have readable names and no in-place
operations, so hooks see every intermediate tensor.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SIDE = 32
ENCODER_WIDTHS = (16, 32, 64)
DECODER_WIDTHS = (64, 32, 16)


def noise(n: int, dim: int, seed: int, truncation: float = 0.0) -> np.ndarray:
    """(n, dim) float32 standard normal noise from ``seed``; row i does not depend on n.

    ``truncation`` > 0 redraws every value whose magnitude exceeds it (BigGAN's trick); the
    redraws come after the first n rows, so then row i depends on n.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dim))
    if truncation > 0:
        out = np.abs(z) > truncation
        while out.any():
            z[out] = rng.standard_normal(int(out.sum()))
            out = np.abs(z) > truncation
    return z.astype(np.float32)


def encoder(out_features: int, widths: tuple[int, ...] = ENCODER_WIDTHS) -> nn.Sequential:
    """1x32x32 -> out_features: stride-2 4x4 convs with ReLU, then a linear layer."""
    layers: list[tuple[str, nn.Module]] = []
    c_in = 1
    for i, w in enumerate(widths, start=1):
        layers += [(f"conv{i}", nn.Conv2d(c_in, w, 4, 2, 1)), (f"relu{i}", nn.ReLU())]
        c_in = w
    side = SIDE // 2 ** len(widths)
    layers += [("flatten", nn.Flatten()), ("fc", nn.Linear(c_in * side * side, out_features))]
    return nn.Sequential(OrderedDict(layers))


def decoder(latent_dim: int, widths: tuple[int, ...] = DECODER_WIDTHS, batchnorm: bool = False) -> nn.Sequential:
    """latent -> 1x32x32 in [0, 1]: a linear layer to 4x4, stride-2 transposed convs, sigmoid."""
    side = SIDE // 2 ** len(widths)
    layers: list[tuple[str, nn.Module]] = [
        ("fc", nn.Linear(latent_dim, widths[0] * side * side)),
        ("unflatten", nn.Unflatten(1, (widths[0], side, side)))]
    for i, w in enumerate(widths):
        if i:
            layers.append((f"deconv{i}", nn.ConvTranspose2d(widths[i - 1], w, 4, 2, 1, bias=not batchnorm)))
        if batchnorm:
            layers.append((f"bn{i}", nn.BatchNorm2d(w)))
        layers.append((f"relu{i}", nn.ReLU()))
    layers += [(f"deconv{len(widths)}", nn.ConvTranspose2d(widths[-1], 1, 4, 2, 1)), ("sigmoid", nn.Sigmoid())]
    return nn.Sequential(OrderedDict(layers))


class LatentModel(nn.Module):
    """What every latent model shares: its latent size, the noise-to-latent map and sampling."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("prior_mean", torch.zeros(latent_dim))
        self.register_buffer("prior_basis", torch.eye(latent_dim))

    def latent_from_noise(self, eps: torch.Tensor) -> torch.Tensor:
        """Standard normal noise (N, d) -> latents (N, d) distributed like the model's prior."""
        return self.prior_mean + eps @ self.prior_basis.T

    def set_prior(self, mean: torch.Tensor, basis: torch.Tensor) -> None:
        self.prior_mean.copy_(mean)
        self.prior_basis.copy_(basis)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
        """n images (n, 1, 32, 32) in [0, 1] decoded from ``noise(n, d, seed)``."""
        eps = torch.from_numpy(noise(n, self.latent_dim, seed))
        return torch.cat([self.decode(self.latent_from_noise(e)) for e in eps.split(batch_size)])


class ConvAE(LatentModel):
    """Deterministic autoencoder: encode(x) -> z, decode(z) -> x; forward reconstructs."""

    description = "conv encoder 16-32-64 (stride 2) -> linear z; linear -> transposed convs 64-32-16 -> sigmoid"

    def __init__(self, latent_dim: int = 16):
        super().__init__(latent_dim)
        self.encoder = encoder(latent_dim)
        self.decoder = decoder(latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvVAE(ConvAE):
    """Gaussian-posterior VAE (Kingma & Welling 2014): the encoder gives (mu, logvar).

    ``encode`` returns the posterior mean, so ``forward`` is a deterministic reconstruction.
    """

    description = ("conv encoder 16-32-64 (stride 2) -> linear (mu, logvar); linear -> "
                   "transposed convs 64-32-16 -> sigmoid")

    def __init__(self, latent_dim: int = 16):
        LatentModel.__init__(self, latent_dim)
        self.encoder = encoder(2 * latent_dim)
        self.decoder = decoder(latent_dim)

    def encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_dist(x)[0]


class Generator(LatentModel):
    """DCGAN generator (Radford et al. 2016) for 32x32: z -> image in [0, 1]; forward = generate."""

    description = "linear z -> 64x4x4, transposed convs 64-32-16 with batch norm and ReLU, sigmoid"

    def __init__(self, latent_dim: int = 32):
        super().__init__(latent_dim)
        self.net = decoder(latent_dim, batchnorm=True)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """32x32 image in [0, 1] -> one realness logit. DCGAN: batch norm after the 2nd and 3rd
    convs; SNGAN (Miyato et al. 2018): spectral norm on every weight and no batch norm."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), spectral: bool = False):
        super().__init__()
        wrap = spectral_norm if spectral else (lambda m: m)
        layers: list[tuple[str, nn.Module]] = []
        c_in = 1
        for i, w in enumerate(widths, start=1):
            layers.append((f"conv{i}", wrap(nn.Conv2d(c_in, w, 4, 2, 1, bias=spectral or i == 1))))
            if not spectral and i > 1:
                layers.append((f"bn{i}", nn.BatchNorm2d(w)))
            layers.append((f"lrelu{i}", nn.LeakyReLU(0.2 if not spectral else 0.1)))
            c_in = w
        side = SIDE // 2 ** len(widths)
        layers += [("flatten", nn.Flatten()), ("fc", wrap(nn.Linear(c_in * side * side, 1)))]
        self.net = nn.Sequential(OrderedDict(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0).squeeze(1)


@dataclass(frozen=True)
class GenerativeSpec:
    """How to build one bundled generative model."""
    name: str
    task: str              # "autoencode" or "generate"
    build: Callable[[], LatentModel]
    latent_dim: int
    description: str

    def zoo_fields(self) -> dict:
        """The fields of this model's ``catalogue.ZooEntry``: 1x32x32 images in [0, 1]."""
        return {"name": self.name, "task": self.task, "build": self.build, "labels": [],
                "input_size": (SIDE, SIDE), "mean": (0.0,), "std": (1.0,), "grayscale": True,
                "description": self.description,
                "extra": {"latent_dim": self.latent_dim}}


AE_LATENT = 16
GAN_LATENT = 32

SPECS: dict[str, GenerativeSpec] = {s.name: s for s in (
    GenerativeSpec("digits-ae", "autoencode", lambda: ConvAE(AE_LATENT), AE_LATENT,
                   "Convolutional autoencoder of the 32x32 digits (16-d latent)"),
    GenerativeSpec("digits-vae", "autoencode", lambda: ConvVAE(AE_LATENT), AE_LATENT,
                   "Convolutional VAE of the 32x32 digits (16-d Gaussian latent)"),
    GenerativeSpec("digits-dcgan", "generate", lambda: Generator(GAN_LATENT), GAN_LATENT,
                   "DCGAN generator of 32x32 digits (32-d latent)"),
    GenerativeSpec("digits-sngan", "generate", lambda: Generator(GAN_LATENT), GAN_LATENT,
                   "Generator trained against a spectrally normalised critic with hinge loss (32-d latent)"),
)}
