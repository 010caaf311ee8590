"""Engine jobs for the window: run a batch (progress and cancel through the job context), read a
batch's index, and open one item as its image and result."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.batch.items import load_item_image
from workbench.core.batch.run import BatchProgress, read_index, run_batch
from workbench.core.batch.store import BatchStore


@dataclass(frozen=True)
class BatchRequest:
    method: Any           # the registered Method
    model: str
    images: str
    out: str
    params: dict[str, Any]
    workers: int = 0


@dataclass(frozen=True)
class BatchIndex:
    folder: str
    manifest: dict[str, Any]
    columns: list[str]
    rows: list[dict[str, Any]]

    @property
    def failed(self) -> int:
        return sum(r.get("status") == "error" for r in self.rows)


@dataclass(frozen=True)
class OpenedItem:
    key: str
    image: np.ndarray
    result: Any           # None for an error row: the image alone opens
    error: str = ""


def run(jc: Any, request: BatchRequest) -> BatchIndex:
    def report(p: BatchProgress) -> None:
        left = (p.total - p.done) / p.rate if p.rate > 0 else None
        eta = f", {left:.0f} s left" if left is not None else ""
        jc.progress(p.done / max(1, p.total), f"batch {request.method.name}: {p.done}/{p.total} images, "
                                              f"{p.failed} failed, {p.rate:.1f}/s{eta}")
    table = run_batch(request.method, request.model, request.images, request.out, request.params,
                      workers=request.workers, device=str(jc.device), on_progress=report, check=jc.check)
    return _index(request.out, table)


def open_index(jc: Any, folder: str) -> BatchIndex:
    return _index(folder, read_index(folder))


def _index(folder: str, table) -> BatchIndex:
    return BatchIndex(str(folder), BatchStore(folder).manifest() or {}, table.column_names, table.to_pylist())


def open_item(jc: Any, folder: str, row: dict[str, Any]) -> OpenedItem:
    """The item's image, read from its source, and its result rebuilt from its npz."""
    from workbench.core.results.restore import load_result
    image = load_item_image(row["image"])
    if row.get("status") != "ok" or not row.get("npz"):
        return OpenedItem(row["key"], image, None, row.get("error") or "no result")
    return OpenedItem(row["key"], image, load_result(Path(folder) / row["npz"]))
