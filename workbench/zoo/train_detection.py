"""Reproducible, resumable training of the bundled detectors: ``workbench train shapes-fcos``.

Step ``s`` always sees the same training scenes (``train_batch_seeds``), and the checkpoint
holds the weights, optimizer, step, RNG and history, so a run cut short and resumed gives the
same weights as one that ran through (at the same thread count). Every ``eval_every`` steps
the val split scores the model; each new best is measured on the test split and written
as ``NAME.safetensors`` (fp16) and ``NAME.json``, so a trained model and an honest card
exist whenever the wall-clock budget runs out. The Mask R-CNN run also writes
``shapes-fasterrcnn``: its own box path without the mask head.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from workbench.zoo import detection_data as data
from workbench.zoo import detection_nets as nets
from workbench.zoo.coco_eval import coco_map
from workbench.zoo.reproducible import reproducible

Log = Callable[[str], None]
CHECK_SCENES = 40
DEFAULT_CHECKPOINTS = Path(tempfile.gettempdir()) / "workbench-checkpoints"


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Recipe:
    model: str                 # the zoo name whose builder is trained
    steps: int
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 300
    eval_every: int = 500
    val_scenes: int = 150
    test_scenes: int = 300
    masks: bool = False
    seed: int = 0
    grad_clip: float | None = None
    masks_for_training_only: bool = False   # fed to the loss, but the model predicts none
    extra_metrics: str = ""    # "module:function" (model, test scenes) -> dict, added to the card
    also_writes: tuple[str, ...] = ()
    init: str = ""            # "module:function" (model) -> None, run on the fresh model before training


RECIPES = {
    "shapes-maskrcnn": Recipe("shapes-maskrcnn", steps=2000, eval_every=400, masks=True,
                              also_writes=("shapes-fasterrcnn",)),
    "shapes-fcos": Recipe("shapes-fcos", steps=4800, eval_every=800),
    # masks feed DETR's per-token class loss; its boxes are scored without them
    "shapes-detr": Recipe("shapes-detr", steps=5000, batch_size=8, lr=3e-4, warmup=300,
                          eval_every=500, masks=True, grad_clip=0.5,
                          masks_for_training_only=True,
                          extra_metrics="workbench.zoo.detr_metrics:attention_in_box"),
    "shapes-yolo": Recipe("shapes-yolo", steps=5000, batch_size=8, lr=1e-3, eval_every=500),
    # the head alone trains: the backbone and RPN are the bundled Faster R-CNN's, frozen
    "shapes-rfcn": Recipe("shapes-rfcn", steps=2000, batch_size=8, lr=2e-3, warmup=100, eval_every=400,
                          init="workbench.zoo.train_rfcn:start_from_faster_rcnn"),
}
# the Faster R-CNN is the Mask R-CNN's box path: training it means training the Mask R-CNN
RECIPES["shapes-fasterrcnn"] = RECIPES["shapes-maskrcnn"]


@torch.no_grad()
def predict(model: nn.Module, scenes: list, batch_size: int = 8) -> list[dict]:
    """Numpy predictions of a torchvision detector; masks thresholded at 0.5 when present."""
    model.eval()
    out = []
    for i in range(0, len(scenes), batch_size):
        images = [data.to_tensor(s.image) for s in scenes[i:i + batch_size]]
        for p in model(images):
            row = {k: p[k].numpy() for k in ("boxes", "labels", "scores")}
            if "masks" in p:
                row["masks"] = p["masks"][:, 0].numpy() >= 0.5
            out.append(row)
    return out


def evaluate(model: nn.Module, scenes: list, masks: bool = False) -> dict[str, float]:
    """COCO mAP of ``model`` on ``scenes`` (labels shifted by one: 0 is background)."""
    gts = [{"boxes": s.boxes, "labels": s.labels + 1, "masks": s.masks} for s in scenes]
    return {k: round(v, 4) for k, v in coco_map(gts, predict(model, scenes), masks=masks).items()}


def _schedule(recipe: Recipe) -> Callable[[int], float]:
    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / recipe.warmup)
        return warm * 0.5 * (1 + math.cos(math.pi * min(step, recipe.steps) / recipe.steps))
    return factor


def fp16_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous().clone()
            for k, v in model.state_dict().items()}


def _as_stored(name: str, state: dict[str, torch.Tensor]) -> nn.Module:
    """A fresh model holding exactly the stored (fp16-rounded) weights: what users will load."""
    model = nets.BUILDERS[name]()
    model.load_state_dict(state, strict=True)
    return model.eval()


def _card(name: str, model: nn.Module, recipe: Recipe, progress: dict,
          metrics: dict, check: dict, threads: int) -> dict:
    train_first, train_size = data.SCENE_SEEDS["train"]
    seen = progress["step"] * recipe.batch_size

    def split(s: str, n: int) -> dict:
        return {"first_seed": data.SCENE_SEEDS[s][0], "count": n, "objects": list(data.EVAL_OBJECTS)}

    return {
        "name": name, "task": "detect",
        "architecture": {"class": type(model).__name__, "description": model.description,
                         "builder": f"workbench.zoo.detection_nets.{nets.BUILDERS[name].__name__}"},
        "data": {"generator": f"workbench.zoo.shapes.render_scene(seed, size={data.SCENE_SIZE}, "
                              f"n_objects=...)",
                 "splits": {"train": {"first_seed": train_first, "count": train_size,
                                      "objects": list(data.TRAIN_OBJECTS), "scenes_seen": seen},
                            "val": split("val", recipe.val_scenes),
                            "test": split("test", recipe.test_scenes)},
                 "label_offset": "model label k is SHAPE_CLASSES[k - 1]; 0 is background"},
        "seed": recipe.seed, "train_command": f"workbench train {name}",
        "train_seconds": round(progress["seconds"], 1), "train_cpu_seconds": round(progress["cpu"], 1),
        "train_threads": threads, "steps": progress["step"], "planned_steps": recipe.steps,
        "finished": progress["step"] >= recipe.steps,
        "epochs": round(seen / train_size, 4),
        "optimizer": {"name": "AdamW", "lr": recipe.lr, "weight_decay": recipe.weight_decay,
                      "batch_size": recipe.batch_size,
                      "schedule": f"linear warm-up {recipe.warmup} steps, cosine to 0 at "
                                  f"{recipe.steps} steps"},
        "metrics": metrics, "metrics_split": f"test ({recipe.test_scenes} scenes, never used "
                                             f"for selection)",
        "selection": {"split": "val", "count": recipe.val_scenes, **progress["best"]},
        "recipe_changes": progress["recipe_changes"],
        "check": check, "history": progress["history"],
        "labels": list(data.DETECTION_LABELS), "input_size": [data.SCENE_SIZE, data.SCENE_SIZE],
        "input": "list of float RGB CHW tensors in [0, 1] (or an NxCxHxW batch); the model "
                 "normalises inside with internal_mean / internal_std",
        "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "grayscale": False,
        "internal_mean": list(nets.IMAGE_MEAN), "internal_std": list(nets.IMAGE_STD),
        "params": sum(p.numel() for p in model.parameters()), "weights_dtype": "float16",
        "torch_version": torch.__version__.split("+")[0],
    }


def _publish(name: str, state: dict, recipe: Recipe, progress: dict, out_dir: Path,
             threads: int, log: Log) -> dict:
    """Measure the stored weights on the test split and write NAME.safetensors + NAME.json."""
    from safetensors.torch import save_file
    model = _as_stored(name, state)
    masks = recipe.masks and name == recipe.model and not recipe.masks_for_training_only
    test = data.scenes("test", recipe.test_scenes)
    metrics = evaluate(model, test, masks)
    if recipe.extra_metrics and name == recipe.model:
        module, _, function = recipe.extra_metrics.partition(":")
        metrics.update(getattr(importlib.import_module(module), function)(model, test))
    subset = test[:CHECK_SCENES]
    check = {"split": "test", "count": len(subset), **evaluate(model, subset, masks)}
    card = _card(name, model, recipe, progress, metrics, check, threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out_dir / f"{name}.safetensors"),
              metadata={"architecture": f"zoo:{name}", "task": "detect"})
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log(f"{name}: wrote weights and card, test {metrics}")
    return card


def _save_checkpoint(path: Path, model, opt, sched, progress: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(),
                "progress": progress}, tmp)
    os.replace(tmp, path)


def train_detector(name: str, out_dir: Path, *, checkpoints: Path | None = None,
                   minutes: float | None = None, until: int | None = None, threads: int = 1,
                   rescore: bool = False, recipe: Recipe | None = None, log: Log = _log) -> dict | None:
    """Train (or resume) ``name`` until its planned steps, step ``until``, or ``minutes`` of
    wall clock this session; returns the card of the best weights in ``out_dir`` (None if
    none yet). ``rescore``: measure the weights already in ``out_dir`` again and rewrite the
    card, with the training record of the checkpoint."""
    recipe = recipe or RECIPES[name]
    out_dir = Path(out_dir)
    ckpt = Path(checkpoints or DEFAULT_CHECKPOINTS) / f"{recipe.model}.pt"
    if rescore:
        return _rescore(name, recipe, out_dir, ckpt, threads, log)
    deadline = time.monotonic() + 60 * minutes if minutes else math.inf
    with reproducible(recipe.seed, threads):
        model = nets.BUILDERS[recipe.model]()
        if recipe.init:
            module, _, function = recipe.init.partition(":")
            getattr(importlib.import_module(module), function)(model)
        trained = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(trained, lr=recipe.lr, weight_decay=recipe.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(recipe))
        progress = _resume(ckpt, model, opt, sched, recipe, log)
        val = data.scenes("val", recipe.val_scenes)
        last = min(recipe.steps, until or recipe.steps)
        while progress["step"] < last and time.monotonic() < deadline:
            step = _train_step(model, opt, sched, recipe, progress, log)
            if step % recipe.eval_every == 0 or step == recipe.steps:
                _evaluate_and_publish(model, recipe, progress, val, out_dir, threads, log)
                _save_checkpoint(ckpt, model, opt, sched, progress)
            elif step % 100 == 0:
                _save_checkpoint(ckpt, model, opt, sched, progress)
        evaluated = progress["history"] and progress["history"][-1]["step"] == progress["step"]
        if time.monotonic() >= deadline and progress["step"] and not evaluated:
            _evaluate_and_publish(model, recipe, progress, val, out_dir, threads, log)
        _save_checkpoint(ckpt, model, opt, sched, progress)
    log(f"{recipe.model}: stopped at step {progress['step']}/{recipe.steps}, "
        f"best val mAP@.5 {progress['best']['map_50']} at step {progress['best']['step']}")
    card = out_dir / f"{name}.json"
    return json.loads(card.read_text(encoding="utf-8")) if card.is_file() else None


def _rescore(name: str, recipe: Recipe, out_dir: Path, ckpt: Path, threads: int, log: Log) -> dict:
    from safetensors.torch import load_file
    weights = out_dir / f"{name}.safetensors"
    if not weights.is_file() or not ckpt.is_file():
        raise FileNotFoundError(f"rescoring {name} needs {weights} and its training checkpoint {ckpt}")
    progress = torch.load(ckpt, map_location="cpu", weights_only=True)["progress"]
    with reproducible(recipe.seed, threads):
        return _publish(name, load_file(str(weights)), recipe, progress, out_dir, threads, log)


def _resume(ckpt: Path, model, opt, sched, recipe: Recipe, log: Log) -> dict:
    progress = {"step": 0, "seconds": 0.0, "cpu": 0.0, "history": [], "recipe_changes": [],
                "best": {"step": 0, "map_50": -1.0}, "recipe": asdict(recipe)}
    if not ckpt.is_file():
        return progress
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["torch_rng"])
    progress = {**progress, **saved["progress"]}
    changed = {k: {"from": v, "to": asdict(recipe)[k]} for k, v in progress["recipe"].items()
               if asdict(recipe)[k] != v}
    if changed:
        # a resumed run with another recipe no longer replays from scratch: keep the record
        progress["recipe_changes"].append({"at_step": progress["step"], **changed})
        progress["recipe"] = asdict(recipe)
    log(f"{recipe.model}: resumed at step {progress['step']} from {ckpt}"
        + (f", recipe changed: {changed}" if changed else ""))
    return progress


def _train_step(model, opt, sched, recipe: Recipe, progress: dict, log: Log) -> int:
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    step = progress["step"]
    images, targets = data.as_inputs(data.train_scenes(step, recipe.batch_size), masks=recipe.masks)
    losses = model(images, targets)
    loss = sum(losses.values())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if recipe.grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
    opt.step()
    sched.step()
    progress["step"] = step = step + 1
    progress["seconds"] += time.perf_counter() - t0
    progress["cpu"] += time.process_time() - c0
    if step % 50 == 0:
        parts = " ".join(f"{k.removeprefix('loss_')} {v.item():.3f}" for k, v in losses.items())
        log(f"{recipe.model} step {step}/{recipe.steps} loss {loss.item():.3f} ({parts}) "
            f"{progress['seconds'] / step:.2f}s/step")
    return step


def _evaluate_and_publish(model, recipe: Recipe, progress: dict, val: list, out_dir: Path,
                          threads: int, log: Log) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    state = fp16_state(model)
    scores = evaluate(_as_stored(recipe.model, state), val)
    entry = {"step": progress["step"], "train_seconds": round(progress["seconds"], 1), **scores}
    progress["history"].append(entry)
    log(f"{recipe.model} step {progress['step']} val {scores}")
    if scores["map_50"] > progress["best"]["map_50"]:
        progress["best"] = {"step": progress["step"], "map_50": scores["map_50"]}
        _publish(recipe.model, state, recipe, progress, out_dir, threads, log)
        for other in recipe.also_writes:
            _publish(other, nets.box_path_state(state), recipe, progress, out_dir, threads, log)
    # evaluation time counts as training time: it is part of what it took to make the model
    progress["seconds"] += time.perf_counter() - t0
    progress["cpu"] += time.process_time() - c0

