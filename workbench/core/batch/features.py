"""A finished batch of ``feature-vector`` results as a dataset the projector lays out: the vectors
it computed, the images they came from, their labels and the model's predictions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.batch.items import Item, label_names, load_item_image
from workbench.core.batch.run import read_index
from workbench.core.batch.store import OK, BatchStore
from workbench.core.embedding.dataset import Dataset, at_dataset_side
from workbench.core.results.feature_vector import SERIES

METHOD = "feature-vector"


def batch_dataset(folder: str, count: int = 0) -> Dataset:
    """The items of the batch in ``folder`` that finished (the first ``count``; 0: all)."""
    if not folder:
        raise ValueError("dataset batch: choose the batch's folder (a `workbench batch feature-vector` run)")
    manifest = BatchStore(folder).manifest()
    if manifest is None:
        raise ValueError(f"dataset batch: {folder} is not a batch folder (no batch.json)")
    if manifest.get("method") != METHOD:
        raise ValueError(f"dataset batch: the batch in {folder} ran {manifest.get('method')!r}; the projector lays "
                         f"out a batch of {METHOD!r} results")
    rows = [r for r in read_index(folder).to_pylist() if r["status"] == OK]
    if count > 0:
        rows = rows[:count]
    if not rows:
        raise ValueError(f"dataset batch: no finished items in {folder}")
    features, images = [], []
    for row in rows:
        with np.load(Path(folder) / row["npz"], allow_pickle=False) as npz:
            features.append(np.asarray(npz[f"series_{SERIES}"], np.float32))
        images.append(at_dataset_side(load_item_image(row["image"])))
    items = [Item(r["key"], r["image"], int(r["label"])) for r in rows]
    return Dataset(np.stack(images), np.array([i.label for i in items], np.int64),
                   label_names(manifest.get("images", ""), items), np.arange(len(rows)), "batch",
                   paths=[r["image"] for r in rows], features=np.stack(features),
                   predictions=np.array([r.get("predicted", -1) for r in rows], np.int64),
                   layer=str(rows[0].get("layer", "")))
