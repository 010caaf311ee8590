"""How attribution heatmaps are shown: signed or absolute values, percentile clipping, and one
value range shared across a comparison. Qt-free; the Attribution panel, the Compare tab and
compare figures all colour heatmaps through these functions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core import colormaps
from workbench.core.canvas_layers import HeatmapLayer

MODES = ("signed", "absolute")
DEFAULT_CLIP = 99.5


@dataclass(frozen=True)
class DisplayOptions:
    mode: str = "signed"               # "signed": values as they are; "absolute": |values|
    clip_percentile: float = DEFAULT_CLIP
    # one value range pooled over every panel of a comparison; off by default because methods
    # measure in different units (a Grad-CAM map can be 1000x a gradient map)
    shared: bool = False

    def __post_init__(self) -> None:
        _check(self.mode, self.clip_percentile)


def _check(mode: str, clip: float) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown display mode {mode!r}; use one of {', '.join(MODES)}")
    if not 0 < clip <= 100:
        raise ValueError(f"clip percentile must be in (0, 100], got {clip}")


def display_data(data: np.ndarray, mode: str = "signed") -> np.ndarray:
    """The values that get coloured: the map itself, or its magnitude in absolute mode."""
    _check(mode, 100.0)
    data = np.asarray(data, np.float32)
    return np.abs(data) if mode == "absolute" else data


def _finite(maps: list[np.ndarray]) -> np.ndarray:
    flat = [np.asarray(m, np.float32).ravel() for m in maps]
    values = np.concatenate(flat) if flat else np.zeros((0,), np.float32)
    return values[np.isfinite(values)]


def _levels_of(values: np.ndarray, clip: float) -> tuple[float, float]:
    """Levels for finite display values: symmetric about 0 when any is negative, else [min, clip]."""
    if values.size == 0:
        return (0.0, 1.0)
    if values.min() < 0:
        m = float(np.percentile(np.abs(values), clip))
        return (-m, m) if m > 0 else (-1.0, 1.0)
    lo, hi = float(values.min()), float(np.percentile(values, clip))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def display_levels(data: np.ndarray, mode: str = "signed", clip_percentile: float = DEFAULT_CLIP,
                   shared: tuple[float, float] | None = None) -> tuple[float, float]:
    """The colour range for one map: ``shared`` when given (a comparison's common range), else the
    map's own range with the top ``100 - clip_percentile`` percent of magnitudes saturated.
    Absolute mode starts at 0, so its levels are never negative."""
    _check(mode, clip_percentile)
    if shared is not None:
        return (float(shared[0]), float(shared[1]))
    return shared_levels([data], mode, clip_percentile)


def shared_levels(maps: list[np.ndarray], mode: str = "signed",
                  clip_percentile: float = DEFAULT_CLIP) -> tuple[float, float]:
    """One colour range for several maps, from the percentile of all their values pooled."""
    _check(mode, clip_percentile)
    values = _finite([display_data(m, mode) for m in maps])
    if mode == "absolute":  # magnitudes: the range starts at 0
        hi = float(np.percentile(values, clip_percentile)) if values.size else 0.0
        return (0.0, hi) if hi > 0 else (0.0, 1.0)
    return _levels_of(values, clip_percentile)


def is_signed(levels: tuple[float, float]) -> bool:
    return levels[0] < 0


def display_layer(name: str, data: np.ndarray, options: DisplayOptions,
                  levels: tuple[float, float] | None = None, colormap: str | None = None,
                  **kw) -> HeatmapLayer:
    """A canvas/figure layer showing ``data`` as the options say (``levels``: a shared range).

    Signed ranges get the diverging default colormap and the others the sequential one, unless
    ``colormap`` names another."""
    shown = display_data(data, options.mode)
    lv = display_levels(shown, options.mode, options.clip_percentile, levels)
    signed = is_signed(lv)
    cmap = colormap or (colormaps.SIGNED_DEFAULT if signed else colormaps.UNSIGNED_DEFAULT)
    return HeatmapLayer(name=name, data=shown, colormap=cmap, levels=lv, signed=signed, **kw)


def restyled_layer(layer: HeatmapLayer, data: np.ndarray, options: DisplayOptions) -> HeatmapLayer:
    """``layer`` showing ``data`` as the options say, keeping what the user set on it: a colormap
    other than the defaults, its id, visibility, opacity and colorbar."""
    custom = layer.colormap not in (colormaps.SIGNED_DEFAULT, colormaps.UNSIGNED_DEFAULT)
    return display_layer(layer.name, data, options, colormap=layer.colormap if custom else None, id=layer.id,
                         visible=layer.visible, opacity=layer.opacity, show_colorbar=layer.show_colorbar)


def compare_levels(maps: list[np.ndarray], options: DisplayOptions) -> list[tuple[float, float]]:
    """Each map's colour range in a comparison: the same pooled range for all when shared."""
    if options.shared and maps:
        common = shared_levels(maps, options.mode, options.clip_percentile)
        return [common] * len(maps)
    return [display_levels(m, options.mode, options.clip_percentile) for m in maps]
