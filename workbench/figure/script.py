"""Export as Script: a short matplotlib program that redraws a result's figure from an npz.

``write_script`` writes two files: an npz with what the figure shows (the result's arrays, the
RGB image under overlays, and each layer's style: colormap name and table, levels, colours) and
a Python file that loads it with ``np.load`` and draws the figure with matplotlib, so a
researcher can restyle it for a journal. The script takes ``--out FILE`` (any format matplotlib
writes) and otherwise shows a window. Overlays, grids, scores and curves are covered; the script
parts live in ``workbench.figure.script_parts``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core import colormaps
from workbench.core.atomic import atomic_path
from workbench.core.canvas_layers import (BoxesLayer, HeatmapLayer, ImageLayer, Layer, LinesLayer, MaskLayer,
                                          PointsLayer, SegmentationLayer, class_color)
from workbench.core.renderers import renderer_for
from workbench.core.results import Result
from workbench.figure import montage, script_parts as parts
from workbench.figure.paint import box_color, colorbar_layer, content_size, point_colors, segment_color
from workbench.figure.render import overlay_layers

LAYER_KINDS = {HeatmapLayer: "heatmap", BoxesLayer: "boxes", MaskLayer: "masks", SegmentationLayer: "segmentation",
               PointsLayer: "points", LinesLayer: "lines"}


def companion_npz(script_path: str | Path) -> Path:
    """The npz a script at ``script_path`` reads by default: ``fig.py`` -> ``fig.figure.npz`` (so it
    never collides with a result's own ``fig.npz``)."""
    return Path(script_path).with_suffix(".figure.npz")


def figure_kind(result: Result, layers: list[Layer] | None = None) -> str:
    """"scores", "curves", "grid" or "overlay": how the script draws ``result`` (its renderer says)."""
    kind = renderer_for(result).script
    if kind in ("scores", "curves", "grid"):
        return kind
    if kind == "overlay" and _shown(layers if layers is not None else overlay_layers(result)):
        return "overlay"
    raise ValueError(f"a {result.kind} result has no figure to write as a script; export its npz instead")


def _shown(layers: list[Layer]) -> list[Layer]:
    return [l for l in layers if l.visible and (type(l) in LAYER_KINDS or isinstance(l, ImageLayer))]


def _prefixes(layers: list[Layer]) -> list[str]:
    """One npz key prefix per layer: its kind, numbered from the second of a kind (boxes, boxes_2)."""
    seen: dict[str, int] = {}
    out = []
    for layer in layers:
        kind = LAYER_KINDS[type(layer)]
        seen[kind] = seen.get(kind, 0) + 1
        out.append(kind if seen[kind] == 1 else f"{kind}_{seen[kind]}")
    return out


def script_arrays(result: Result, image: np.ndarray | None = None, layers: list[Layer] | None = None,
                  colormap: str | None = None, shared: bool = False,
                  columns: int | None = None) -> dict[str, np.ndarray]:
    """What the script's npz holds. ``layers``: the overlays as drawn (default: as the Image tab
    draws the result); ``colormap``, ``shared`` and ``columns``: how a grid is coloured and laid
    out (as ``render.export_grid`` takes them)."""
    data: dict[str, np.ndarray] = {"params": np.array(result.params_json()), "title": np.array(result.title)}
    kind = figure_kind(result, layers)
    if kind == "scores":
        data.update(parts.scores_arrays(result))
    elif kind == "curves":
        data["x"] = np.asarray(result.x)
        data["series_names"] = np.array(list(result.series), dtype=str)
        data.update({f"series_{k}": np.asarray(v) for k, v in result.series.items()})
    elif kind == "grid":
        data.update(_grid_arrays(result.as_grid(), colormap, shared, columns))
    else:
        overlays = _shown(layers if layers is not None else overlay_layers(result))
        images = [l for l in overlays if isinstance(l, ImageLayer)]
        if image is None and images:
            image = images[0].image
        if image is not None:
            data["image"] = np.ascontiguousarray(np.asarray(image)[..., :3], np.uint8)
        overlays = [l for l in overlays if not isinstance(l, ImageLayer)]
        for prefix, layer in zip(_prefixes(overlays), overlays):
            data.update(_layer_arrays(prefix, layer))
    return data


def _layer_arrays(p: str, layer: Layer) -> dict[str, np.ndarray]:
    if isinstance(layer, HeatmapLayer):
        return {p: np.asarray(layer.data, np.float32), f"{p}_levels": np.asarray(layer.levels, np.float64),
                f"{p}_cmap": np.array(layer.colormap), f"{p}_lut": colormaps.lut(layer.colormap)}
    if isinstance(layer, BoxesLayer):
        n = len(np.asarray(layer.boxes).reshape(-1, 4))
        given = list(getattr(layer, "scores", []) or [])
        scores = given if len(given) == n else list(range(n))
        return {p: np.asarray(layer.boxes, np.float32).reshape(-1, 4),
                f"{p}_texts": np.array([layer.texts[i] if i < len(layer.texts) else "" for i in range(n)], dtype=str),
                f"{p}_colors": np.array([box_color(layer, i) for i in range(n)], np.uint8).reshape(-1, 3),
                f"{p}_order": np.argsort(np.asarray(scores, np.float64), kind="stable"),
                **_value_colours(p, layer)}
    if isinstance(layer, MaskLayer):
        masks = np.asarray(layer.masks)
        masks = masks if masks.dtype == bool else masks > 0.5
        colors = [layer.colors[i % len(layer.colors)] if layer.colors else (230, 25, 75) for i in range(len(masks))]
        return {p: masks, f"{p}_colors": np.array(colors, np.uint8).reshape(-1, 3)}
    if isinstance(layer, SegmentationLayer):
        mask = np.asarray(layer.mask, np.int64)
        n = int(mask.max()) + 1 if mask.size else 1
        return {p: mask, f"{p}_names": np.array([layer.class_name(c) for c in range(n)], dtype=str),
                f"{p}_colors": np.array([class_color(c) for c in range(n)], np.uint8),
                f"{p}_hidden": np.array(sorted(layer.hidden), np.int64)}
    if isinstance(layer, PointsLayer):
        return {p: np.asarray(layer.points, np.float32).reshape(-1, 2),
                f"{p}_colors": np.array(point_colors(layer), np.uint8).reshape(-1, 3)}
    segments = np.asarray(layer.segments, np.float32).reshape(-1, 2, 2)
    return {p: segments, f"{p}_colors": np.array([segment_color(layer, i) for i in range(len(segments))],
                                                 np.uint8).reshape(-1, 3)}


def _value_colours(p: str, layer: BoxesLayer) -> dict[str, np.ndarray]:
    """Boxes coloured by a value (proposals by objectness): the colormap and range of their colorbar."""
    name = getattr(layer, "colormap", "")
    if not name:
        return {}
    return {f"{p}_cmap": np.array(name), f"{p}_lut": colormaps.lut(name),
            f"{p}_levels": np.asarray(getattr(layer, "levels", (0.0, 1.0)), np.float64)}


def _grid_arrays(grid: Any, colormap: str | None, shared: bool, columns: int | None) -> dict[str, np.ndarray]:
    tiles = np.asarray(grid.tiles)
    if len(tiles) == 0:
        raise ValueError("nothing to write: the grid has no tiles")
    rows, cols = montage.grid_shape(len(tiles), columns)
    out: dict[str, np.ndarray] = {"titles": np.array(list(grid.titles), dtype=str)}
    levels = montage.scalar_levels(grid, shared)
    if levels:
        name = montage.tile_colormap(grid, colormap)
        out.update(tiles=np.asarray(tiles[..., 0] if tiles.ndim == 4 else tiles, np.float32),
                   tile_levels=np.asarray(levels, np.float64), tiles_cmap=np.array(name),
                   tiles_lut=colormaps.lut(name))
    else:
        out["tiles"] = np.stack(montage.tile_images(grid))
    sweep = montage.sweep_labels(list(grid.titles), rows, cols)
    if sweep is not None:
        out.update(column_labels=np.array(sweep[0], dtype=str), row_labels=np.array(sweep[1], dtype=str))
    return out


def figure_script(result: Result, npz_name: str, layers: list[Layer] | None = None,
                  colormap: str | None = None, shared: bool = False, columns: int | None = None) -> str:
    """The Python source that redraws ``result``'s figure from ``npz_name`` (a path relative to the
    script's folder) as ``script_arrays`` writes it."""
    kind = figure_kind(result, layers)
    if kind == "scores":
        return parts.header(result, npz_name) + parts.scores_body(result)
    if kind == "curves":
        return parts.header(result, npz_name) + parts.curves_body()
    if kind == "grid":
        grid = result.as_grid()
        rows, cols = montage.grid_shape(len(grid.tiles), columns)
        scalar = bool(montage.scalar_levels(grid, shared))
        sweep = montage.sweep_labels(list(grid.titles), rows, cols) is not None
        return parts.header(result, npz_name, [] if sweep else ["textwrap"]) + parts.grid_body(
            rows, cols, scalar, sweep, montage.tile_colormap(grid, colormap))
    overlays = _shown(layers if layers is not None else overlay_layers(result))
    w, h = content_size(overlays)
    overlays = [l for l in overlays if not isinstance(l, ImageLayer)]
    bar = colorbar_layer(overlays)
    blocks = [parts.layer_block(prefix, layer, layer is bar) for prefix, layer in zip(_prefixes(overlays), overlays)]
    return parts.header(result, npz_name, parts.overlay_imports(blocks)) + parts.overlay_body(w, h, blocks)


def write_script(result: Result, npz_path: str | Path, script_path: str | Path, image: np.ndarray | None = None,
                 layers: list[Layer] | None = None, colormap: str | None = None, shared: bool = False,
                 columns: int | None = None) -> tuple[Path, Path]:
    """Write the npz (``script_arrays``) and the script that redraws the figure from it; each file
    is written under a temporary name and renamed into place only when both are complete."""
    npz_path, script_path = Path(npz_path), Path(script_path)
    if npz_path.suffix.lower() != ".npz":
        raise ValueError(f"the script's arrays go in an .npz file, not {npz_path.name!r}")
    if script_path.suffix.lower() != ".py":
        raise ValueError(f"the script must be a .py file, not {script_path.name!r}")
    if os.path.abspath(npz_path) == os.path.abspath(script_path):
        raise ValueError(f"the npz and the script cannot both be {npz_path}")
    arrays = script_arrays(result, image, layers, colormap, shared, columns)
    rel = os.path.relpath(os.path.abspath(npz_path), os.path.dirname(os.path.abspath(script_path)))
    source = figure_script(result, Path(rel).as_posix(), layers, colormap, shared, columns)
    with atomic_path(npz_path) as tmp_npz, atomic_path(script_path) as tmp_py:
        with open(tmp_npz, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        tmp_py.write_text(source, encoding="utf-8")
    return npz_path, script_path
