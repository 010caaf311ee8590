"""One table of trainers: ``workbench train NAME`` retrains any bundled model, reproducibly.

Each trainer writes ``NAME.safetensors`` and its ``NAME.json`` model card into a folder (the
bundled models folder unless told otherwise) and returns the card. The options a trainer
takes are listed beside it in the table; ``train`` refuses any other.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

from workbench.zoo import (catalogue, train_classification, train_detection, train_generative,
                           train_segmentation, train_vit)
from workbench.zoo.train_captioner import train_captioner
from workbench.zoo.train_textures import train_textures_cnn
from workbench.zoo.train_rcnn import train_region_detector


@dataclass(frozen=True)
class Trainer:
    """How to retrain one bundled model: ``run(out_dir, **options)`` returns its card."""
    run: Callable[..., dict | None]
    options: tuple[str, ...] = ()


def _detector(name: str) -> Trainer:
    return Trainer(partial(train_detection.train_detector, name),
                   ("checkpoints", "minutes", "until", "threads", "rescore"))


def _train_segmenter(out_dir: Path, *, steps: int | None = None, threads: int = 1) -> dict:
    recipe = train_segmentation.Recipe()
    if steps is not None:
        recipe = replace(recipe, steps=steps)
    return train_segmentation.train_segmenter(out_dir, recipe=recipe, threads=threads)


def _generative(name: str, fit: Callable[..., dict]) -> Trainer:
    def run(out_dir: Path, *, rescore: bool = False, **options: Any) -> dict:
        return train_generative.rescore(name, out_dir) if rescore else fit(out_dir, **options)
    return Trainer(run, ("epochs", "rescore"))


def _train_inpainter(out_dir: Path, *, rescore: bool = False, **options: Any) -> dict:
    from workbench.zoo import train_inpaint
    return train_inpaint.rescore(out_dir) if rescore else train_inpaint.train_digits_inpaint(out_dir, **options)


def _superres(name: str) -> Trainer:
    def run(out_dir: Path, **options: Any) -> dict:
        from workbench.zoo import train_superres
        return train_superres.train(name, out_dir, **options)
    return Trainer(run, ("steps", "threads", "rescore"))


TRAINERS: dict[str, Trainer] = {
    "shapes-cnn": Trainer(train_classification.train_shapes_cnn, ("epochs",)),
    "digits-cnn": Trainer(train_classification.train_digits_cnn, ("epochs",)),
    "textures-cnn": Trainer(train_textures_cnn, ("steps", "threads")),
    "shapes-vit": Trainer(train_vit.train_shapes_vit, ("epochs", "threads")),
    "shapes-maskrcnn": _detector("shapes-maskrcnn"),
    "shapes-fasterrcnn": _detector("shapes-fasterrcnn"),
    "shapes-fcos": _detector("shapes-fcos"),
    "shapes-detr": _detector("shapes-detr"),
    "shapes-yolo": _detector("shapes-yolo"),
    "shapes-rcnn": Trainer(partial(train_region_detector, "shapes-rcnn"), ("checkpoints", "steps", "minutes", "threads")),
    "shapes-sppnet": Trainer(partial(train_region_detector, "shapes-sppnet"), ("checkpoints", "steps", "minutes", "threads")),
    "shapes-rfcn": _detector("shapes-rfcn"),
    "shapes-segmenter": Trainer(_train_segmenter, ("steps", "threads")),
    "shapes-captioner": Trainer(train_captioner, ("steps", "threads")),
    "digits-ae": _generative("digits-ae", train_generative.train_digits_ae),
    "digits-vae": _generative("digits-vae", train_generative.train_digits_vae),
    "digits-dcgan": _generative("digits-dcgan", train_generative.train_digits_dcgan),
    "digits-sngan": _generative("digits-sngan", train_generative.train_digits_sngan),
    "digits-inpaint": Trainer(_train_inpainter, ("epochs", "rescore")),
    "sr-pixel": _superres("sr-pixel"),
    "sr-gan": _superres("sr-gan"),
}


def names() -> list[str]:
    return list(TRAINERS)


def get(name: str) -> Trainer:
    key = name.removeprefix("zoo:")
    if key not in TRAINERS:
        raise KeyError(f"no bundled model {name!r} to train; these are: {', '.join(TRAINERS)}")
    return TRAINERS[key]


def train(name: str, out_dir: Path | str | None = None, **options: Any) -> dict | None:
    """Retrain bundled model ``name`` and write its weights and card into ``out_dir``
    (default: the bundled models folder); returns the card (None if none was written yet)."""
    trainer = get(name)
    unknown = sorted(set(options) - set(trainer.options))
    if unknown:
        takes = ", ".join(trainer.options) or "none"
        raise ValueError(f"{name.removeprefix('zoo:')} takes no option {unknown[0]!r}; "
                         f"its options: {takes}")
    return trainer.run(Path(out_dir) if out_dir is not None else catalogue.MODELS_DIR, **options)
