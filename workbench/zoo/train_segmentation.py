"""Reproducible training of the bundled segmenter: ``workbench train shapes-segmenter``.

A fixed pool of training scenes is rendered once and seen under random flips and quarter
turns; batches come from a seeded permutation, so a run at the same thread count gives the
same weights. Every ``eval_every`` steps the val split is scored and the weights and card
are written, so a usable model exists before the run ends; the last write also measures
the test split.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from workbench.zoo import catalogue
from workbench.zoo import segmentation_data as data
from workbench.zoo.catalogue import ZooEntry
from workbench.zoo.segmentation_nets import encoder_state
from workbench.zoo.reproducible import reproducible

NAME = "shapes-segmenter"
Log = Callable[[str], None]


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Recipe:
    steps: int = 2400
    batch_size: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    pool: int = 2400            # training scenes, rendered once
    eval_every: int = 400
    val_scenes: int = 300
    test_scenes: int = 300
    check_scenes: int = 40      # the val subset a test re-measures
    init: str = "shapes-cnn"    # encoder weights from this bundled classifier ("" = from scratch)
    seed: int = 0


@torch.no_grad()
def predict(model: nn.Module, entry: ZooEntry, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """(N, H, W) uint8 class maps of uint8 scenes at the entry's input size."""
    model.eval()
    out = [model(entry.to_input(images[i:i + batch_size])).argmax(1).to(torch.uint8).numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)


def evaluate(model: nn.Module, entry: ZooEntry, images: np.ndarray, labels: np.ndarray) -> dict:
    conf = data.confusion(predict(model, entry, images), labels, len(entry.labels))
    return data.iou_scores(conf, list(entry.labels))


def _init_encoder(model: nn.Module, init: str) -> None:
    if init:
        from safetensors.torch import load_file
        state = encoder_state(load_file(str(catalogue.get(init).weights_path())))
        missing = set(state) - set(model.state_dict())
        if missing:
            raise ValueError(f"{init} does not fit the segmenter's encoder: {sorted(missing)[:3]}")
        model.load_state_dict(state, strict=False)


def _card(entry: ZooEntry, model: nn.Module, recipe: Recipe, progress: dict, val: dict,
          check: dict, test: dict | None, threads: int) -> dict:
    first = {s: data.detection_data.SCENE_SEEDS[s][0] for s in ("train", "val", "test")}
    metrics = {"val_miou": val["miou"], "val_pixel_accuracy": val["pixel_accuracy"]}
    per_class = {"val": val["per_class_iou"]}
    if test is not None:
        metrics.update(test_miou=test["miou"], test_pixel_accuracy=test["pixel_accuracy"])
        per_class["test"] = test["per_class_iou"]
    return {
        "name": entry.name, "task": entry.task,
        "architecture": {"class": type(model).__name__, "description": model.description,
                         "builder": "workbench.zoo.segmentation_nets.ShapesUNet",
                         "encoder_init": f"zoo:{recipe.init}" if recipe.init else "random"},
        "data": {"generator": f"workbench.zoo.shapes.render_scene(seed, size={data.SCENE_SIZE}, "
                              f"n_objects=...); target: Scene.semantic",
                 "splits": {"train": {"first_seed": first["train"], "count": recipe.pool,
                                      "objects": list(data.detection_data.TRAIN_OBJECTS)},
                            "val": {"first_seed": first["val"], "count": recipe.val_scenes,
                                    "objects": list(data.detection_data.EVAL_OBJECTS)},
                            "test": {"first_seed": first["test"], "count": recipe.test_scenes,
                                     "objects": list(data.detection_data.EVAL_OBJECTS)}},
                 "augment": "random flips and quarter turns"},
        "seed": recipe.seed,
        "train_command": "workbench train shapes-segmenter",
        "train_seconds": round(progress["seconds"], 1), "train_cpu_seconds": round(progress["cpu"], 1),
        "train_threads": threads, "steps": progress["step"], "planned_steps": recipe.steps,
        "finished": progress["step"] >= recipe.steps,
        "optimizer": {"name": "AdamW", "lr": recipe.lr, "weight_decay": recipe.weight_decay,
                      "batch_size": recipe.batch_size, "loss": "pixel cross-entropy",
                      "schedule": f"linear warm-up {recipe.warmup} steps, cosine to 0 at "
                                  f"{recipe.steps} steps"},
        "recipe": asdict(recipe),
        "metrics": metrics, "per_class_iou": per_class,
        "miou": "mean over classes of IoU from pixel counts summed over the split",
        "check": check, "history": progress["history"],
        "labels": list(entry.labels), "input_size": list(entry.input_size),
        "mean": list(entry.mean), "std": list(entry.std), "grayscale": entry.grayscale,
        "params": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__.split("+")[0],
    }


