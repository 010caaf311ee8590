"""``workbench train textures-cnn``: a classifier whose first layer looks like oriented edges and
colour-opponent blobs.

Two stages, both seeded, on one thread. First a sparse autoencoder learns 11x11 filters from
ZCA-whitened patches of the training regions of scikit-image's photographs; encoder and
whitening fold into conv1, which then stays frozen. Then the rest of the network learns to name
the photograph a 64x64 crop comes from (random crops of the training regions, random
horizontal flips), and is tested on fixed crops of the held-out regions. The card records the
first layer's Gabor share (``workbench.zoo.filter_shape``) beside the test accuracy.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from workbench.zoo import catalogue, textures
from workbench.zoo.filter_shape import measure_all
from workbench.zoo.reproducible import log_to_stderr, reproducible
from workbench.zoo.sparse_autoencoder import SparseSettings, learn_first_layer
from workbench.zoo.train_classification import accuracy, save

NAME = "textures-cnn"
GABOR_R2, GABOR_OSI = 0.7, 0.3


@dataclass(frozen=True)
class TexturesRecipe:
    seed: int = 0
    threads: int = 1
    patches_per_class: int = 6000
    sparse: SparseSettings = field(default_factory=SparseSettings)
    steps: int = 1000
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    train_eval_per_class: int = 40

    def describe(self) -> dict:
        return {"name": "AdamW", "lr": self.lr, "weight_decay": self.weight_decay,
                "batch_size": self.batch_size, "steps": self.steps,
                "label_smoothing": self.label_smoothing,
                "schedule": "linear warm-up (50 steps) then cosine to 0",
                "augment": "random crops of the training regions, random horizontal flips",
                "conv1": "frozen after the sparse autoencoder"}


def normalised_patches(entry: catalogue.ZooEntry, patches: np.ndarray) -> np.ndarray:
    """(N, k, k, 3) uint8 -> (N, 3, k, k) float32 in the classifier's input normalisation."""
    x = patches.astype(np.float32) / 255.0
    x = (x - np.array(entry.mean, np.float32)) / np.array(entry.std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def fit_classifier(model: nn.Module, entry: catalogue.ZooEntry, recipe: TexturesRecipe,
                   log: Callable[[str], None]) -> list[dict]:
    rng = np.random.default_rng(recipe.seed)
    trainable = [p for n, p in model.named_parameters() if not n.startswith("features.conv1.")]
    opt = torch.optim.AdamW(trainable, lr=recipe.lr, weight_decay=recipe.weight_decay)
    warm, total = 50, recipe.steps
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    n_classes = len(textures.TEXTURE_CLASSES)
    history, running, t0 = [], 0.0, time.perf_counter()
    model.train()
    for step in range(recipe.steps):
        labels = rng.integers(n_classes, size=recipe.batch_size)
        crops = textures.random_crops(labels, rng, "train")
        flip = rng.random(len(crops)) < 0.5
        crops[flip] = crops[flip, :, ::-1]
        loss = loss_fn(model(entry.to_input(crops)), torch.from_numpy(labels))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 100 == 0:
            history.append({"step": step + 1, "loss": round(running / 100, 4)})
            log(f"{NAME} step {step + 1}/{recipe.steps} loss {running / 100:.4f} "
                f"({time.perf_counter() - t0:.0f}s)")
            running = 0.0
    return history


def train_textures_cnn(out_dir: Path, *, steps: int | None = None, threads: int = 1,
                       log: Callable[[str], None] = log_to_stderr) -> dict:
    entry = catalogue.get(NAME)
    recipe = TexturesRecipe(threads=threads, **({"steps": steps} if steps else {}))
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(recipe.seed, recipe.threads):
        model = entry.build()
        conv1 = model.features.conv1
        patches = textures.random_patches(recipe.patches_per_class, conv1.kernel_size[0],
                                          np.random.default_rng([recipe.seed, 1]))
        layer = learn_first_layer(normalised_patches(entry, patches), recipe.sparse,
                                  seed=recipe.seed, log=log)
        log(f"{NAME}: sparse autoencoder done in {layer.seconds:.0f}s, "
            f"reconstruction R^2 {layer.reconstruction_r2:.3f}, active {layer.active_share:.3f}")
        with torch.no_grad():
            conv1.weight.copy_(torch.from_numpy(layer.weight))
            conv1.bias.copy_(torch.from_numpy(layer.bias))
        conv1.requires_grad_(False)
        history = fit_classifier(model, entry, recipe, log)
        conv1.requires_grad_(True)
        test_acc = accuracy(model, entry, *textures.test_split())
        train_eval = textures.random_crops(
            np.repeat(np.arange(len(textures.TEXTURE_CLASSES)), recipe.train_eval_per_class),
            np.random.default_rng([recipe.seed, 2]), "train")
        train_acc = accuracy(model, entry, train_eval,
                             np.repeat(np.arange(len(textures.TEXTURE_CLASSES)), recipe.train_eval_per_class))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    shapes = measure_all(model.features.conv1.weight.detach().numpy())
    share = sum(s.is_gabor(GABOR_R2, GABOR_OSI) for s in shapes) / len(shapes)
    card = make_card(entry, model, recipe, layer=layer, seconds=seconds, cpu_seconds=cpu_seconds,
                     test_acc=test_acc, train_acc=train_acc, gabor=share,
                     r2_share=sum(s.r2 >= GABOR_R2 for s in shapes) / len(shapes),
                     osi_share=sum(s.osi >= GABOR_OSI for s in shapes) / len(shapes))
    card["history"] = history
    log(f"{NAME}: test accuracy {test_acc:.4f}, Gabor share {share:.3f} in {seconds / 60:.1f} min")
    return save(entry, model.eval(), out_dir, card)


def make_card(entry: catalogue.ZooEntry, model: nn.Module, recipe: TexturesRecipe, *, layer,
              seconds: float, cpu_seconds: float, test_acc: float, train_acc: float,
              gabor: float, r2_share: float, osi_share: float) -> dict:
    n_test = len(textures.TEXTURE_CLASSES) * textures.TEST_PER_CLASS
    return {
        "name": entry.name, "task": entry.task,
        "architecture": {"class": type(model).__name__, "description": model.description,
                         "conv_layers": [f"features.conv{i}" for i in range(1, 5)]},
        "data": {"source": "scikit-image's bundled photographs (skimage/data), grey ones repeated "
                           "over RGB; the label is the photograph",
                 "files": dict(textures.TEXTURE_SOURCES),
                 "split": f"left {1 - textures.TEST_FRACTION:.0%} of each photograph's columns for "
                          f"training (crops and autoencoder patches), the right "
                          f"{textures.TEST_FRACTION:.0%} for testing; no test pixel in any training crop",
                 "crop": textures.CROP,
                 "test": {"per_class": textures.TEST_PER_CLASS, "count": n_test,
                          "placement": f"uniform, numpy default_rng([{textures.TEST_SEED}, class])"}},
        "first_layer": {
            "method": "sparse autoencoder (ReLU encoder, tied unit-norm decoder, L1 on the code) on "
                      "ZCA-whitened 11x11 patches of the training regions, in the model's input "
                      "normalisation; encoder and whitening folded into conv1's weight and bias, "
                      "so conv1 is exactly what the model applies to its normalised input pixels",
            "settings": asdict(recipe.sparse), "patches": recipe.patches_per_class * len(textures.TEXTURE_CLASSES),
            "reconstruction_r2": round(layer.reconstruction_r2, 4),
            "active_share": round(layer.active_share, 4), "seconds": round(layer.seconds, 1),
            "frozen": True},
        "seed": recipe.seed, "train_command": f"workbench train {entry.name}",
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "train_minutes": round(seconds / 60, 1), "train_threads": recipe.threads,
        "optimizer": recipe.describe(),
        "metrics": {"test_accuracy": round(test_acc, 4), "test_count": n_test,
                    "train_crop_accuracy": round(train_acc, 4),
                    "gabor_share": round(gabor, 4), "gabor_r2_share": round(r2_share, 4),
                    "oriented_share": round(osi_share, 4)},
        "gabor_share": {"value": round(gabor, 4), "r2_min": GABOR_R2, "osi_min": GABOR_OSI,
                        "measure": "workbench.zoo.filter_shape.gabor_share(features.conv1.weight)"},
        "labels": list(entry.labels), "input_size": list(entry.input_size),
        "mean": list(entry.mean), "std": list(entry.std), "grayscale": entry.grayscale,
        "params": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__.split("+")[0],
    }
