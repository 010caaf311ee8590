"""Activation maximisation: the image that most excites a class, a channel or a unit.

Gradient ascent on the input from noise (Erhan et al. 2009; Simonyan et al. 2014 for a class;
Yosinski et al. 2015 and Olah et al. 2017 for the regularisers and the Fourier parametrisation),
through the shared loop of ``core.optimize``. ``target=channels`` renders every channel of the
layer and ``target=classes`` every class, a batch of images at a time. A preview is yielded every
few steps. ``parametrisation=object`` draws one silhouette on a plain background instead of free
pixels, for a classifier of whole objects whose pooling would otherwise reward a texture of parts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from workbench.core.context import Context, Partial, Progress
from workbench.core.optimize import objectives as O
from workbench.core.optimize import settings as S
from workbench.core.optimize import target_spec as T
from workbench.core.optimize.loop import ascend
from workbench.core.optimize.parametrisation import WITH_OBJECT, ModelInput, make_image
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.features import Visualisation

CLASS_SCORES = {"log-odds": O.class_log_odds, "log-probability": O.class_log_probability, "logit": O.class_logit}


@dataclass
class Params:
    target: str = field(default="class", metadata=param(
        "Target", help=f"what to maximise: {T.FORMS} (class alone: the chosen class, else the top prediction)"))
    layer: str = field(default="", metadata=param(
        "Layer", choices="layers", help="for channel, unit and channels targets; empty: the last conv layer"))
    class_score: str = field(default="log-odds", metadata=param(
        "Class score", choices=tuple(CLASS_SCORES),
        help="log-odds: the class against the others, still growing once it wins; log-probability: the same, "
             "flat once it wins (sparser, fainter images); logit: the unnormalised score (Simonyan et al.), "
             "which raises look-alike classes too"))
    parametrisation: str = field(default="fourier", metadata=param(
        "Parametrisation", choices=WITH_OBJECT,
        help="fourier: colour-decorrelated spectrum (Olah et al. 2017); pixel: free pixels; object: one "
             "silhouette of one colour on a plain background, only its outline optimised (for classes of whole "
             "objects, such as the shapes world's: free pixels become a texture of the class's corners)"))
    steps: int = field(default=256, metadata=param("Steps", range=(1, 10000), step=16))
    lr: float = field(default=0.05, metadata=param("Learning rate", range=(0.0001, 10.0), step=0.01, help="Adam's"))
    size: int = field(default=0, metadata=param(
        "Size", range=(0, 1024), step=8, at_minimum="model input", help="side of the image in pixels"))
    preset: str = S.regulariser("preset")
    decay: float = S.regulariser("decay")
    blur_every: int = S.regulariser("blur_every")
    blur_sigma: float = S.regulariser("blur_sigma")
    jitter: float = S.regulariser("jitter")
    tv: float = S.regulariser("tv")
    scale: float = S.regulariser("scale")
    max_channels: int = field(default=64, metadata=param(
        "Max channels", range=(1, 4096), step=1, help="channels target: how many, from the first"))
    batch: int = field(default=16, metadata=param(
        "Batch", range=(1, 256), step=1, help="channels and classes targets: images optimised together"))
    preview_every: int = field(default=8, metadata=param("Preview every", range=(1, 10000), step=1, help="steps"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    h = ctx.handle
    spec = T.parse(p.target)
    layer = ""
    if spec.kind not in (T.CLASS, T.CLASSES):
        layer = p.layer or (h.conv_layers() or [""])[-1]
        if not layer:
            raise ValueError(f"{h.id} has no conv layers; choose a layer for target {p.target!r}")
        h.layer(layer)       # a clear message for an unknown layer
    side = (p.size, p.size) if p.size else tuple(h.input_size)
    regs = S.regularisers(p)
    target_class = _class_index(ctx, spec) if spec.kind == T.CLASS else None
    plan = _plan(ctx, p, spec, layer, target_class)
    done: list[np.ndarray] = []
    values: list[float] = []
    result = None
    total = len(plan) * p.steps
    for batch_no, (objective, titles, _classes) in enumerate(plan):
        gen = S.seeded(p.seed + ctx.seed + batch_no)
        image = make_image(p.parametrisation, (len(titles), 3, *side), gen, ctx.device)
        for snap in ascend(h.module, image, objective, ModelInput(h.preprocess, ctx.device), p.steps, p.lr, regs, gen,
                           every=p.preview_every, check=ctx.cancel.check, method="activation maximisation"):
            steps_done = batch_no * p.steps + snap.step
            yield Progress(steps_done / total, f"{objective.label}: step {snap.step}/{snap.steps}")
            images = np.concatenate([*done, snap.images]) if done else snap.images
            now = np.array(values + list(snap.values), np.float32)
            result = _result(ctx, p, spec, layer, target_class, plan, images, now, snap.curve, steps_done, total)
            if not (snap.final and batch_no == len(plan) - 1):
                yield Partial(result)
        done.append(snap.images)
        values += list(snap.values)
    return result


def _plan(ctx: Context, p: Params, spec: T.TargetSpec, layer: str,
          target_class: int | None) -> list[tuple[O.Objective, list[str], list[int | None]]]:
    """The loops to run: one objective each, with its images' titles and the class each aims at."""
    h = ctx.handle
    score = CLASS_SCORES[p.class_score]
    if target_class is not None:
        return [(score(target_class, h.label(target_class)), [h.label(target_class)], [target_class])]
    if spec.kind == T.CLASSES:
        from workbench.core.targets import class_count
        if h.task != "classify" or not class_count(h):
            raise ValueError(f"target classes needs a classifier; {h.id} is a {h.task} model")
        return [(score(torch.tensor(list(b), device=ctx.device)), [h.label(c) for c in b], list(b))
                for b in _batches(class_count(h), p.batch)]
    channels = _channel_count(ctx, layer)
    if spec.kind == T.CHANNELS:
        return [(O.channel(layer, torch.tensor(list(b), device=ctx.device)), [f"channel {c}" for c in b],
                 [None] * len(b)) for b in _batches(min(channels, p.max_channels), p.batch)]
    if spec.index >= channels:
        raise ValueError(f"{layer} has {channels} channels (0-{channels - 1}); {spec.kind} {spec.index} is not one")
    make = O.channel if spec.kind == T.CHANNEL else O.unit
    return [(make(layer, spec.index), [f"{layer} {spec.kind} {spec.index}"], [None])]


