"""Reproducible training of the bundled generative models: ``workbench train digits-vae``.

All four learn the digits train split (1,258 images, 32x32, values in [0, 1]); the val split
picks the checkpoint, the test split measures the card's metrics. Each run writes
``NAME.safetensors`` and a ``NAME.json`` card with the measured time and held-out metrics.
"""
from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from workbench.zoo import sample_quality
from workbench.zoo.digits import FRACTIONS, SPLIT_SEED, load_split
from workbench.zoo.generative import SPECS, ConvAE, ConvVAE, Discriminator, Generator, LatentModel
from workbench.zoo.reproducible import log_to_stderr, reproducible
from workbench.zoo.train_steps import adversarial_loss, cosine_schedule, critic_step

QUALITY_SAMPLES = 500
QUALITY_SEED = 0
Log = Callable[[str], None]


def images(split: str) -> torch.Tensor:
    return sample_quality.as_batch(load_split(split)[0])


def ae_loss(model: ConvAE, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error per pixel."""
    return F.mse_loss(model(x), x)


def vae_terms(model: ConvVAE, x: torch.Tensor,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image (binary cross-entropy summed over pixels, KL(q(z|x) || N(0, I))), one z sample."""
    mu, logvar = model.encode_dist(x)
    eps = torch.randn(mu.shape, generator=generator)
    recon = model.decode(mu + eps * torch.exp(0.5 * logvar))
    bce = F.binary_cross_entropy(recon, x, reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
    return bce, kl


def vae_loss(model: ConvVAE, x: torch.Tensor) -> torch.Tensor:
    bce, kl = vae_terms(model, x)
    return (bce + kl).mean()


def fit_autoencoder(model: ConvAE, loss_fn: Callable[[ConvAE, torch.Tensor], torch.Tensor],
                    x: torch.Tensor, val: torch.Tensor, *, epochs: int, batch_size: int, lr: float,
                    seed: int, name: str, log: Log) -> None:
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = cosine_schedule(opt, epochs * math.ceil(len(x) / batch_size))
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in np.array_split(rng.permutation(len(x)), math.ceil(len(x) / batch_size)):
            loss = loss_fn(model, x[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            log(f"{name} epoch {epoch + 1}/{epochs} loss {total / len(x):.4f} "
                f"val mse {reconstruction_mse(model, val):.5f}")


@torch.no_grad()
def reconstruction_mse(model: ConvAE, x: torch.Tensor) -> float:
    model.eval()
    return float(F.mse_loss(model(x), x))


@torch.no_grad()
def vae_bound(model: ConvVAE, x: torch.Tensor, samples: int = 10, seed: int = 0) -> dict:
    """Per-image BCE, KL and their sum (the negative ELBO, nats), averaged over z samples."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    bce, kl = zip(*(vae_terms(model, x, g) for _ in range(samples)))
    bce, kl = torch.stack(bce).mean().item(), torch.stack(kl).mean().item()
    return {"bce_per_image": bce, "kl_per_image": kl, "negative_elbo_per_image": bce + kl}


@torch.no_grad()
def fit_prior(model: ConvAE, x: torch.Tensor) -> None:
    """Give a plain autoencoder a sampling prior: the Gaussian of its training latents, with
    noise coordinate i along the i-th principal direction."""
    from workbench.zoo.latent import principal_directions
    model.eval()
    directions, stds, mean = principal_directions(model.encode(x).double().numpy())
    model.set_prior(torch.from_numpy(mean).float(), torch.from_numpy(directions.T * stds).float())


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: int = 40, batch_size: int = 256, seed: int = 0) -> None:
    """Replace a generator's running batch-norm statistics by exact averages over fresh
    noise batches, so that eval mode draws what training mode drew."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(batches):
        model(torch.randn(batch_size, model.latent_dim, generator=g))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def quality(model: LatentModel, split: str = "test") -> dict:
    model.eval()
    return sample_quality.scores(model.sample(QUALITY_SAMPLES, QUALITY_SEED), split=split)


def real_digits_quality() -> dict:
    """The floor: the same scores for real train digits (as many as the samples) vs test."""
    x = images("train")
    pick = np.random.default_rng(QUALITY_SEED).permutation(len(x))[:QUALITY_SAMPLES]
    return sample_quality.scores(x[pick])


def fit_gan(gen: Generator, disc: Discriminator, x: torch.Tensor, *, epochs: int, batch_size: int,
            lr: float, betas: tuple[float, float], hinge: bool, ema_decay: float, seed: int,
            name: str, log: Log, check_every: int = 25) -> tuple[Generator, int, list[dict]]:
    """Alternate one critic and one generator step per batch. Non-saturating logistic loss
    (DCGAN) or hinge loss (SNGAN). The generator that is kept is an exponential moving
    average of its weights; every ``check_every`` epochs its FID on the val split is
    measured and the best one is returned with its epoch."""
    rng = np.random.default_rng(seed)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    ema = copy.deepcopy(gen)
    best, best_fid, best_epoch, history = ema, math.inf, 0, []
    for epoch in range(epochs):
        gen.train()
        disc.train()
        for idx in np.array_split(rng.permutation(len(x)), math.ceil(len(x) / batch_size)):
            real = x[idx]
            fake = gen(torch.randn(len(idx), gen.latent_dim))
            loss_d = critic_step(disc, opt_d, real, fake, hinge=hinge)
            loss_g = adversarial_loss(disc, fake, hinge=hinge)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), gen.parameters()):
                    pe.lerp_(p, 1.0 - ema_decay)
        if (epoch + 1) % check_every == 0 or epoch + 1 == epochs:
            recalibrate_batchnorm(ema, seed=seed)
            q = quality(ema, split="val")
            history.append({"epoch": epoch + 1, "val_fid": round(q["fid"], 3)})
            log(f"{name} epoch {epoch + 1}/{epochs} loss d {loss_d.item():.3f} g {loss_g.item():.3f} "
                f"val fid {q['fid']:.3f} is {q['is_mean']:.2f}")
            if q["fid"] < best_fid:
                best, best_fid, best_epoch = copy.deepcopy(ema), q["fid"], epoch + 1
    return best, best_epoch, history


def data_card() -> dict:
    counts = {s: int(len(load_split(s)[1])) for s in ("train", "val", "test")}
    return {"source": "sklearn.datasets.load_digits (8x8, 0-16), bilinear to 32x32, scaled to [0, 1]",
            "split": {"seed": SPLIT_SEED, "fractions": list(FRACTIONS), "stratified": True, "counts": counts},
            "trained_on": "train", "checkpoint_chosen_on": "val", "metrics_on": "test"}


def make_card(name: str, model: LatentModel, *, seed: int, seconds: float, cpu_seconds: float,
              epochs: int, optimizer: dict, metrics: dict) -> dict:
    spec = SPECS[name]
    return {
        "name": name, "task": spec.task,
        "architecture": {"class": type(model).__name__, "description": getattr(model, "description", "")},
        "data": data_card(), "seed": seed, "train_command": f"workbench train {name}",
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "epochs": epochs, "optimizer": optimizer,
        "metrics": metrics, "labels": [], "input_size": [32, 32], "mean": [0.0], "std": [1.0],
        "grayscale": True, "latent_dim": spec.latent_dim,
        "params": sum(p.numel() for p in model.parameters()),
        "sampling": {"noise": "numpy.random.default_rng(seed).standard_normal((n, latent_dim))",
                     "to_latent": "model.latent_from_noise(noise)", "n": QUALITY_SAMPLES, "seed": QUALITY_SEED,
                     "scored_by": "workbench.zoo.sample_quality (digits-cnn pooled features and softmax)"},
        "torch_version": torch.__version__.split("+")[0],
    }


def save(name: str, model: LatentModel, out_dir: Path, card: dict) -> dict:
    from safetensors.torch import save_file
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(out_dir / f"{name}.safetensors"),
              metadata={"architecture": f"zoo:{name}", "class": type(model).__name__,
                        "task": SPECS[name].task, "latent_dim": str(SPECS[name].latent_dim)})
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def _rounded(d: dict, digits: int = 5) -> dict:
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in d.items()}


