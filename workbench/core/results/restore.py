"""A result rebuilt from the npz it was saved to (a batch's items, opened later in the window).

The npz holds the result's arrays under their field names and its other fields in ``params``
(JSON); the kind names the type. A type whose arrays do not come back exactly as they were saved
(it renames or derives them) is refused with a message rather than shown wrong.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.geometry import Geometry
from workbench.core.results.base import Result


def result_types() -> dict[str, type[Result]]:
    """Every result type of the workbench (and of the plugins loaded), by kind: the most derived wins."""
    import workbench.core.results as package
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    found: dict[str, type[Result]] = {}
    pending = [Result]
    while pending:
        cls = pending.pop()
        if issubclass(cls, found.get(cls.kind, Result)):
            found[cls.kind] = cls
        pending.extend(cls.__subclasses__())
    return found


def load_result(path: str | Path) -> Result:
    """The result saved at ``path`` (an npz written by ``save_npz``); ValueError if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path} as a result: {exc}") from None
    if "params" not in data:
        raise ValueError(f"{path} holds no result (no 'params' entry)")
    meta = json.loads(str(data.pop("params")))
    kind = meta.get("kind", "")
    cls = result_types().get(kind)
    if cls is None:
        raise ValueError(f"{path.name}: no result type of kind {kind!r} is known here")
    given = data.pop("input")
    values: dict[str, Any] = {"input": given if given.size else None}
    names = {f.name for f in dataclasses.fields(cls)}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _array_field(f, data[f.name])
        elif f.name in meta and f.name != "input":
            values[f.name] = _meta_field(f.name, meta[f.name])
    if "extra" in names:       # a grid's arrays beside its tiles
        values["extra"] = {k: v for k, v in data.items() if k not in names}
    if "series" in names:      # curves: series_NAME
        values["series"] = {k[len("series_"):]: v for k, v in data.items() if k.startswith("series_")}
    try:
        result = cls(**values)
    except TypeError as exc:
        raise ValueError(f"{path.name}: a {kind} result cannot be rebuilt from its file ({exc})") from None
    _check_same(result, data, path, kind)
    return result


def _array_field(f: dataclasses.Field, value: np.ndarray) -> Any:
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if value.ndim == 0 and not isinstance(default, np.ndarray):
        return value.item()
    if value.dtype.kind == "U" and isinstance(default, list):
        return [str(v) for v in value]
    return value


def _meta_field(name: str, value: Any) -> Any:
    if name == "geometry" and isinstance(value, dict):
        crop = value.get("crop")
        return Geometry(tuple(value["input_size"]), value.get("resize", "stretch"), value.get("resize_to", 0),
                        tuple(crop) if crop else None)
    if name in ("image_hw", "input_size") and isinstance(value, list):
        return tuple(value)
    return value


def _check_same(result: Result, saved: dict[str, np.ndarray], path: Path, kind: str) -> None:
    again = {k: np.asarray(v) for k, v in result.arrays().items()}
    if set(again) != set(saved) or any(not _equal(again[k], saved[k]) for k in saved):
        raise ValueError(f"{path.name}: a {kind} result cannot be rebuilt exactly from its file")


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and (a.dtype.kind in "US" or b.dtype.kind in "US" or a.dtype.kind == "O"
                                   or np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
