"""Run a method over every image of a batch, in this process or on Ray, resuming where a stopped run
left off. This process alone writes the output folder (see ``store``); Ray's actors only compute."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from workbench.core.batch.items import DATASET_PREFIX, Item, resolve_items
from workbench.core.batch.store import ERROR, OK, BatchStore
from workbench.core.batch.work import ItemRunner, Outcome

if TYPE_CHECKING:
    from workbench.core.registry import Method


@dataclass(frozen=True)
class BatchProgress:
    done: int            # items finished, in this run and before it
    total: int
    failed: int          # of those done, how many are error rows
    resumed: int         # items that were already done when this run started
    seconds: float       # since this run started
    last: Outcome | None = None

    @property
    def rate(self) -> float:
        """Items per second in this run."""
        ran = self.done - self.resumed
        return ran / self.seconds if self.seconds > 0 else 0.0


def run_batch(method: "Method", model: str, images: str, out: str | os.PathLike, params: dict[str, Any] | None = None,
              target: str | None = None, workers: int = 0, address: str | None = None, device: str = "cpu",
              retry_errors: bool = False, on_progress: Callable[[BatchProgress], None] | None = None,
              check: Callable[[], None] = lambda: None):
    """Compute every item of ``images`` not yet in ``out`` with ``method`` (a registered Method); the
    index as a pyarrow Table.

    ``workers`` 0 and no ``address``: here, one item after another. ``workers`` N: a local Ray cluster
    with N actors, each holding the model. ``address``: an existing Ray cluster (as many actors as
    ``workers``, default one per GPU or per CPU). ``check`` raises to stop (the run is resumable)."""
    params = _plain_params(params)
    _check_method(method, params)
    if workers or address:
        from workbench.core.batch.ray_pool import require_ray
        require_ray()                      # before anything is written
    items = resolve_items(images)
    store = BatchStore(out)
    store.open({"method": method.name, "model": model, "params": params, "target": target,
                "images": _normalised(images)})
    rows = _recover(store, store.rows(), items)
    todo = [it for it in items if it.key not in rows or (retry_errors and rows[it.key]["status"] == ERROR)]
    done_keys = {it.key for it in items if it.key in rows} - {it.key for it in todo}
    failed = sum(rows[k]["status"] == ERROR for k in done_keys)
    start, resumed = time.perf_counter(), len(done_keys)

    def report(last: Outcome | None) -> None:
        if on_progress is not None:
            on_progress(BatchProgress(len(done_keys), len(items), failed, resumed, time.perf_counter() - start, last))

    report(None)
    try:
        check()
        for outcome in _outcomes(todo, method, model, params, target, workers, address, device):
            npz = store.save_item(outcome.item.key, outcome.npz, outcome.params_json) if outcome.status == OK else ""
            store.append(outcome.row(npz))
            done_keys.add(outcome.item.key)
            failed += outcome.status == ERROR
            report(outcome)
            check()
    finally:
        table = store.write_index()
    return table


def read_index(out: str | os.PathLike):
    """A batch folder's index as a pyarrow Table (from its journal: complete even if the run stopped)."""
    from workbench.core.batch.store import index_table
    store = BatchStore(out)
    if store.manifest() is None:
        raise ValueError(f"{out} is not a batch folder (no batch.json)")
    return index_table(store.rows().values())


def _outcomes(todo: list[Item], method, model, params, target, workers, address, device) -> Iterator[Outcome]:
    if not todo:
        return iter(())
    if workers or address:
        from workbench.core.batch.ray_pool import ray_outcomes
        return ray_outcomes(todo, method, model, params, target, workers, address, device)
    runner = ItemRunner(method, model, params, target, device)
    return (runner(item) for item in todo)


def _recover(store: BatchStore, rows: dict[str, dict], items: Iterable[Item]) -> dict[str, dict]:
    """Give a journal line to each npz a stopped run wrote but did not record (no item is computed twice)."""
    from workbench.core.results.restore import load_result
    for item in items:
        path = store.npz_path(item.key)
        if item.key in rows or not path.is_file():
            continue
        try:
            summary = load_result(path).summary()
        except ValueError:
            continue           # not readable as a result: computed again
        outcome = Outcome(item, OK, float("nan"), "recovered", summary=summary)
        row = outcome.row(path.relative_to(store.root).as_posix())
        store.append(row)
        rows[item.key] = row
    return rows


def _check_method(method: "Method", params: dict[str, Any]) -> None:
    """The method takes these params: checked once, before any item runs."""
    from workbench.core.runner import make_params
    if not method.needs_image:
        raise ValueError(f"method {method.name!r} makes no use of an image: a batch over images would "
                         "repeat one result")
    make_params(method, params)


def _plain_params(params: dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(dict(params or {}), default=str))


def _normalised(images: str) -> str:
    text = str(images).strip()
    if text.lower().startswith(DATASET_PREFIX):
        return text
    return os.path.abspath(os.path.expanduser(text)) if any(c in text for c in "*?[") \
        else str(Path(text).expanduser().resolve())
