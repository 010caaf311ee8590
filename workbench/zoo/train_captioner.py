"""Reproducible training of the bundled captioner: ``workbench train shapes-captioner``.

Scenes come from the detection splits' seeds (``detection_data.SCENE_SEEDS``) with one to
four shapes; training scenes are mirrored at random, relation words swapped to match. The
loss is Xu et al.'s: word cross-entropy plus the doubly stochastic attention penalty
(every cell's attention summed over the words should come near 1). A training-only term
(attention correctness, Liu et al. 2017) adds -log of the attention mass on the cells of the
object that a colour or shape word names, from the scenes' masks; the card records its weight.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from workbench.zoo import catalogue
from workbench.zoo.caption_data import (CAPTION_OBJECTS, caption_scenes, flip_batch,
                                        training_arrays)
from workbench.zoo.caption_eval import evaluate
from workbench.zoo.captioner import CAPTIONER, PAD, VOCABULARY, describe
from workbench.zoo.detection_data import SCENE_SEEDS
from workbench.zoo.reproducible import log_to_stderr, reproducible
from workbench.zoo.train_classification import save

NAME = "shapes-captioner"
# How this recipe was reached, for the card: the run before it and what changed.
RECIPE_HISTORY = [
    "first run (same steps and data; position embedding initialised at random, N(0, 0.02); "
    "attention correctness on colour and shape words only): val BLEU-4 0.677 (exact 0.538), "
    "noun attention on object 0.954, 48.5 min wall on 1 thread; most errors were the "
    "relation word (86 of 231 wrong captions) or its length (71)",
    "this run: the position embedding starts from sines and cosines of the cell's row and "
    "column, and the relation word's attention is drawn to the second object",
]


@dataclass(frozen=True)
class CaptionRecipe:
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 150
    train_scenes: int = 24_000
    val_scenes: int = 500
    test_scenes: int = 500
    doubly_stochastic: float = 1.0
    attention_correctness: float = 1.0
    grad_clip: float = 5.0
    seed: int = 0
    threads: int = 1


def caption_loss(model: nn.Module, x: torch.Tensor, tokens: torch.Tensor, cells: torch.Tensor,
                 recipe: CaptionRecipe) -> tuple[torch.Tensor, dict]:
    logits, alphas = model(x, tokens)
    target = tokens[:, 1:]
    words = nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=PAD)
    valid = (target != PAD).float().unsqueeze(-1)
    stochastic = ((1.0 - (alphas * valid).sum(1)) ** 2).mean()
    named = cells.flatten(2).float()
    has = named.sum(-1) > 0
    inside = (alphas * named).sum(-1)[has]
    correctness = -(inside + 1e-6).log().mean() if has.any() else alphas.sum() * 0
    loss = (words + recipe.doubly_stochastic * stochastic
            + recipe.attention_correctness * correctness)
    return loss, {"words": words.item(), "stochastic": stochastic.item(),
                  "on_object": inside.mean().item() if has.any() else 0.0}


def fit(model: nn.Module, entry: catalogue.ZooEntry, recipe: CaptionRecipe, train: dict,
        val_scenes: list, log: Callable[[str], None]) -> list[dict]:
    rng = np.random.default_rng(recipe.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / recipe.warmup)
                                              * 0.5 * (1 + math.cos(math.pi * min(s, recipe.steps)
                                                                    / recipe.steps)))
    n, order, pos = len(train["images"]), rng.permutation(len(train["images"])), 0
    history, running, t0 = [], [], time.perf_counter()
    report = max(1, recipe.steps // 10)
    for step in range(1, recipe.steps + 1):
        if pos + recipe.batch_size > n:
            order, pos = rng.permutation(n), 0
        idx = np.sort(order[pos:pos + recipe.batch_size])
        pos += recipe.batch_size
        images, tokens, cells = flip_batch(train["images"][idx], train["tokens"][idx],
                                           train["cells"][idx], rng, VOCABULARY)
        model.train()
        loss, parts = caption_loss(model, entry.to_input(images), torch.from_numpy(tokens),
                                   torch.from_numpy(cells), recipe)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        opt.step()
        sched.step()
        running.append(parts)
        if step % report == 0 or step == recipe.steps:
            mean = {k: float(np.mean([p[k] for p in running])) for k in running[0]}
            val = evaluate(model, entry.to_input, val_scenes)
            row = {"step": step, **{k: round(v, 4) for k, v in mean.items()},
                   "val_bleu4": round(val["bleu4"], 4),
                   "val_noun_peak": round(val["noun_attention_peak_on_object"], 4),
                   "seconds": round(time.perf_counter() - t0, 1)}
            history.append(row)
            log(f"{NAME} step {step}/{recipe.steps} words {mean['words']:.4f} "
                f"on-object {mean['on_object']:.3f} val BLEU-4 {val['bleu4']:.4f} "
                f"noun peak {val['noun_attention_peak_on_object']:.3f} "
                f"({row['seconds']:.0f}s)")
            running = []
    return history


def rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def train_captioner(out_dir: Path, *, steps: int | None = None, threads: int = 1,
                    recipe: CaptionRecipe | None = None,
                    log: Callable[[str], None] = log_to_stderr) -> dict:
    """Train, measure on val and test, write the weights and card; one thread by default."""
    recipe = recipe or CaptionRecipe()
    if steps is not None:
        recipe = CaptionRecipe(**{**asdict(recipe), "steps": steps})
    recipe = CaptionRecipe(**{**asdict(recipe), "threads": threads})
    entry = catalogue.get(NAME)
    start, cpu_start = time.perf_counter(), time.process_time()
    with reproducible(recipe.seed, recipe.threads):
        train = training_arrays(caption_scenes("train", recipe.train_scenes))
        monitor = caption_scenes("val", min(200, recipe.val_scenes))
        log(f"{NAME}: {recipe.train_scenes} training scenes rendered "
            f"({time.perf_counter() - start:.0f}s)")
        model = entry.build()
        history = fit(model, entry, recipe, train, monitor, log)
        model.eval()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    val_scenes = caption_scenes("val", recipe.val_scenes)
    val = evaluate(model, entry.to_input, val_scenes)
    val_beam = evaluate(model, entry.to_input, val_scenes, beam_size=3)
    test = evaluate(model, entry.to_input, caption_scenes("test", recipe.test_scenes))
    card = make_card(entry, model, recipe, seconds, cpu_seconds, val, val_beam, test)
    card["history"] = history
    log(f"{NAME}: val BLEU-4 {val['bleu4']:.4f} (beam 3 {val_beam['bleu4']:.4f}), exact "
        f"{val['exact_match']:.3f}, noun attention on object "
        f"{val['noun_attention_peak_on_object']:.3f} (chance "
        f"{val['noun_attention_chance']:.3f}) in {seconds:.0f}s")
    return save(entry, model, out_dir, card)


def make_card(entry, model, recipe: CaptionRecipe, seconds: float, cpu_seconds: float,
              val: dict, val_beam: dict, test: dict) -> dict:
    splits = {"train": recipe.train_scenes, "val": recipe.val_scenes, "test": recipe.test_scenes}
    return {
        "name": entry.name, "task": entry.task,
        "architecture": {"class": type(model).__name__, "description": describe(),
                         "config": {k: list(v) if isinstance(v, tuple) else v
                                    for k, v in CAPTIONER.items()}},
        "data": {"generator": f"workbench.zoo.shapes.render_scene(seed, 128, "
                              f"n_objects={CAPTION_OBJECTS})",
                 "captions": "workbench.zoo.shapes.make_caption: the two largest objects, "
                             "largest first, and where the first is relative to the second",
                 "splits": {s: {"first_seed": SCENE_SEEDS[s][0], "count": c}
                            for s, c in splits.items()},
                 "augment": "random left-right and up-down mirroring, relation words swapped"},
        "seed": recipe.seed, "train_command": f"workbench train {entry.name}",
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "train_threads": recipe.threads, "steps": recipe.steps,
        "optimizer": {"name": "AdamW", "lr": recipe.lr, "weight_decay": recipe.weight_decay,
                      "batch_size": recipe.batch_size, "grad_clip": recipe.grad_clip,
                      "schedule": f"linear warm-up ({recipe.warmup} steps) then cosine to 0"},
        "loss": {"words": "cross-entropy of the next word (teacher forcing)",
                 "doubly_stochastic": recipe.doubly_stochastic,
                 "attention_correctness": recipe.attention_correctness,
                 "attention_correctness_note": (
                     "training only: -log of the attention mass on the grid cells touched by "
                     "the object a colour or shape word names, and for the relation word the "
                     "second object (from the scene masks)")},
        "metrics": {
            "val_bleu4": round(val["bleu4"], 4), "val_bleu4_beam3": round(val_beam["bleu4"], 4),
            "val_exact_match": round(val["exact_match"], 4),
            "val_exact_match_beam3": round(val_beam["exact_match"], 4),
            "test_bleu4": round(test["bleu4"], 4), "test_exact_match": round(test["exact_match"], 4),
            "noun_attention_peak_on_object": round(val["noun_attention_peak_on_object"], 4),
            "noun_attention_chance": round(val["noun_attention_chance"], 4)},
        "metric_notes": {
            "bleu4": "corpus BLEU-4 with brevity penalty (Papineni et al. 2002), one reference "
                     "per scene, greedy decoding unless marked beam3",
            "noun_attention_peak_on_object": (
                f"share of the {val['nouns']} shape nouns of the greedy val captions whose "
                f"attention map's highest cell holds a pixel of the object the noun names "
                f"({val['nouns_unmatched']} nouns naming a shape the scene lacks left out); "
                f"noun_attention_chance: the share of cells those objects touch")},
        "recipe_history": RECIPE_HISTORY,
        "vocabulary": list(VOCABULARY), "input_size": list(entry.input_size),
        "mean": list(entry.mean), "std": list(entry.std),
        "params": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__.split("+")[0],
    }
