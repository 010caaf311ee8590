"""Encoding with an autoencoder: an image to its latent and reconstruction, and a labelled image
set (the held-out digits) to latents with a 2-D projection for a scatter plot. Qt-free; the
functions run on the worker (torch is imported inside them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workbench.core.latent import paths as latent
from workbench.core.latent.session import decoder, to_uint8

if TYPE_CHECKING:
    from workbench.core.handle import ModelHandle

# the bundled autoencoders whose encodings of the held-out digits are plotted side by side
AUTOENCODERS = {"ae": "zoo:digits-ae", "vae": "zoo:digits-vae"}


@dataclass(frozen=True)
class Encoding:
    """An image as the encoder saw it, its latent and the decoder's reconstruction of it."""
    z: np.ndarray
    input: np.ndarray
    reconstruction: np.ndarray
    inverted: bool
    mse: float


@dataclass(frozen=True)
class EncodedSet:
    """Latents of a labelled image set and their 2-D projection (PCA; the latents when d == 2)."""
    model: str
    latents: np.ndarray
    labels: np.ndarray
    mean: np.ndarray
    axes: np.ndarray
    xy: np.ndarray

    def project(self, z: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(z) - self.mean) @ self.axes.T


def can_encode(handle: ModelHandle) -> bool:
    return handle.task == "autoencode" and hasattr(handle.module, "encode")


def plot_for(handle: ModelHandle | None) -> str | None:
    """Which side-by-side plot (a key of AUTOENCODERS) a model's encodings belong in: a VAE's
    posterior, or a plain AE's; None for a model that cannot encode."""
    if handle is None or not can_encode(handle):
        return None
    return "vae" if hasattr(handle.module, "encode_dist") else "ae"


def _light_background(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(border.mean()) > 127.5


def encode(handle: ModelHandle, image: np.ndarray) -> Encoding:
    """An RGB uint8 image -> its latent and reconstruction. The bundled digits are light on
    dark, so an image with a light border (ink on paper) is inverted first."""
    import torch
    if not can_encode(handle):
        raise ValueError(f"{handle.id} has no encoder; only autoencoders can encode an image")
    image = np.asarray(image, np.uint8)
    inverted = _light_background(image.mean(axis=2))
    if inverted:
        image = 255 - image
    pre = handle.preprocess
    x = pre(image).to(handle.device)
    with torch.inference_mode():
        z = handle.module.encode(x)
        recon = decoder(handle)(z)
        seen = x * torch.tensor(pre.std[:x.shape[1]]).view(1, -1, 1, 1) + torch.tensor(pre.mean[:x.shape[1]]).view(1, -1, 1, 1)
        mse = float(((recon.clamp(0, 1) - seen) ** 2).mean()) if recon.shape == seen.shape else float("nan")
    return Encoding(z[0].float().cpu().numpy(), to_uint8(seen)[0], to_uint8(recon)[0], inverted, mse)


def encode_images(handle: ModelHandle, images: np.ndarray, chunk: int = 256) -> np.ndarray:
    """RGB uint8 images (N, H, W, 3) -> latents (N, d)."""
    import torch
    x = torch.cat([handle.preprocess(im) for im in images])
    with torch.inference_mode():
        return torch.cat([handle.module.encode(x[i:i + chunk].to(handle.device))
                          for i in range(0, len(x), chunk)]).float().cpu().numpy()


def held_out_digits(split: str = "test", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits of a split as RGB uint8 (N, 32, 32, 3) and their labels (N,)."""
    from workbench.zoo.digits import load_split
    images, labels = load_split(split)
    return np.repeat(images[:limit, ..., None], 3, axis=3), labels[:limit]


def encode_dataset(handle: ModelHandle, split: str = "test", limit: int | None = None) -> EncodedSet:
    """The held-out digits encoded, with their labels and a 2-D PCA projection."""
    images, labels = held_out_digits(split, limit)
    z = encode_images(handle, images).astype(np.float64)
    if z.shape[1] == 2:
        axes, mean = np.eye(2), np.zeros(2)
    else:
        axes, _, mean = latent.principal_directions(z, 2)
    return EncodedSet(handle.id, z, labels, mean, axes, (z - mean) @ axes.T)
