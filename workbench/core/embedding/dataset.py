"""The images an embedding lays out: the bundled shapes and digits sets, or a folder of images.

Each image has an id (the shape's render seed, the digit's index in scikit-learn's 1,797, the
file's position in the sorted folder listing) and a label (-1 where none is known).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = ("digits", "shapes", "folder", "batch")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SHAPES_FIRST_SEED = 2_000_000     # the shapes-cnn test split's first seed; more follow on from it
FILE_SIDE = 64                    # a folder's images, all brought to one size
DATASET_PREFIX = "dataset:"       # a source naming one image of a bundled set: dataset:digits#17, dataset:shapes#SEED


@dataclass
class Dataset:
    images: np.ndarray          # (N, H, W, 3) uint8 RGB
    labels: np.ndarray          # (N,) int64, -1: unknown
    label_names: list[str]
    ids: np.ndarray             # (N,) int64
    name: str
    paths: list[str] | None = None   # for a folder: the file of each image; for a batch: each item's source
    features: np.ndarray | None = None      # (N, D) computed already (a batch of feature vectors)
    predictions: np.ndarray | None = None   # (N,) the model's classes for them, -1: none
    layer: str = ""                         # where those features were read

    def __len__(self) -> int:
        return len(self.images)


def load_dataset(name: str, count: int = 0, folder: str = "") -> Dataset:
    """``count`` images of ``name`` (0: the whole set; shapes has no end, 0 gives 2,000)."""
    if name == "digits":
        return _digits(count)
    if name == "shapes":
        return _shapes(count or 2000)
    if name == "folder":
        return _folder(folder, count)
    raise ValueError(f"unknown dataset {name!r}; one of {', '.join(d for d in DATASETS if d != 'batch')}"
                     + (" (a batch's features: core.batch.features.batch_dataset)" if name == "batch" else ""))


def _digits(count: int) -> Dataset:
    from workbench.zoo import digits
    images, labels = digits._raw()
    n = len(images) if count <= 0 else min(count, len(images))
    rgb = np.repeat(np.asarray(images[:n])[..., None], 3, axis=3)
    return Dataset(rgb, np.asarray(labels[:n], np.int64), list(digits.DIGIT_CLASSES), np.arange(n), "digits")


def _shapes(count: int) -> Dataset:
    from workbench.zoo.shapes import SHAPE_CLASSES, render_shape
    seeds = np.arange(SHAPES_FIRST_SEED, SHAPES_FIRST_SEED + count)
    pairs = [render_shape(int(s)) for s in seeds]
    images = np.stack([p[0] for p in pairs])
    return Dataset(images, np.array([p[1] for p in pairs], np.int64), list(SHAPE_CLASSES), seeds, "shapes")


def _folder(folder: str, count: int) -> Dataset:
    """Every image under ``folder``; those in subfolders take the subfolder's name as label."""
    import cv2
    root = Path(folder).expanduser()
    if not folder or not root.is_dir():
        raise ValueError(f"dataset folder: {folder!r} is not a folder; choose one that holds images")
    files = image_files(root)
    if count > 0:
        files = files[:count]
    groups, labels = subfolder_labels(root, files)
    images = []
    for p in files:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read {p} as an image")
        images.append(at_dataset_side(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)))
    return Dataset(np.stack(images), np.array(labels, np.int64), groups, np.arange(len(files)), "folder",
                   paths=[str(p) for p in files])


def image_files(root: Path) -> list[Path]:
    """Every image file under ``root``, in path order; ValueError when there is none."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    return files


def subfolder_labels(root: Path, files: list[Path]) -> tuple[list[str], list[int]]:
    """The subfolders holding ``files`` (the label names, sorted) and each file's label; -1 for a file
    directly under ``root``."""
    groups = sorted({p.parent.relative_to(root).as_posix() for p in files} - {"."})
    index = {g: i for i, g in enumerate(groups)}
    return groups, [index.get(p.parent.relative_to(root).as_posix(), -1) for p in files]


def at_dataset_side(image: np.ndarray) -> np.ndarray:
    """A folder's or a batch's image at the one size all its images share, so thumbnails and
    pixel-space distances compare like with like."""
    import cv2
    return cv2.resize(image, (FILE_SIDE, FILE_SIDE), interpolation=cv2.INTER_AREA)


def item_image(dataset: str, item_id: int, path: str = "") -> tuple[np.ndarray, str]:
    """The image behind one point, as the model saw it (a folder's file at its full size), and a name for it."""
    if dataset == "digits":
        from workbench.zoo import digits
        images, _ = digits._raw()
        if not 0 <= item_id < len(images):
            raise ValueError(f"digits has images 0 to {len(images) - 1}, not {item_id}")
        return np.repeat(np.asarray(images[item_id])[..., None], 3, axis=2), f"digits #{item_id}"
    if dataset == "shapes":
        from workbench.zoo.shapes import render_shape
        return render_shape(int(item_id))[0], f"shapes #{item_id}"
    if dataset in ("folder", "batch"):
        if not path:
            raise ValueError(f"{dataset} image #{item_id} has no {'file' if dataset == 'folder' else 'source'} recorded")
        return source_image(path), Path(path).name
    raise ValueError(f"unknown dataset {dataset!r}; one of {', '.join(DATASETS)}")


def source_image(source: str) -> np.ndarray:
    """The RGB uint8 image a source names: ``dataset:NAME#ID`` (an image of a bundled set) or a file."""
    if source.startswith(DATASET_PREFIX):
        name, _, ident = source[len(DATASET_PREFIX):].partition("#")
        if name in ("digits", "shapes") and ident.lstrip("-").isdigit():
            return item_image(name, int(ident))[0]
        raise ValueError(f"{source!r} names no bundled image: dataset:digits#N or dataset:shapes#SEED")
    from workbench.core.images import load_image
    return load_image(source)


def thumbnails(images: np.ndarray, side: int) -> np.ndarray:
    """(N, side, side, 3) uint8 copies, area-averaged."""
    import cv2
    if images.shape[1:3] == (side, side):
        return np.ascontiguousarray(images)
    return np.stack([cv2.resize(im, (side, side), interpolation=cv2.INTER_AREA) for im in images])
