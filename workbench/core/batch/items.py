"""The images of a batch: every image file under a folder, the files a glob matches, or a bundled
dataset (``dataset:digits``, ``dataset:shapes`` or ``dataset:shapes:N``).

Each item has a key, unique in the batch and stable between runs (the file's path under the
folder, or the dataset's name and the image's id), which names its npz; and a source, what
:func:`load_item_image` reads (a file path, or ``dataset:NAME#ID``).
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.embedding.dataset import (DATASET_PREFIX, SHAPES_FIRST_SEED, image_files, source_image,
                                              subfolder_labels)

DATASETS = ("digits", "shapes")
SHAPES_DEFAULT_COUNT = 2000


@dataclass(frozen=True)
class Item:
    key: str
    source: str
    label: int = -1      # a dataset image's class, a folder image's subfolder; -1: none


def resolve_items(spec: str) -> list[Item]:
    """The items ``spec`` names, in a fixed order; ValueError when it names none."""
    spec = str(spec).strip()
    if spec.lower().startswith(DATASET_PREFIX):
        return _dataset_items(spec[len(DATASET_PREFIX):])
    root = Path(spec).expanduser()
    if root.is_dir():
        return _file_items(root, image_files(root))
    if any(ch in spec for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(os.path.expanduser(spec), recursive=True) if Path(p).is_file())
        if not files:
            raise ValueError(f"no files match {spec!r}")
        return _file_items(Path(os.path.commonpath([str(p.parent) for p in files])), files)
    if root.is_file():
        return _file_items(root.parent, [root])
    raise ValueError(f"--images {spec!r}: not a folder, a glob that matches files, or dataset:NAME "
                     f"({', '.join(DATASETS)})")


def _file_items(root: Path, files: list[Path]) -> list[Item]:
    _groups, labels = subfolder_labels(root, files)
    return [Item(p.relative_to(root).as_posix(), str(p.resolve()), label) for p, label in zip(files, labels)]


def _dataset_items(rest: str) -> list[Item]:
    name, _, count_text = rest.partition(":")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; one of {', '.join(DATASETS)}")
    try:
        count = int(count_text) if count_text else 0
    except ValueError:
        raise ValueError(f"dataset:{rest}: the count after the name must be a whole number") from None
    if count < 0:
        raise ValueError(f"dataset:{rest}: the count must be 0 (all) or more")
    if name == "digits":
        from workbench.zoo import digits
        labels = digits._raw()[1]
        n = len(labels) if count == 0 else min(count, len(labels))
        return [Item(f"digits-{i:04d}", f"{DATASET_PREFIX}digits#{i}", int(labels[i])) for i in range(n)]
    from workbench.zoo.shapes import render_shape
    seeds = range(SHAPES_FIRST_SEED, SHAPES_FIRST_SEED + (count or SHAPES_DEFAULT_COUNT))
    return [Item(f"shapes-{s}", f"{DATASET_PREFIX}shapes#{s}", int(render_shape(s)[1])) for s in seeds]


def load_item_image(source: str) -> np.ndarray:
    """The RGB uint8 image of an item's source; ValueError (naming the file) when it cannot be read."""
    return source_image(source)


def label_names(spec: str, items: list[Item]) -> list[str]:
    """The names of the items' labels: the dataset's classes, or a folder's subfolders."""
    spec = str(spec).strip()
    if spec.lower().startswith(DATASET_PREFIX):
        if spec[len(DATASET_PREFIX):].startswith("digits"):
            from workbench.zoo.digits import DIGIT_CLASSES
            return list(DIGIT_CLASSES)
        from workbench.zoo.shapes import SHAPE_CLASSES
        return list(SHAPE_CLASSES)
    groups: dict[int, str] = {}
    for item in items:
        if item.label >= 0:
            groups[item.label] = item.key.rsplit("/", 1)[0]
    return [groups.get(i, str(i)) for i in range(max(groups, default=-1) + 1)]
