"""Reproducible training of the bundled ViT: ``workbench train shapes-vit``.

Same data, splits and seeding as ``shapes-cnn`` (``train_classification``); the card adds
where the class token looks: the share of its last-layer attention (mean of the heads) that
falls on the shape, measured against the shapes' masks on held-out images.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torchvision.models import VisionTransformer

from workbench.zoo import catalogue
from workbench.zoo.reproducible import log_to_stderr, reproducible
from workbench.zoo.shapes import SHAPE_CLASSES, render_shape_with_mask
from workbench.zoo.train_classification import (SHAPES_SEEDS, Recipe, accuracy, flip_rotate,
                                                make_card, save, shapes_split)
from workbench.zoo.vit import SHAPES_VIT, STEM_CHANNELS, cls_attention, describe, encode

ATTENTION_IMAGES = 500  # test-split images the attention share is measured on
TOKEN_LOSS_WEIGHT = 1.0


def patch_coverage(alpha: np.ndarray, patch: int) -> np.ndarray:
    """(N, H, W) coverage -> (N, (H/patch)*(W/patch)): the share of each patch the shape covers,
    patches in row-major order like the ViT's tokens."""
    n, h, w = alpha.shape
    blocks = alpha.reshape(n, h // patch, patch, w // patch, patch)
    return blocks.mean(axis=(2, 4)).reshape(n, -1)


@torch.no_grad()
def attention_on_shape(model: nn.Module, images: np.ndarray, alpha: np.ndarray,
                       batch_size: int = 250) -> dict:
    """Where the class token's last-layer attention goes, against where the shape is.

    ``inside_share``: per image, the patch attention weighted by each patch's coverage over
    the total patch attention, averaged over images; ``area_share``: the same with uniform
    attention (the shape's share of the image), the level that means "not looking at it".
    """
    entry = catalogue.get("shapes-vit")
    model.eval()
    attn = torch.cat([cls_attention(model, entry.to_input(images[i:i + batch_size]))
                      for i in range(0, len(images), batch_size)]).numpy()
    cover = patch_coverage(alpha, SHAPES_VIT["patch_size"])
    inside = (attn * cover).sum(1) / attn.sum(1)
    area = cover.mean(1)
    return {"inside_share": float(inside.mean()), "area_share": float(area.mean()),
            "images_above_area": float((inside > area).mean()), "images": len(images)}


def attention_split(count: int = ATTENTION_IMAGES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``count`` test-split images, their labels and shape coverages."""
    first = SHAPES_SEEDS["test"][0]
    triples = [render_shape_with_mask(s) for s in range(first, first + count)]
    return (np.stack([t[0] for t in triples]), np.array([t[1] for t in triples], dtype=np.int64),
            np.stack([t[2] for t in triples]))


def token_targets(coverage: np.ndarray, labels: np.ndarray, patch: int) -> torch.Tensor:
    """(N, tokens) int64: 0 for a patch the shape covers less than half, else its label + 1."""
    cover = patch_coverage(coverage.astype(np.float32) / 255.0, patch)
    return torch.from_numpy(np.where(cover >= 0.5, labels[:, None] + 1, 0))


def fit_with_token_labels(model: VisionTransformer, recipe: Recipe, train: tuple, val: tuple,
                          log: Callable[[str], None]) -> list[dict]:
    """``train_classification.fit`` plus a training-only loss on the patch tokens: a linear
    head on each output token predicts background or the class of the shape covering it
    (targets from the masks, as in token labelling, Jiang et al. 2021). The head is dropped
    afterwards; the bundled model is the plain ViT."""
    entry = catalogue.get("shapes-vit")
    x, y = train  # x: (N, H, W, 4) uint8, RGB plus the shape's coverage
    token_head = nn.Linear(SHAPES_VIT["hidden_dim"], 1 + len(SHAPE_CLASSES))
    params = [*model.parameters(), *token_head.parameters()]
    rng = np.random.default_rng(recipe.seed)
    steps_per_epoch = math.ceil(len(x) / recipe.batch_size)
    total, warm = recipe.epochs * steps_per_epoch, max(1, steps_per_epoch // 2)
    opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    class_loss = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history = []
    for epoch in range(recipe.epochs):
        model.train()
        order = rng.permutation(len(x))
        t0, running, running_tokens = time.perf_counter(), 0.0, 0.0
        for i in range(0, len(x), recipe.batch_size):
            idx = order[i:i + recipe.batch_size]
            batch = recipe.augment(x[idx], rng)
            tokens = encode(model, entry.to_input(batch[..., :3]))
            loss = class_loss(model.heads(tokens[:, 0]), torch.from_numpy(y[idx]))
            targets = token_targets(batch[..., 3], y[idx], SHAPES_VIT["patch_size"])
            token_loss = nn.functional.cross_entropy(token_head(tokens[:, 1:]).flatten(0, 1),
                                                     targets.flatten())
            opt.zero_grad(set_to_none=True)
            (loss + TOKEN_LOSS_WEIGHT * token_loss).backward()
            opt.step()
            sched.step()
            running += loss.detach().item() * len(idx)
            running_tokens += token_loss.detach().item() * len(idx)
        val_acc = accuracy(model, entry, *val)
        history.append({"epoch": epoch + 1, "loss": round(running / len(x), 4),
                        "token_loss": round(running_tokens / len(x), 4), "val_accuracy": val_acc})
        log(f"shapes-vit epoch {epoch + 1}/{recipe.epochs} loss {running / len(x):.4f} "
            f"tokens {running_tokens / len(x):.4f} val {val_acc:.4f} "
            f"({time.perf_counter() - t0:.1f}s)")
    return history


def with_coverage(split: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 64, 64, 4) uint8 images with the shape's coverage as a fourth channel, and labels."""
    first = SHAPES_SEEDS[split][0]
    triples = [render_shape_with_mask(s) for s in range(first, first + count)]
    rgba = np.stack([np.dstack([im, np.round(a * 255).astype(np.uint8)]) for im, _, a in triples])
    return rgba, np.array([t[1] for t in triples], dtype=np.int64)


def train_shapes_vit(out_dir: Path, *, epochs: int = 8, threads: int = 1,
                     n_train: int | None = None, n_eval: int | None = None,
                     log: Callable[[str], None] = log_to_stderr) -> dict:
    """Train on the shapes-cnn splits with flips and quarter turns; one thread by default,
    which ran faster than two on a shared 2-core machine for a model this small."""
    entry = catalogue.get("shapes-vit")
    sizes = {s: n for s, (_, n) in SHAPES_SEEDS.items()}
    sizes.update({k: v for k, v in (("train", n_train), ("val", n_eval), ("test", n_eval)) if v})
    recipe = Recipe(epochs=epochs, batch_size=128, lr=2e-3, weight_decay=0.05, threads=threads,
                    augment=flip_rotate, label_smoothing=0.1)
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(recipe.seed, recipe.threads):
        train_set = with_coverage("train", sizes["train"])
        val_set, test_set = (shapes_split(s, sizes[s]) for s in ("val", "test"))
        model = entry.build()
        history = fit_with_token_labels(model, recipe, train_set, val_set, log)
        test_acc = accuracy(model, entry, *test_set)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    images, _, alpha = attention_split(min(ATTENTION_IMAGES, sizes["test"]))
    looks = attention_on_shape(model, images, alpha)
    card = make_card(entry, model, recipe, seconds=seconds, cpu_seconds=cpu_seconds,
                     val_acc=history[-1]["val_accuracy"], test_acc=test_acc, data={
                         "generator": "workbench.zoo.shapes.render_shape(seed, size=64)",
                         "splits": {s: {"first_seed": SHAPES_SEEDS[s][0], "count": sizes[s]}
                                    for s in sizes},
                         "augment": "random flips and quarter turns"})
    card["architecture"] = {"class": "torchvision.models.VisionTransformer",
                            "description": describe(), "config": dict(SHAPES_VIT),
                            "conv_stem": list(STEM_CHANNELS)}
    card["token_labels"] = (
        f"training only: a linear head on each output patch token predicts background or the "
        f"class of the shape covering at least half the patch (targets from the masks); its "
        f"loss is added with weight {TOKEN_LOSS_WEIGHT} and the head is not bundled")
    card["metrics"].update({
        "cls_attention_inside_share": round(looks["inside_share"], 4),
        "shape_area_share": round(looks["area_share"], 4),
        "cls_attention_images_above_area": round(looks["images_above_area"], 4)})
    card["attention_metric"] = (
        f"class token -> patches, last encoder layer, mean of heads; share of patch attention "
        f"on the shape (patch weights = shape coverage) over the first {looks['images']} "
        f"test images; shape_area_share is the share uniform attention would give")
    card["history"] = history
    log(f"shapes-vit: test accuracy {test_acc:.4f}, attention on shape "
        f"{looks['inside_share']:.3f} (area {looks['area_share']:.3f}) in {seconds:.0f}s")
    return save(entry, model.eval(), out_dir, card)
