"""Training of the bundled R-CNN and SPPNet: ``workbench train shapes-rcnn``, then ``shapes-sppnet``.

Region classifiers train on regions, not on whole images, so they have their own loop instead of
``train_detection``'s: each step takes ``batch_size`` training scenes (the first
``CACHED_SCENES`` of the train split, in turn) with their selective-search proposals, cached once
in the checkpoints folder, and the model's ``forward(images, targets)`` samples and labels regions
from them, jittered ground truth and random boxes. The R-CNN trains everything; the SPPNet takes the
R-CNN's conv layers as they are and trains only its FC layers after the spatial pyramid, as He et
al. fine-tuned only the FC layers. Both cards are measured with the same cached selective-search
proposals of the first ``TEST_SCENES`` held-out test scenes, by ``coco_eval`` as every bundled
detector is.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from workbench.zoo import detection_data as data
from workbench.zoo.coco_eval import coco_map
from workbench.zoo.rcnn import MAX_PROPOSALS, RegionDetector, build_rcnn, build_sppnet, propose
from workbench.zoo.reproducible import reproducible
from workbench.zoo.train_detection import DEFAULT_CHECKPOINTS, fp16_state

Log = Callable[[str], None]
CACHED_SCENES = 600
TEST_SCENES = 100
CHECK_SCENES = 16
RECIPES = {"shapes-rcnn": {"steps": 6000, "batch_size": 2, "lr": 1e-3, "weight_decay": 1e-4},
           "shapes-sppnet": {"steps": 9600, "batch_size": 4, "lr": 1e-3, "weight_decay": 1e-4}}
BUILD = {"shapes-rcnn": build_rcnn, "shapes-sppnet": build_sppnet}


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def cached_proposals(split: str, count: int, folder: Path, log: Log = _log) -> list[np.ndarray]:
    """Selective-search (fast, best ``MAX_PROPOSALS``) boxes of the first ``count`` scenes of ``split``,
    computed once and kept in ``folder``."""
    path = Path(folder) / f"selective-search-{split}-{count}.npz"
    for kept in sorted(Path(folder).glob(f"selective-search-{split}-*.npz")):
        if int(kept.stem.rsplit("-", 1)[1]) >= count:     # the first scenes of a longer run are the same
            stored = np.load(kept)
            return [stored[f"s{i}"] for i in range(count)]
    boxes = []
    for i, scene in enumerate(data.scenes(split, count)):
        boxes.append(np.asarray(propose(scene.image, MAX_PROPOSALS), np.float32))
        if (i + 1) % 50 == 0:
            log(f"selective search: {i + 1}/{count} {split} scenes")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{f"s{i}": b for i, b in enumerate(boxes)})
    return boxes


@torch.no_grad()
def evaluate(model: RegionDetector, scenes: list, proposals: list[np.ndarray]) -> dict[str, float]:
    """COCO mAP of ``model`` on ``scenes`` given their proposals (labels shifted by one)."""
    model.eval()
    preds = []
    for scene, boxes in zip(scenes, proposals):
        out = model([data.to_tensor(scene.image)], proposals=[torch.from_numpy(boxes)])[0]
        preds.append({k: out[k].numpy() for k in ("boxes", "labels", "scores")})
    gts = [{"boxes": s.boxes, "labels": s.labels + 1} for s in scenes]
    return {k: round(v, 4) for k, v in coco_map(gts, preds).items()}


def _schedule(steps: int) -> Callable[[int], float]:
    return lambda step: min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


def _time_per_image(model: RegionDetector, scenes: list, proposals: list[np.ndarray]) -> float:
    """Mean milliseconds of the model on one image given its proposals (selective search excluded)."""
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for scene, boxes in zip(scenes, proposals):
            model([data.to_tensor(scene.image)], proposals=[torch.from_numpy(boxes)])
    return round((time.perf_counter() - start) * 1000 / len(scenes), 1)


def train_region_detector(name: str, out_dir: Path, *, checkpoints: Path | None = None, steps: int | None = None,
                          minutes: float | None = None, threads: int = 1, log: Log = _log) -> dict:
    """Train ``shapes-rcnn`` or ``shapes-sppnet`` (which needs the R-CNN's weights in ``out_dir``)
    and write NAME.safetensors (fp16) and NAME.json into ``out_dir``; returns the card."""
    from safetensors.torch import load_file, save_file
    if name not in RECIPES:
        raise KeyError(f"no region detector {name!r}; these are: {', '.join(RECIPES)}")
    recipe = {**RECIPES[name], **({"steps": int(steps)} if steps else {})}
    out_dir, folder = Path(out_dir), Path(checkpoints or DEFAULT_CHECKPOINTS)
    train_boxes = cached_proposals("train", CACHED_SCENES, folder, log)
    with reproducible(0, threads):
        model = BUILD[name]()
        trained = model.parameters()
        if name == "shapes-sppnet":
            rcnn_weights = out_dir / "shapes-rcnn.safetensors"
            if not rcnn_weights.is_file():
                raise FileNotFoundError(f"the SPPNet reuses the R-CNN's conv layers: train shapes-rcnn first "
                                        f"({rcnn_weights} is missing)")
            conv = {k.removeprefix("backbone."): v.float() for k, v in load_file(str(rcnn_weights)).items()
                    if k.startswith("backbone.")}
            model.backbone.load_state_dict(conv, strict=True)
            model.backbone.requires_grad_(False)
            trained = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(trained, lr=recipe["lr"], weight_decay=recipe["weight_decay"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(recipe["steps"]))
        start, cpu0 = time.perf_counter(), time.process_time()
        history = []
        deadline = time.monotonic() + 60 * minutes if minutes else math.inf
        done = 0
        for step in range(recipe["steps"]):
            if time.monotonic() > deadline:
                log(f"{name}: out of time at step {step} of {recipe['steps']}")
                break
            model.train()
            if name == "shapes-sppnet":
                model.backbone.eval()     # frozen: its batch-norm statistics stay the R-CNN's
            first = (step * recipe["batch_size"]) % CACHED_SCENES
            seeds = data.split_seeds("train", recipe["batch_size"], first)
            scenes = [data.render_scene(s, data.SCENE_SIZE, data.TRAIN_OBJECTS) for s in seeds]
            images, targets = data.as_inputs(scenes, masks=False)
            for t, i in zip(targets, range(first, first + len(scenes))):
                t["proposals"] = torch.from_numpy(train_boxes[i])
            losses = model(images, targets)
            loss = sum(losses.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            done = step + 1
            if (step + 1) % 50 == 0:
                row = {"step": step + 1, **{k: round(v.item(), 4) for k, v in losses.items()}}
                history.append(row)
                log(f"{name} {row} {(time.perf_counter() - start) / (step + 1):.2f}s/step")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
        state = fp16_state(model)
        torch.save(state, folder / f"{name}-trained.pt")   # kept should the scoring below be cut short
        stored = BUILD[name]()
        stored.load_state_dict(state, strict=True)
        test = data.scenes("test", TEST_SCENES)
        test_boxes = cached_proposals("test", TEST_SCENES, folder, log)
        metrics = evaluate(stored, test, test_boxes)
        check = {"split": "test", "count": CHECK_SCENES,
                 **evaluate(stored, test[:CHECK_SCENES], test_boxes[:CHECK_SCENES])}
        ms = _time_per_image(stored, test[:20], test_boxes[:20])
    card = _card(name, stored, {**recipe, "done": done}, metrics, check, seconds, cpu, threads, history, ms)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out_dir / f"{name}.safetensors"), metadata={"architecture": f"zoo:{name}", "task": "detect"})
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log(f"{name}: wrote weights and card, test {metrics}, {ms} ms per image")
    return card


def _card(name, model, recipe, metrics, check, seconds, cpu, threads, history, ms) -> dict:
    from workbench.zoo.rcnn import IMAGE_MEAN, IMAGE_STD
    sppnet = name == "shapes-sppnet"
    return {
        "name": name, "task": "detect",
        "architecture": {"class": type(model).__name__, "description": model.description,
                         "builder": f"workbench.zoo.rcnn.{BUILD[name].__name__}",
                         "classifier": "softmax over 6 shapes + background (Fast R-CNN's choice; R-CNN "
                                       "used one linear SVM per class)",
                         "box_regression": "class-specific, R-CNN's (dx, dy, dw, dh), weights 10, 10, 5, 5"},
        "proposals": {"method": "selective search (workbench.zoo.selective_search), fast mode",
                      "max_proposals": MAX_PROPOSALS},
        "data": {"generator": f"workbench.zoo.shapes.render_scene(seed, size={data.SCENE_SIZE}, n_objects=...)",
                 "train": {"first_seed": data.SCENE_SEEDS["train"][0], "count": CACHED_SCENES,
                           "objects": list(data.TRAIN_OBJECTS),
                           "scenes_seen": recipe["done"] * recipe["batch_size"]},
                 "regions": "per scene 32 regions, at most 25% with IoU >= 0.5 to a ground-truth box "
                            "(its class), the rest background (IoU < 0.5), drawn from the scene's "
                            "selective-search proposals, 24 jittered copies of each ground-truth box, "
                            "the ground truth and 48 random boxes",
                 "test": {"first_seed": data.SCENE_SEEDS["test"][0], "count": TEST_SCENES,
                          "objects": list(data.EVAL_OBJECTS)},
                 "label_offset": "model label k is SHAPE_CLASSES[k - 1]; 0 is background"},
        "trained": ("only the FC layers after the spatial pyramid; the conv layers are shapes-rcnn's, frozen"
                    if sppnet else "every layer, from scratch"),
        "seed": 0, "train_command": f"workbench train {name} --threads 1"
                                     + ("  (after shapes-rcnn)" if sppnet else ""),
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1), "train_threads": threads,
        "steps": recipe["done"], "planned_steps": recipe["steps"], "finished": recipe["done"] == recipe["steps"],
        "optimizer": {"name": "AdamW", "lr": recipe["lr"], "weight_decay": recipe["weight_decay"],
                      "batch_size": recipe["batch_size"], "schedule": "linear warm-up 50 steps, cosine to 0"},
        "metrics": metrics, "metrics_split": f"test ({TEST_SCENES} scenes, selective-search proposals)",
        "check": check,
        "time_per_image_ms": ms,
        "time_note": "the model alone on one 128x128 image given its proposals (selective search excluded), "
                     f"{threads} thread(s), mean over 20 test scenes, measured right after training",
        "history": history,
        "labels": list(data.DETECTION_LABELS), "input_size": [data.SCENE_SIZE, data.SCENE_SIZE],
        "input": "list of float RGB CHW tensors in [0, 1]; the model normalises inside with "
                 "internal_mean / internal_std",
        "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "grayscale": False,
        "internal_mean": list(IMAGE_MEAN), "internal_std": list(IMAGE_STD),
        "params": sum(p.numel() for p in model.parameters()), "weights_dtype": "float16",
        "torch_version": torch.__version__.split("+")[0],
    }
