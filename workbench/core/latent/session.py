"""The latent explorer's model: its state on the GUI thread and the work it sends to the worker.

``LatentState`` is plain state (the current latent, slider ranges, an optional basis of
directions) that the panel edits without touching torch. The functions below it take a model
handle and numpy arrays, run on the worker, and return numpy arrays: decode a latent to a
uint8 image, draw a seeded latent, find principal directions, decode a manifold grid or an
interpolation. Encoding images lives in ``core.latent.encoding``; the jobs the Latent tab
submits are in ``core.latent.jobs``.

Images are uint8: (h, w) for one-channel models, (h, w, 3) for colour ones. torch is imported
inside the worker-side functions, so the UI can use the state without importing it.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from workbench.core.latent import paths as latent
from workbench.core.results import ImageGrid

if TYPE_CHECKING:
    import torch

    from workbench.core.handle import ModelHandle

TASKS = ("generate", "autoencode")
MAX_SEED = 2**31 - 1       # the largest seed of a random latent, as the generative methods take
RANGE_SIGMA = 3.0          # sliders span the prior mean +- this many standard deviations
PRIOR_SAMPLES = 4000
DIRECTION_SAMPLES = 2000
MODES = ("spherical", "linear")


@dataclass(frozen=True)
class LatentPrior:
    """Per-dimension mean and standard deviation of the latents the model samples."""
    mean: np.ndarray
    std: np.ndarray

    def standardise(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, np.float64) - self.mean) / self.std

    def unstandardise(self, s: np.ndarray) -> np.ndarray:
        return (self.mean + np.asarray(s, np.float64) * self.std).astype(np.float32)


@dataclass(frozen=True)
class Directions:
    """Unit directions (k, d) in latent space and the spread (k,) of sampled latents along each."""
    vectors: np.ndarray
    std: np.ndarray


@dataclass
class LatentState:
    """The current latent and how the sliders map onto it.

    Per-dimension mode: slider i is coordinate i of ``z``. Direction mode: slider j is an offset
    ``c_j`` (in standard deviations) along direction j from ``base``, the latent the mode began at.
    """
    prior: LatentPrior
    z: np.ndarray
    directions: Directions | None = None
    base: np.ndarray | None = None
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def dim(self) -> int:
        return len(self.prior.mean)

    @property
    def along_directions(self) -> bool:
        return self.base is not None

    def slider_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        if self.along_directions:
            k = len(self.offsets)
            return np.full(k, -RANGE_SIGMA), np.full(k, RANGE_SIGMA)
        return self.prior.mean - RANGE_SIGMA * self.prior.std, self.prior.mean + RANGE_SIGMA * self.prior.std

    def slider_values(self) -> np.ndarray:
        return self.offsets.copy() if self.along_directions else np.asarray(self.z, np.float64)

    def set_slider(self, index: int, value: float) -> np.ndarray:
        """Move one slider; returns the new latent."""
        if self.along_directions:
            self.offsets[index] = value
            d = self.directions
            self.z = (self.base + (self.offsets * d.std) @ d.vectors).astype(np.float32)
        else:
            self.z = np.array(self.z, np.float32)
            self.z[index] = value
        return self.z

    def set_latent(self, z: np.ndarray) -> None:
        """Jump to a latent; in direction mode it becomes the new base."""
        self.z = np.asarray(z, np.float32).copy()
        if self.along_directions:
            self.base, self.offsets = self.z.copy(), np.zeros(len(self.offsets))

    def use_directions(self, directions: Directions | None) -> None:
        """Switch the sliders to these directions (None: back to one slider per dimension)."""
        self.directions = directions
        self.base = None if directions is None else np.asarray(self.z, np.float32).copy()
        self.offsets = np.zeros(0 if directions is None else len(directions.std))


# -- worker side ---------------------------------------------------------------------------

def applies_to(handle: ModelHandle) -> bool:
    return handle.task in TASKS


def latent_size(handle: ModelHandle) -> int:
    d = handle.latent_dim or getattr(handle.module, "latent_dim", None)
    if not d:
        raise ValueError(f"{handle.id} does not state its latent size (ModelHandle.latent_dim)")
    return int(d)


def decoder(handle: ModelHandle):
    return getattr(handle.module, "decode", None) or handle.module


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Images (N, C, h, w) in [0, 1] -> uint8 (N, h, w) for one channel, else (N, h, w, C)."""
    import torch
    x = x.clamp(0, 1).mul(255).round_().to(torch.uint8).cpu()
    return (x[:, 0] if x.shape[1] == 1 else x.permute(0, 2, 3, 1)).numpy()