def evaluate(name: str, model: LatentModel) -> dict:
    """The card's held-out metrics: reconstruction (autoencoders), the VAE's bound, sample quality."""
    metrics: dict = {}
    if isinstance(model, ConvAE):
        metrics["test_reconstruction_mse"] = reconstruction_mse(model, images("test"))
        metrics["val_reconstruction_mse"] = reconstruction_mse(model, images("val"))
    if isinstance(model, ConvVAE):
        metrics.update({f"test_{k}": v for k, v in vae_bound(model, images("test")).items()})
    metrics.update(quality(model))
    metrics["real_train_digits"] = _rounded(real_digits_quality())
    return _rounded(metrics)


def rescore(name: str, models_dir: Path | str) -> dict:
    """Measure a bundled model's card metrics again (e.g. after digits-cnn was retrained)."""
    from safetensors.torch import load_file

    folder = Path(models_dir)
    model = SPECS[name].build()
    model.load_state_dict(load_file(str(folder / f"{name}.safetensors")), strict=True)
    card = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    card["metrics"].update(evaluate(name, model.eval()))
    (folder / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def _train_autoencoder(name: str, out_dir: Path, *, epochs: int, seed: int, log: Log) -> dict:
    variational = name == "digits-vae"
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(seed, threads=1):
        model = SPECS[name].build()
        x, lr, batch_size = images("train"), 2e-3, 64
        fit_autoencoder(model, vae_loss if variational else ae_loss, x, images("val"), epochs=epochs,
                        batch_size=batch_size, lr=lr, seed=seed, name=name, log=log)
        if not variational:
            fit_prior(model, x)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        metrics = evaluate(name, model)
    loss = ("binary cross-entropy summed per image + KL (negative ELBO)" if variational
            else "mean squared error")
    optimizer = {"name": "Adam", "lr": lr, "batch_size": batch_size, "schedule": "cosine to 0", "loss": loss}
    card = make_card(name, model.eval(), seed=seed, seconds=seconds, cpu_seconds=cpu_seconds,
                     epochs=epochs, optimizer=optimizer, metrics=metrics)
    log(f"{name}: {json.dumps(card['metrics'])} in {seconds:.0f}s")
    return save(name, model, out_dir, card)


def _train_gan(name: str, out_dir: Path, *, epochs: int, seed: int, log: Log) -> dict:
    spectral = name == "digits-sngan"
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(seed, threads=1):
        gen, disc = SPECS[name].build(), Discriminator(spectral=spectral)
        settings = {"lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 32, "ema_decay": 0.999}
        best, best_epoch, history = fit_gan(gen, disc, images("train"), epochs=epochs, hinge=spectral,
                                            seed=seed, name=name, log=log, **settings)
        recalibrate_batchnorm(best, seed=seed)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        metrics = {**evaluate(name, best), "chosen_epoch": best_epoch, "val_fid_history": history}
    optimizer = {"name": "Adam", **settings, "loss": "hinge" if spectral else "non-saturating logistic",
                 "discriminator": f"{'spectral norm, ' if spectral else 'batch norm, '}convs 32-64-128",
                 "kept": "EMA of the generator weights, batch norm statistics recomputed"}
    card = make_card(name, best, seed=seed, seconds=seconds, cpu_seconds=cpu_seconds,
                     epochs=epochs, optimizer=optimizer, metrics=metrics)
    log(f"{name}: fid {metrics['fid']:.3f} is {metrics['is_mean']:.3f} in {seconds:.0f}s")
    return save(name, best, out_dir, card)


def train_digits_ae(out_dir: Path, *, epochs: int = 60, seed: int = 0,
                    log: Log = log_to_stderr) -> dict:
    return _train_autoencoder("digits-ae", out_dir, epochs=epochs, seed=seed, log=log)


def train_digits_vae(out_dir: Path, *, epochs: int = 60, seed: int = 0,
                     log: Log = log_to_stderr) -> dict:
    return _train_autoencoder("digits-vae", out_dir, epochs=epochs, seed=seed, log=log)


def train_digits_dcgan(out_dir: Path, *, epochs: int = 200, seed: int = 0,
                       log: Log = log_to_stderr) -> dict:
    return _train_gan("digits-dcgan", out_dir, epochs=epochs, seed=seed, log=log)


def train_digits_sngan(out_dir: Path, *, epochs: int = 200, seed: int = 0,
                       log: Log = log_to_stderr) -> dict:
    return _train_gan("digits-sngan", out_dir, epochs=epochs, seed=seed, log=log)

