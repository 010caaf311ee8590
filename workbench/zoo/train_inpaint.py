"""Reproducible training of the bundled context encoder: ``workbench train digits-inpaint``.

The net learns to fill random holes (``zoo.inpaint.random_masks``) in the digits train split,
moved by up to 2 pixels, with a reconstruction loss on the hole plus a small adversarial loss
from a DCGAN discriminator that sees the filled image (Pathak et al. 2016). The val split picks
the checkpoint (mean squared error in a centred 12x12 hole); the card's metrics come from the
test split (``zoo.inpaint_eval``).
"""
from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from workbench.zoo import inpaint_eval
from workbench.zoo.generative import Discriminator
from workbench.zoo.inpaint import ContextEncoder, blend, random_masks
from workbench.zoo.reproducible import log_to_stderr, reproducible
from workbench.zoo.train_generative import data_card, images
from workbench.zoo.train_steps import adversarial_loss, cosine_schedule, critic_step

NAME = "digits-inpaint"
SETTINGS = {"lr": 1e-3, "d_lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 64, "adversarial_weight": 0.003,
            "shift": 2}


def shifted(x: torch.Tensor, rng: np.random.Generator, most: int) -> torch.Tensor:
    """Each image moved by up to ``most`` pixels each way, zeros coming in."""
    if most <= 0:
        return x
    padded = F.pad(x, (most,) * 4)
    side = x.shape[-1]
    out = torch.empty_like(x)
    for i, (dy, dx) in enumerate(rng.integers(0, 2 * most + 1, size=(len(x), 2))):
        out[i] = padded[i, :, dy:dy + side, dx:dx + side]
    return out


def hole_mse(pred: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return ((pred - x) ** 2 * mask).sum() / mask.sum().clamp_min(1.0)


def fit(net: ContextEncoder, disc: Discriminator, x: torch.Tensor, val: torch.Tensor, *, epochs: int,
        seed: int, log=log_to_stderr, check_every: int = 10) -> tuple[ContextEncoder, int, list[dict]]:
    s = SETTINGS
    rng = np.random.default_rng(seed)
    opt_g = torch.optim.Adam(net.parameters(), lr=s["lr"], betas=s["betas"])
    opt_d = torch.optim.Adam(disc.parameters(), lr=s["d_lr"], betas=s["betas"])
    per_epoch = math.ceil(len(x) / s["batch_size"])
    sched = cosine_schedule(opt_g, epochs * per_epoch)
    best, best_mse, best_epoch, history = copy.deepcopy(net), math.inf, 0, []
    for epoch in range(epochs):
        net.train()
        disc.train()
        for idx in np.array_split(rng.permutation(len(x)), per_epoch):
            real = shifted(x[idx], rng, s["shift"])
            mask = torch.from_numpy(random_masks(len(idx), rng))
            pred = net.predict(real, mask)
            filled = blend(real, pred, mask)
            loss_d = critic_step(disc, opt_d, real, filled)
            loss_adv = adversarial_loss(disc, filled)
            loss_rec = hole_mse(pred, real, mask)
            loss = loss_rec + s["adversarial_weight"] * loss_adv
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
            sched.step()
        if (epoch + 1) % check_every == 0 or epoch + 1 == epochs:
            val_mse = inpaint_eval.centre_hole_mse(net, val)
            history.append({"epoch": epoch + 1, "val_centre_hole_mse": round(val_mse, 5)})
            log(f"{NAME} epoch {epoch + 1}/{epochs} rec {loss_rec.item():.4f} adv {loss_adv.item():.3f} "
                f"d {loss_d.item():.3f} val centre-hole mse {val_mse:.5f}")
            if val_mse < best_mse:
                best, best_mse, best_epoch = copy.deepcopy(net), val_mse, epoch + 1
    return best.eval(), best_epoch, history


def save(net: ContextEncoder, out_dir: Path, card: dict) -> dict:
    from safetensors.torch import save_file
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    save_file(state, str(out_dir / f"{NAME}.safetensors"),
              metadata={"architecture": f"zoo:{NAME}", "class": type(net).__name__, "task": "inpaint"})
    (out_dir / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def make_card(net: ContextEncoder, *, seed: int, seconds: float, cpu_seconds: float, epochs: int,
              metrics: dict) -> dict:
    s = SETTINGS
    return {
        "name": NAME, "task": "inpaint",
        "architecture": {"class": type(net).__name__, "description": net.description},
        "data": {**data_card(), "holes": "zoo.inpaint.random_masks: 40% centred squares 10-14 px "
                                         "(moved up to 3 px), 30% rectangles 6-18 px, 30% brush strokes",
                 "augmentation": f"shifts of up to {s['shift']} pixels"},
        "seed": seed, "train_command": f"workbench train {NAME}",
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1), "threads": 1,
        "epochs": epochs,
        "optimizer": {"name": "Adam", "lr": s["lr"], "discriminator_lr": s["d_lr"], "betas": list(s["betas"]),
                      "batch_size": s["batch_size"], "schedule": "cosine to 0 (encoder)",
                      "loss": f"mean squared error in the hole + {s['adversarial_weight']} x non-saturating "
                              "adversarial loss on the filled image",
                      "discriminator": "DCGAN discriminator (batch norm, convs 32-64-128)"},
        "metrics": metrics, "labels": [], "input_size": [32, 32], "mean": [0.0], "std": [1.0],
        "grayscale": True, "params": sum(p.numel() for p in net.parameters()),
        "torch_version": torch.__version__.split("+")[0],
    }


def train_digits_inpaint(out_dir: Path, *, epochs: int = 200, seed: int = 0, log=log_to_stderr) -> dict:
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(seed, threads=1):
        net, disc = ContextEncoder(), Discriminator()
        best, best_epoch, history = fit(net, disc, images("train"), images("val"), epochs=epochs,
                                        seed=seed, log=log)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        metrics = {**inpaint_eval.evaluate(best), "chosen_epoch": best_epoch, "val_history": history}
    card = make_card(best, seed=seed, seconds=seconds, cpu_seconds=cpu_seconds, epochs=epochs, metrics=metrics)
    log(f"{NAME}: {json.dumps({k: v for k, v in metrics.items() if k != 'val_history'})} in {seconds:.0f}s")
    return save(best, out_dir, card)


def rescore(out_dir: Path) -> dict:
    """Measure the bundled context encoder's card metrics again (e.g. after digits-cnn changed)."""
    from safetensors.torch import load_file
    folder = Path(out_dir)
    net = ContextEncoder()
    net.load_state_dict(load_file(str(folder / f"{NAME}.safetensors")), strict=True)
    card = json.loads((folder / f"{NAME}.json").read_text(encoding="utf-8"))
    with reproducible(0, threads=1):
        card["metrics"].update(inpaint_eval.evaluate(net.eval()))
    (folder / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card
