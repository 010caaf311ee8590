"""A batch's output folder: one npz per image (with its params JSON, as ``workbench run --npz`` writes
them), a journal of finished items and the index table.

    OUT/batch.json         what was run: method, model, params, images (a resume must match it)
    OUT/items/KEY.npz      each finished image's result; KEY.json beside it
    OUT/rows.jsonl         one line per finished item (done or failed), appended as each finishes
    OUT/index.parquet      the journal as a table, rewritten when a run stops

Only the process that runs the batch writes here. Every file is written whole and renamed into
place, and a journal line is one append after its npz is in place, so an interrupted run leaves
finished items intact: a resume skips every item with a line, and gives a line to an npz that was
in place when the run stopped before writing it.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from workbench.core.atomic import TEMP_MARK, atomic_path, write_bytes_atomic, write_text_atomic

MANIFEST, JOURNAL, INDEX, ITEMS = "batch.json", "rows.jsonl", "index.parquet", "items"
FORMAT = 1
OK, ERROR = "ok", "error"
FIXED_COLUMNS = ("key", "image", "label", "status", "error", "seconds", "worker", "npz")


class BatchStore:
    def __init__(self, out: str | os.PathLike):
        self.root = Path(out).expanduser()

    # the run's settings

    def open(self, manifest: dict[str, Any]) -> None:
        """Create the folder, or check that the batch already in it was run with the same settings."""
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"--out {self.root}: a file, not a folder")
        given = {"format": FORMAT, **manifest}
        found = self.manifest()
        if found is not None:
            differs = [k for k in given if k != "format" and found.get(k) != given[k]]
            if differs:
                what = ", ".join(f"{k} {found.get(k)!r} (now {given[k]!r})" for k in differs)
                raise ValueError(f"{self.root} holds a batch run with other settings: {what}; "
                                 "give another --out, or the same settings to resume it")
            for stale in (self.root / ITEMS).rglob(f".*{TEMP_MARK}*"):   # a killed run's half-written file
                stale.unlink(missing_ok=True)
            return
        if self.root.is_dir() and any(self.root.iterdir()):
            raise ValueError(f"--out {self.root}: the folder holds other files; give a new or empty folder")
        (self.root / ITEMS).mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.root / MANIFEST, json.dumps(given, indent=1, default=str))

    def manifest(self) -> dict[str, Any] | None:
        path = self.root / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a batch's settings file ({exc})") from None

    # items

    def npz_path(self, key: str) -> Path:
        return self.root / ITEMS / f"{key}.npz"

    def save_item(self, key: str, npz: bytes, params_json: str) -> str:
        """Write an item's npz and its params JSON; the npz's path relative to the folder."""
        path = self.npz_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path.with_suffix(".json"), params_json)
        write_bytes_atomic(path, npz)
        return path.relative_to(self.root).as_posix()

    # the journal

    def append(self, row: dict[str, Any]) -> None:
        line = (json.dumps(_plain(row), allow_nan=True) + "\n").encode()
        fd = os.open(self.root / JOURNAL, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":   # a torn line: end it, so this one stands alone
                line = b"\n" + line
            os.write(fd, line)      # one write: a line is whole, or (killed mid-write) unreadable
            os.fsync(fd)
        finally:
            os.close(fd)

    def rows(self) -> dict[str, dict[str, Any]]:
        """Finished items by key (a torn last line, from a process killed while writing it, is ignored)."""
        path = self.root / JOURNAL
        found: dict[str, dict[str, Any]] = {}
        if not path.is_file():
            return found
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                found[row["key"]] = row
        return found

    # the index

    def write_index(self):
        """The journal as index.parquet, one row per finished item in key order; the table written."""
        import pyarrow.parquet as pq
        table = index_table(self.rows().values())
        with atomic_path(self.root / INDEX) as tmp:
            pq.write_table(table, tmp)
        return table


def index_table(rows: Iterable[dict[str, Any]]):
    """Rows as a pyarrow Table: the fixed columns first, then each result column as first seen; a
    column whose values mix kinds (a number here, text there) is text."""
    import pyarrow as pa
    rows = sorted(rows, key=lambda r: r["key"])
    names = list(FIXED_COLUMNS)
    for row in rows:
        names.extend(k for k in row if k not in names)
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(columns)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None if math.isnan(value) else value
        out[key] = value
    return out
