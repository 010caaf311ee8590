"""The Latent tab's work, as engine jobs: each is ``fn(jc, ...)`` and returns numpy results.

The tab submits them by reference (``engine.submit(KEY, jobs.decode, handle, z, quiet=True)``);
``jc`` is the engine's job context, of which they use the device. A script calls them with
``jc=None`` and the model runs where it is:

    from workbench.core.latent import jobs
    shown = jobs.decode(None, handle, z)          # Decoded(z, image)

torch is imported by the session functions when they run, not by this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from workbench.core.latent import encoding as enc
from workbench.core.latent import session as ls

if TYPE_CHECKING:
    from workbench.core.handle import ModelHandle
    from workbench.core.results import ImageGrid


class Decoded(NamedTuple):
    z: np.ndarray          # the latent (d,)
    image: np.ndarray      # its decoded uint8 image


@dataclass(frozen=True)
class Setup:
    """What the tab needs to open a model: its prior, how much each coordinate changes the image,
    and two seeded latents decoded (the start, and the second interpolation endpoint)."""
    prior: ls.LatentPrior
    effects: np.ndarray
    a: Decoded
    b: Decoded


@dataclass(frozen=True)
class Encoded:
    """An image encoded by the model, and its latent under each plotted model (for the markers)."""
    encoding: enc.Encoding
    markers: dict[str, np.ndarray]


@dataclass(frozen=True)
class ScatterPlot:
    """One side-by-side plot: the held-out digits encoded by ``model``, or why it is empty."""
    model: Any                      # the handle the encodings came from (None: not available)
    encoded: enc.EncodedSet | None
    reason: str = ""


def _on_device(jc: Any, handle: ModelHandle) -> ModelHandle:
    return handle if jc is None else ls.on_device(handle, jc.device)


def _check(jc: Any) -> None:
    """Stop here if the job was cancelled or superseded (a new model loaded meanwhile)."""
    if jc is not None:
        jc.check()


def setup(jc: Any, handle: ModelHandle, seed: int) -> Setup:
    h = _on_device(jc, handle)
    prior = ls.latent_prior(h)
    _check(jc)
    a, b = ls.random_latent(h, seed), ls.random_latent(h, seed + 1)
    return Setup(prior, ls.dimension_effects(h, prior), Decoded(a, ls.decode(h, a)), Decoded(b, ls.decode(h, b)))


def decode(jc: Any, handle: ModelHandle, z: np.ndarray) -> Decoded:
    """One latent decoded; the slider job (submit it quiet: it runs at every move)."""
    z = np.array(z, np.float32)
    return Decoded(z, ls.decode(_on_device(jc, handle), z))


def decode_seed(jc: Any, handle: ModelHandle, seed: int) -> Decoded:
    """The seeded random latent, decoded."""
    h = _on_device(jc, handle)
    z = ls.random_latent(h, seed)
    return Decoded(z, ls.decode(h, z))


def directions(jc: Any, handle: ModelHandle, k: int) -> ls.Directions:
    return ls.principal_directions(_on_device(jc, handle), k)


def manifold(jc: Any, handle: ModelHandle, prior: ls.LatentPrior, base: np.ndarray, dim_x: int, dim_y: int,
             n: int, span: float) -> ImageGrid:
    return ls.manifold(_on_device(jc, handle), prior, base, dim_x, dim_y, n, span)


def path(jc: Any, handle: ModelHandle, prior: ls.LatentPrior, a: np.ndarray, b: np.ndarray, steps: int,
         mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(latents (steps, d), uint8 frames (steps, ...)) from a to b."""
    return ls.interpolation_frames(_on_device(jc, handle), prior, a, b, steps, mode)


def encode(jc: Any, handle: ModelHandle, image: np.ndarray, plots: dict[str, ModelHandle]) -> Encoded:
    """``image`` encoded by ``handle``, and its latent under each plot's model."""
    encoding = enc.encode(_on_device(jc, handle), image)
    markers = {plot: enc.encode(_on_device(jc, h), image).z for plot, h in plots.items()}
    return Encoded(encoding, markers)


def scatter(jc: Any, handle: ModelHandle, loaded: dict[str, ModelHandle],
            load: Callable[[str], ModelHandle] | None = None) -> dict[str, ScatterPlot]:
    """The held-out digits encoded by each bundled autoencoder (see ``encoding.AUTOENCODERS``):
    by ``handle`` in its own plot, by a model in ``loaded`` or one ``load`` loads (default: the
    model sources) in the others. A model that cannot be had leaves its plot empty, with the reason."""
    if load is None:
        from workbench.core.sources import load_model as load
    own = enc.plot_for(handle)
    out = {}
    for plot, model_id in enc.AUTOENCODERS.items():
        _check(jc)
        try:
            h = handle if plot == own else loaded.get(plot) or load(model_id)
            out[plot] = ScatterPlot(h, enc.encode_dataset(_on_device(jc, h)))
        except Exception as e:  # noqa: BLE001 (any failure to load or encode empties that plot alone)
            out[plot] = ScatterPlot(None, None, f"{model_id} not available ({e})")
    return out
