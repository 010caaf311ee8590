"""How well a hole is filled, measured on held-out digits: the bundled digits-cnn's accuracy on
digits whose centred 12x12 hole was filled, the mean squared error in the hole, and the same for
the baselines (the hole left empty, filled with the train split's mean digit, OpenCV's Telea
inpainting)."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import cv2
import numpy as np
import torch

from workbench.zoo.digits import load_split
from workbench.zoo.inpaint import ContextEncoder, blend, centre_hole, random_masks
from workbench.zoo.sample_quality import as_batch

RANDOM_HOLES_SEED = 1
Filler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]   # (images, masks) -> filled images


def centre_masks(n: int) -> torch.Tensor:
    return torch.from_numpy(centre_hole()).float().expand(n, 1, -1, -1).contiguous()


@lru_cache(maxsize=1)
def _classifier():
    from workbench.zoo import catalogue
    entry = catalogue.get("digits-cnn")
    return entry.load(), float(entry.mean[0]), float(entry.std[0])


@torch.no_grad()
def predicted_classes(images: torch.Tensor) -> np.ndarray:
    """digits-cnn's class for each (N, 1, 32, 32) image in [0, 1]."""
    model, mean, std = _classifier()
    return model((images - mean) / std).argmax(1).numpy()


def accuracy(images: torch.Tensor, labels: np.ndarray) -> float:
    return float((predicted_classes(images) == np.asarray(labels)).mean())


def hole_mse(filled: torch.Tensor, images: torch.Tensor, masks: torch.Tensor) -> float:
    """Mean squared error over the hole pixels, values in [0, 1]."""
    return float(((filled - images) ** 2 * masks).sum() / masks.sum().clamp_min(1.0))


@torch.no_grad()
def centre_hole_mse(net: ContextEncoder, images: torch.Tensor) -> float:
    net.eval()
    masks = centre_masks(len(images))
    return hole_mse(net.fill(images, masks), images, masks)


@lru_cache(maxsize=1)
def mean_digit() -> torch.Tensor:
    """The train split's mean image (1, 1, 32, 32)."""
    return as_batch(load_split("train")[0]).mean(0, keepdim=True)


def empty_fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return images * (1 - masks)


def mean_fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return blend(images, mean_digit().expand_as(images), masks)


def telea_fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """OpenCV's fast-marching inpainting (Telea 2004), radius 3, one image at a time."""
    out = []
    for im, m in zip(images[:, 0].numpy(), masks[:, 0].numpy()):
        u8 = np.clip(np.round(im * 255), 0, 255).astype(np.uint8)
        out.append(cv2.inpaint(u8, (m > 0.5).astype(np.uint8), 3, cv2.INPAINT_TELEA))
    return blend(images, as_batch(np.stack(out)), masks)


def score(fill: Filler, images: torch.Tensor, labels: np.ndarray) -> dict:
    """Accuracy and hole error of one way of filling the centred 12x12 hole."""
    masks = centre_masks(len(images))
    with torch.no_grad():
        filled = fill(images, masks)
    return {"accuracy": round(accuracy(filled, labels), 5), "hole_mse": round(hole_mse(filled, images, masks), 5)}


def baselines(split: str = "test") -> dict:
    images, labels = load_split(split)
    x = as_batch(images)
    return {"intact": {"accuracy": round(accuracy(x, labels), 5)},
            "empty": score(empty_fill, x, labels), "train_mean": score(mean_fill, x, labels),
            "telea": score(telea_fill, x, labels)}


LATENT_SETTINGS = {"steps": 300, "restarts": 8, "prior_weight": 0.03, "weighted": True, "norm": "l1", "lr": 0.05,
                   "seed": 0}


def latent_filler(generator: torch.nn.Module, latent_dim: int, batch: int = 90, **settings) -> Filler:
    """Yeh et al.'s latent optimisation (``zoo.latent_inpaint``) as a filler, ``batch`` images at a time,
    pasting G(z) into the hole; the settings default to the inpaint method's (LATENT_SETTINGS)."""
    from workbench.zoo.latent_inpaint import last, optimise
    chosen = {**LATENT_SETTINGS, **settings}

    @torch.enable_grad()
    def fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        parts = []
        for x, m in zip(images.split(batch), masks.split(batch)):
            snap = last(optimise(generator, x, m, latent_dim=latent_dim, every=10 ** 9, **chosen))
            parts.append(blend(x, torch.from_numpy(snap.generated), m))
        return torch.cat(parts)
    return fill


def evaluate_latent(split: str = "test", generator: str = "digits-dcgan", n: int | None = None) -> dict:
    """Accuracy and hole error of the latent optimisation on ``generator`` (the first ``n`` images)."""
    import time

    from workbench.zoo import catalogue
    images, labels = load_split(split)
    x, labels = as_batch(images)[:n], labels[:n]
    model = catalogue.load(generator)
    start = time.process_time()
    scored = score(latent_filler(model, catalogue.get(generator).extra["latent_dim"]), x, labels)
    return {**scored, "model": f"zoo:{generator}", "n": int(len(x)), **LATENT_SETTINGS,
            "cpu_seconds": round(time.process_time() - start, 1)}


@torch.no_grad()
def evaluate(net: ContextEncoder, split: str = "test", latent: bool = True) -> dict:
    """The card's metrics for the context encoder, with the baselines and (``latent``) the latent
    optimisation on the bundled DCGAN beside it."""
    net.eval()
    images, labels = load_split(split)
    x = as_batch(images)
    masks = torch.from_numpy(random_masks(len(x), np.random.default_rng(RANDOM_HOLES_SEED)))
    mine = score(net.fill, x, labels)
    out = {"split": split, "n": int(len(x)), "hole": "centred 12x12 (rows and columns 10-21)",
           "centre_hole_accuracy": mine["accuracy"], "centre_hole_mse": mine["hole_mse"],
           "context_encoder": mine,
           "random_holes_mse": {"context_encoder": round(hole_mse(net.fill(x, masks), x, masks), 5),
                                "telea": round(hole_mse(telea_fill(x, masks), x, masks), 5),
                                "seed": RANDOM_HOLES_SEED},
           "baselines": baselines(split)}
    if latent:
        out["latent_optimisation"] = evaluate_latent(split)
    return out
