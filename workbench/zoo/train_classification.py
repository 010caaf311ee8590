"""Reproducible training of the bundled classifiers: ``workbench train shapes-cnn``.

Everything is seeded (torch, a numpy Generator, deterministic algorithms, a fixed thread count),
data comes from the generators in this package, and each run writes ``NAME.safetensors``
plus a ``NAME.json`` model card with the measured time and held-out metrics.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from torch import nn

from workbench.zoo import catalogue
from workbench.zoo.catalogue import ZooEntry
from workbench.zoo.digits import FRACTIONS, SPLIT_SEED, load_split
from workbench.zoo.reproducible import TRAIN_THREADS, log_to_stderr, reproducible
from workbench.zoo.shapes import render_shape

SHAPES_SEEDS = {"train": (0, 16000), "val": (1_000_000, 2000), "test": (2_000_000, 2000)}
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def shapes_split(split: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 64, 64, 3) uint8 images and labels of a shapes split, from its seed range."""
    start, n = SHAPES_SEEDS[split]
    pairs = [render_shape(s) for s in range(start, start + (n if count is None else count))]
    return np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs], dtype=np.int64)


def flip_rotate(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flips and quarter turns: every shape class is symmetric under both."""
    out = np.empty_like(batch)
    turns, flips = rng.integers(4, size=len(batch)), rng.integers(2, size=len(batch))
    for i, (k, flip) in enumerate(zip(turns, flips)):
        im = np.rot90(batch[i], k)
        out[i] = im[:, ::-1] if flip else im
    return out


def jitter_affine(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small random rotations (+-10 deg), scales (0.9-1.1) and shifts (+-2 px)."""
    out = np.empty_like(batch)
    h, w = batch.shape[1:3]
    for i, im in enumerate(batch):
        centre = (w / 2 - 0.5, h / 2 - 0.5)
        m = cv2.getRotationMatrix2D(centre, rng.uniform(-10, 10), rng.uniform(0.9, 1.1))
        m[:, 2] += rng.uniform(-2, 2, 2)
        out[i] = cv2.warpAffine(im, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return out


@torch.no_grad()
def accuracy(model: nn.Module, entry: ZooEntry, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 500) -> float:
    model.eval()
    hits = 0
    for i in range(0, len(images), batch_size):
        logits = model(entry.to_input(images[i:i + batch_size]))
        hits += int((logits.argmax(1).numpy() == labels[i:i + batch_size]).sum())
    return hits / len(images)


def fit(model: nn.Module, entry: ZooEntry, train: tuple[np.ndarray, np.ndarray],
        val: tuple[np.ndarray, np.ndarray], *, epochs: int, batch_size: int, lr: float,
        weight_decay: float, seed: int, augment: Augment | None = None,
        label_smoothing: float = 0.0, log: Callable[[str], None] = log_to_stderr) -> list[dict]:
    """AdamW with a short linear warm-up then cosine decay, stepped per batch."""
    x, y = train
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total, warm = epochs * steps_per_epoch, max(1, steps_per_epoch // 2)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    history = []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        t0, running = time.perf_counter(), 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            xb = x[idx] if augment is None else augment(x[idx], rng)
            loss = loss_fn(model(entry.to_input(xb)), torch.from_numpy(y[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.detach().item() * len(idx)
        val_acc = accuracy(model, entry, *val)
        history.append({"epoch": epoch + 1, "loss": running / len(x), "val_accuracy": val_acc})
        log(f"{entry.name} epoch {epoch + 1}/{epochs} loss {running / len(x):.4f} "
            f"val {val_acc:.4f} ({time.perf_counter() - t0:.1f}s)")
    return history


def save(entry: ZooEntry, model: nn.Module, out_dir: Path, card: dict) -> dict:
    from safetensors.torch import save_file
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(entry.weights_path(out_dir)),
              metadata={"architecture": type(model).__name__, "zoo": entry.name})
    entry.card_path(out_dir).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


@dataclass(frozen=True)
class Recipe:
    """The knobs of one training run; all of them go into the model card."""
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int = 0
    threads: int = TRAIN_THREADS
    augment: Augment | None = None
    label_smoothing: float = 0.0

    def describe(self) -> dict:
        return {"name": "AdamW", "lr": self.lr, "weight_decay": self.weight_decay,
                "batch_size": self.batch_size, "label_smoothing": self.label_smoothing,
                "schedule": "linear warm-up (half an epoch) then cosine to 0",
                "augment": getattr(self.augment, "__name__", None)}


def make_card(entry: ZooEntry, model: nn.Module, recipe: Recipe, *, data: dict, seconds: float,
              cpu_seconds: float, val_acc: float, test_acc: float) -> dict:
    return {
        "name": entry.name, "task": entry.task,
        "architecture": {"class": type(model).__name__,
                         "description": getattr(model, "description", "")},
        "data": data, "seed": recipe.seed, "train_command": f"workbench train {entry.name}",
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "train_threads": recipe.threads, "epochs": recipe.epochs, "optimizer": recipe.describe(),
        "metrics": {"test_accuracy": round(test_acc, 4), "val_accuracy": round(val_acc, 4)},
        "labels": list(entry.labels), "input_size": list(entry.input_size),
        "mean": list(entry.mean), "std": list(entry.std), "grayscale": entry.grayscale,
        "params": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__.split("+")[0],
    }


def run_recipe(entry: ZooEntry, out_dir: Path, recipe: Recipe, *, data: dict,
               load: Callable[[], tuple], log: Callable[[str], None] = log_to_stderr) -> dict:
    """Load (train, val, test), fit, measure, and write weights and card into ``out_dir``."""
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(recipe.seed, recipe.threads):
        train_set, val_set, test_set = load()
        model = entry.build()
        history = fit(model, entry, train_set, val_set, epochs=recipe.epochs,
                      batch_size=recipe.batch_size, lr=recipe.lr,
                      weight_decay=recipe.weight_decay, seed=recipe.seed, augment=recipe.augment,
                      label_smoothing=recipe.label_smoothing, log=log)
        test_acc = accuracy(model, entry, *test_set)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    card = make_card(entry, model, recipe, data=data, seconds=seconds, cpu_seconds=cpu_seconds,
                     val_acc=history[-1]["val_accuracy"], test_acc=test_acc)
    log(f"{entry.name}: test accuracy {test_acc:.4f} in {seconds:.0f}s")
    return save(entry, model.eval(), out_dir, card)


def train_shapes_cnn(out_dir: Path, *, epochs: int = 6, n_train: int | None = None,
                     n_eval: int | None = None, log: Callable[[str], None] = log_to_stderr) -> dict:
    entry = catalogue.get("shapes-cnn")
    sizes = {s: n for s, (_, n) in SHAPES_SEEDS.items()}
    sizes.update({k: v for k, v in (("train", n_train), ("val", n_eval), ("test", n_eval)) if v})
    data = {"generator": "workbench.zoo.shapes.render_shape(seed, size=64)",
            "splits": {s: {"first_seed": SHAPES_SEEDS[s][0], "count": sizes[s]} for s in sizes},
            "augment": "random flips and quarter turns"}
    recipe = Recipe(epochs=epochs, batch_size=128, lr=4e-3, weight_decay=5e-4, threads=2,
                    augment=flip_rotate, label_smoothing=0.05)
    return run_recipe(entry, out_dir, recipe, data=data, log=log,
                      load=lambda: tuple(shapes_split(s, sizes[s]) for s in ("train", "val", "test")))


def train_digits_cnn(out_dir: Path, *, epochs: int = 40,
                     log: Callable[[str], None] = log_to_stderr) -> dict:
    entry = catalogue.get("digits-cnn")
    splits = {s: load_split(s) for s in ("train", "val", "test")}
    data = {"source": "sklearn.datasets.load_digits (8x8, 0-16), bilinear to 32x32 uint8",
            "split": {"seed": SPLIT_SEED, "fractions": list(FRACTIONS), "stratified": True,
                      "counts": {s: int(len(v[1])) for s, v in splits.items()}},
            "augment": "rotation +-10 deg, scale 0.9-1.1, shift +-2 px"}
    recipe = Recipe(epochs=epochs, batch_size=64, lr=3e-3, weight_decay=1e-3, threads=1,
                    augment=jitter_affine)
    return run_recipe(entry, out_dir, recipe, data=data, log=log,
                      load=lambda: (splits["train"], splits["val"], splits["test"]))