def decode_batch(handle: ModelHandle, z: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Latents (N, d) -> uint8 images (N, ...)."""
    import torch
    decode, device = decoder(handle), handle.device
    z = np.ascontiguousarray(z, np.float32)
    with torch.inference_mode():
        parts = [to_uint8(decode(torch.from_numpy(z[i:i + chunk]).to(device))) for i in range(0, len(z), chunk)]
    return np.concatenate(parts)


@contextmanager
def one_thread():
    """torch on one thread in this thread for a while. A single small latent decodes fastest on
    one core, and idle OpenMP threads spinning after a parallel op would take the core the GUI
    thread needs to show the result."""
    import torch
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


_SINGLE_LATENT = threading.Lock()


@contextmanager
def single_latent_mode():
    """How one latent decodes fastest on the CPU: one torch thread, inference mode, and torch's
    own convolution kernels instead of oneDNN's, whose per-call set-up costs more than a
    batch-of-one transposed convolution itself (about half the decode time of the bundled
    generators). oneDNN's switch is process-wide; the engine's worker is the only thread that
    runs models, and a lock keeps two threads decoding at once (a script beside the app) from
    switching it back under each other."""
    import torch
    with _SINGLE_LATENT:
        mkldnn = torch._C._get_mkldnn_enabled()
        if mkldnn:
            torch._C._set_mkldnn_enabled(False)
        try:
            with one_thread(), torch.inference_mode():
                yield
        finally:
            if mkldnn:
                torch._C._set_mkldnn_enabled(True)


def decode(handle: ModelHandle, z: np.ndarray) -> np.ndarray:
    """One latent (d,) -> one uint8 image, in ``single_latent_mode`` on the CPU."""
    import torch
    x = torch.from_numpy(np.asarray(z, np.float32).reshape(1, -1))
    device = handle.device
    if device.type == "cpu":
        with single_latent_mode():
            return to_uint8(decoder(handle)(x))[0]
    with one_thread(), torch.inference_mode():
        return to_uint8(decoder(handle)(x.to(device)))[0]


def sample_latents(handle: ModelHandle, n: int, seed: int) -> np.ndarray:
    """n latents (n, d) from the model's prior: ``noise(n, d, seed)`` through the model's
    ``latent_from_noise`` where it has one, else the noise itself."""
    import torch

    from workbench.zoo.generative import noise
    eps = np.asarray(noise(n, latent_size(handle), seed), np.float32)
    to_prior = getattr(handle.module, "latent_from_noise", None)
    if to_prior is None:
        return eps
    with torch.inference_mode():
        return to_prior(torch.from_numpy(eps).to(handle.device)).float().cpu().numpy()


def on_device(handle: ModelHandle, device) -> ModelHandle:
    """The handle with its module on ``device`` (a no-op when it is there already)."""
    return handle if handle.device == device else handle.to(device)


def random_latent(handle: ModelHandle, seed: int) -> np.ndarray:
    return sample_latents(handle, 1, seed)[0]


def latent_prior(handle: ModelHandle, n: int = PRIOR_SAMPLES, seed: int = 0) -> LatentPrior:
    """The prior's per-dimension mean and spread: exactly N(0, 1) when noise is the latent,
    else measured on n sampled latents."""
    d = latent_size(handle)
    if not hasattr(handle.module, "latent_from_noise"):
        return LatentPrior(np.zeros(d), np.ones(d))
    z = sample_latents(handle, n, seed).astype(np.float64)
    return LatentPrior(z.mean(0), np.maximum(z.std(0), 1e-6))


def dimension_effects(handle: ModelHandle, prior: LatentPrior) -> np.ndarray:
    """How much the decoded image changes along each latent coordinate: the mean absolute pixel
    difference (in [0, 1]) between decoding the prior mean moved -1 and +1 standard deviation
    along it. A VAE leaves some coordinates unused; they score near zero."""
    d = len(prior.mean)
    steps = np.eye(d) * prior.std
    z = np.concatenate([prior.mean + steps, prior.mean - steps]).astype(np.float32)
    images = decode_batch(handle, z).astype(np.float32) / 255.0
    return np.abs(images[:d] - images[d:]).reshape(d, -1).mean(1)


def _first_layer_weight(handle: ModelHandle, z: np.ndarray) -> np.ndarray | None:
    """The weight (F, d) of the linear layer that eats the latent, if decoding starts with one."""
    import torch
    from torch import nn
    from workbench.core.hooks import require_forward_hooks
    require_forward_hooks(handle.module, "the latent explorer")
    seen: list[tuple[nn.Linear, torch.Tensor]] = []
    hooks = [m.register_forward_hook(lambda m, inputs, _out: seen.append((m, inputs[0])))
             for m in handle.module.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.inference_mode():
            x = torch.from_numpy(np.asarray(z[:2], np.float32)).to(handle.device)
            decoder(handle)(x)
    finally:
        for h in hooks:
            h.remove()
    if not seen or not torch.equal(seen[0][1], x):
        return None
    return seen[0][0].weight.detach().double().cpu().numpy()


def principal_directions(handle: ModelHandle, k: int = 8, n: int = DIRECTION_SAMPLES, seed: int = 0) -> Directions:
    """The k latent directions along which the generator's first layer varies most.

    GANSpace (Härkönen et al. 2020): PCA of the first linear layer's outputs over n sampled
    latents, each principal component carried back to latent space by regressing the latents
    on the PCA coordinates. That layer is linear in the latent, so its centred outputs are
    Z W^T with Z (n, d) = QR, and their principal axes are those of the small R W^T.
    A decoder that does not start with a linear layer gets the PCA of the sampled latents.
    """
    z = sample_latents(handle, n, seed).astype(np.float64)
    zc = z - z.mean(0)
    weight = _first_layer_weight(handle, z)
    if weight is None:
        vectors, _, _ = latent.principal_directions(z, k)
    else:
        _, r = np.linalg.qr(zc)
        _, _, axes = np.linalg.svd(r @ weight.T, full_matrices=False)
        coords = zc @ (weight.T @ axes[:k].T)
        vectors = np.linalg.lstsq(coords, zc, rcond=None)[0]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors *= np.sign(vectors[np.arange(len(vectors)), np.abs(vectors).argmax(1)])[:, None]
    return Directions(vectors, (zc @ vectors.T).std(0))


def manifold(handle: ModelHandle, prior: LatentPrior, base: np.ndarray, dim_x: int, dim_y: int, n: int,
             span: float = 2.0, spacing: str = "gaussian") -> ImageGrid:
    """An n x n grid sweeping latent coordinates dim_x and dim_y over +-span standard
    deviations of the prior, the other coordinates taken from ``base``."""
    s, values = latent.manifold_grid(len(prior.mean), dim_x, dim_y, n, span, spacing, prior.standardise(base))
    z = prior.unstandardise(s)
    rgb = as_rgb(decode_batch(handle, z))
    titles = [f"z{dim_x} {x:+.2f}σ, z{dim_y} {y:+.2f}σ" for y in values[::-1] for x in values]
    return ImageGrid(method="latent-manifold", model=handle.id, input=z, tiles=rgb, titles=titles,
                     params={"dim_x": dim_x, "dim_y": dim_y, "n": n, "span": span, "spacing": spacing},
                     title=f"latent dims {dim_x} (x) and {dim_y} (y)", extra={"latents": z, "values": values})


def interpolation_path(prior: LatentPrior, a: np.ndarray, b: np.ndarray, steps: int, mode: str) -> np.ndarray:
    """(steps, d) latents from a to b. Spherical paths run in standardised coordinates, where the
    prior is round, so that every point keeps a typical distance from the mean."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    path = (latent.slerp if mode == "spherical" else latent.lerp)(prior.standardise(a), prior.standardise(b), steps)
    return prior.unstandardise(path)


def interpolation_frames(handle: ModelHandle, prior: LatentPrior, a: np.ndarray, b: np.ndarray, steps: int,
                         mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(latents (steps, d), uint8 frames (steps, ...)) along the path from a to b."""
    z = interpolation_path(prior, a, b, steps, mode)
    return z, decode_batch(handle, z)


# -- results (numpy only) ------------------------------------------------------------------

def as_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, h, w) or (N, h, w, 3) as (N, h, w, 3)."""
    images = np.asarray(images)
    return np.repeat(images[..., None], 3, axis=3) if images.ndim == 3 else images


def latent_text(z: np.ndarray, shown: int = 8) -> str:
    z = np.asarray(z)
    return "z = [" + ", ".join(f"{v:+.2f}" for v in z[:shown]) + (", …" if len(z) > shown else "") + "]"


def decoded_grid(model: str, z: np.ndarray, image: np.ndarray) -> ImageGrid:
    """One decoded latent as a one-tile grid titled with its values; the latent is in params."""
    z = np.asarray(z, np.float32)
    return ImageGrid(method="latent-decode", model=model, input=z[None], tiles=as_rgb(np.asarray(image)[None]),
                     titles=[latent_text(z)], params={"latent": z.tolist()}, title=f"{model}: decoded latent",
                     extra={"latents": z[None]})


def interpolation_grid(model: str, latents: np.ndarray, frames: np.ndarray, mode: str) -> ImageGrid:
    """Interpolation frames as a grid (one tile per frame, titled by t), with their latents."""
    n = len(frames)
    return ImageGrid(method="latent-interpolation", model=model, input=latents, tiles=as_rgb(frames),
                     titles=[f"t={i / max(1, n - 1):.2f}" for i in range(n)], params={"mode": mode, "steps": n},
                     title=f"{mode} interpolation, {n} steps", extra={"latents": latents})