def _publish(entry: ZooEntry, model: nn.Module, recipe: Recipe, progress: dict, val_set: tuple,
             out_dir: Path, threads: int, final: bool, log: Log) -> dict:
    from safetensors.torch import save_file
    val = evaluate(model, entry, *val_set)
    n = recipe.check_scenes
    check = {"split": "val", "count": n, **evaluate(model, entry, val_set[0][:n], val_set[1][:n])}
    test = evaluate(model, entry, *data.split("test", recipe.test_scenes)) if final else None
    progress["history"].append({"step": progress["step"], "train_seconds": round(progress["seconds"], 1),
                                "val_miou": val["miou"]})
    card = _card(entry, model, recipe, progress, val, check, test, threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(entry.weights_path(out_dir)),
              metadata={"architecture": f"zoo:{entry.name}", "task": entry.task})
    entry.card_path(out_dir).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log(f"{entry.name} step {progress['step']}: val mIoU {val['miou']} {val['per_class_iou']}"
        + (f"; test mIoU {test['miou']}" if test else ""))
    return card


def train_segmenter(out_dir: Path, *, recipe: Recipe | None = None, threads: int = 1,
                    log: Log = _log) -> dict:
    """Train the shapes segmenter from scratch and write its weights and card into ``out_dir``."""
    recipe = recipe or Recipe()
    entry = catalogue.get(NAME)
    out_dir = Path(out_dir)
    start, cpu_start = time.perf_counter(), time.process_time()
    progress = {"step": 0, "seconds": 0.0, "cpu": 0.0, "history": []}

    def clock() -> None:
        progress["seconds"] = time.perf_counter() - start
        progress["cpu"] = time.process_time() - cpu_start

    with reproducible(recipe.seed, threads):
        model = entry.build()
        _init_encoder(model, recipe.init)
        images, labels = data.split("train", recipe.pool)
        val_set = data.split("val", recipe.val_scenes)
        log(f"{entry.name}: rendered {len(images)} training and {recipe.val_scenes} val scenes")
        rng = np.random.default_rng(recipe.seed)
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / recipe.warmup)
                                                  * 0.5 * (1 + math.cos(math.pi * min(s, recipe.steps)
                                                                        / recipe.steps)))
        order = np.zeros(0, np.int64)
        card: dict = {}
        for step in range(1, recipe.steps + 1):
            if len(order) < recipe.batch_size:
                order = np.concatenate([order, rng.permutation(len(images))])
            idx, order = order[:recipe.batch_size], order[recipe.batch_size:]
            xb, yb = data.dihedral(images[idx], labels[idx], rng)
            model.train()
            loss = F.cross_entropy(model(entry.to_input(xb)), torch.from_numpy(yb).long())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            progress["step"] = step
            if step % 50 == 0:
                clock()
                log(f"{entry.name} step {step}/{recipe.steps} loss {loss.item():.4f} "
                    f"{progress['seconds'] / step:.2f}s/step")
            if step % recipe.eval_every == 0 or step == recipe.steps:
                clock()
                card = _publish(entry, model, recipe, progress, val_set, out_dir, threads,
                                step == recipe.steps, log)
    return card