def _batches(count: int, size: int) -> list[range]:
    return [range(s, min(count, s + size)) for s in range(0, count, size)]


def _class_index(ctx: Context, spec: T.TargetSpec) -> int:
    h = ctx.handle
    if h.task != "classify":
        raise ValueError(f"a class target needs a classifier; {h.id} is a {h.task} model: aim at channel:N or unit:N")
    if spec.name:
        return h.class_index(spec.name)
    if spec.index is not None:
        from workbench.core.targets import check_target
        return check_target(h, spec.index)
    if ctx.target is None and ctx.image is None:
        raise ValueError("which class? set target=class:NAME (or --target), or open an image to use its top class")
    return ctx.resolve_target()


def _channel_count(ctx: Context, layer: str) -> int:
    shape = next((info.output_shape for info in ctx.handle.layers() if info.name == layer), None)
    if not shape or len(shape) < 2:
        raise ValueError(f"layer {layer!r} has no channels to aim at (output {shape}); choose a conv layer")
    return int(shape[1]) if len(shape) != 3 else int(shape[2])


def _result(ctx: Context, p: Params, spec: T.TargetSpec, layer: str, target_class: int | None, plan,
            images: np.ndarray, values: np.ndarray, curve: list[float], step: int, steps: int) -> Visualisation:
    h = ctx.handle
    titles = [t for _, ts, _ in plan for t in ts][: len(images)]
    classes = [c for _, _, cs in plan for c in cs][: len(images)]
    probs = S.class_probabilities(h, images, ctx.device)
    if probs is not None:
        titles = [t if c is None else f"{t}: p={probs[i, c]:.2f}" for i, (t, c) in enumerate(zip(titles, classes))]
    what = {T.CHANNELS: f"every channel of {layer}", T.CLASSES: f"every class, {p.class_score}"}.get(
        spec.kind, plan[0][0].label)
    target = spec.text() if target_class is None else f"class:{target_class}"
    return Visualisation(method="actmax", model=h.id, params={**as_dict(p), "target": target, "layer": layer},
                         images=images, titles=titles, curve=np.asarray(curve, np.float32), values=values,
                         probabilities=probs, labels=list(h.labels), layer=layer, step=step, steps=steps,
                         title=f"activation maximisation: {what}")


METHOD = Method(name="actmax", kind="features", tasks=("classify",), params=Params, run=run,
                title="Activation maximisation", needs_image=False,
                description="The image that most excites a class, a channel or a unit, by regularised gradient ascent.")
