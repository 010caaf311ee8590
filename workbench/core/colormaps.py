"""256-entry RGB lookup tables, Qt-free, shared by the canvas and figure export."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

_CV2 = {"viridis": cv2.COLORMAP_VIRIDIS, "inferno": cv2.COLORMAP_INFERNO, "magma": cv2.COLORMAP_MAGMA,
        "plasma": cv2.COLORMAP_PLASMA, "turbo": cv2.COLORMAP_TURBO, "jet": cv2.COLORMAP_JET,
        "hot": cv2.COLORMAP_HOT, "cividis": cv2.COLORMAP_CIVIDIS}
# diverging maps for signed data: blue for negative, white at zero, red for positive
_ANCHORS = {"coolwarm": [(59, 76, 192), (221, 221, 221), (180, 4, 38)],
            "bwr": [(0, 0, 255), (255, 255, 255), (255, 0, 0)],
            "gray": [(0, 0, 0), (255, 255, 255)]}
NAMES = tuple(sorted(_CV2)) + tuple(sorted(_ANCHORS))
SIGNED_DEFAULT = "coolwarm"
UNSIGNED_DEFAULT = "inferno"


@lru_cache(maxsize=None)
def lut(name: str) -> np.ndarray:
    """(256, 3) uint8 RGB table for a colormap name."""
    if name in _CV2:
        bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(-1, 1), _CV2[name])
        table = bgr.reshape(256, 3)[:, ::-1]
    elif name in _ANCHORS:
        pts = np.array(_ANCHORS[name], dtype=np.float64)
        x = np.linspace(0, 1, len(pts))
        t = np.linspace(0, 1, 256)
        table = np.stack([np.interp(t, x, pts[:, c]) for c in range(3)], axis=1)
    else:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(NAMES)}")
    out = np.ascontiguousarray(np.round(table).astype(np.uint8))
    out.setflags(write=False)
    return out


def apply(data: np.ndarray, name: str, levels: tuple[float, float]) -> np.ndarray:
    """Colour a 2-D array: values at levels[0] get the first entry, at levels[1] the last."""
    lo, hi = levels
    span = hi - lo if hi > lo else 1.0
    idx = np.clip((np.nan_to_num(data, nan=lo) - lo) / span * 255.0, 0, 255).astype(np.uint8)
    return lut(name)[idx]
