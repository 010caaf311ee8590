"""The loupe: one region, the same in every upscale, magnified so the pixels can be compared.

A loupe is its centre (x, y in upscale pixels) and its zoom; the region has the image's aspect and
1/zoom of its size, kept inside the image. Without a chosen centre it sits where bicubic loses the
most of the truth (or where the upscale has the most edges), which is where sharpness and PSNR part
ways.
"""
from __future__ import annotations

import numpy as np

DEFAULT_ZOOM = 4.0
ZOOMS = (2.0, 3.0, 4.0, 6.0, 8.0)


def region(shape: tuple[int, ...], centre: tuple[float, float], zoom: float) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the loupe in an image of ``shape`` (H, W, ...)."""
    h, w = int(shape[0]), int(shape[1])
    rw, rh = max(2, min(w, round(w / zoom))), max(2, min(h, round(h / zoom)))
    left = int(np.clip(round(centre[0] - rw / 2), 0, w - rw))
    top = int(np.clip(round(centre[1] - rh / 2), 0, h - rh))
    return left, top, rw, rh


def magnify(image: np.ndarray, rect: tuple[int, int, int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The ``rect`` of ``image`` enlarged to ``out_hw`` by nearest neighbour (pixels stay square blocks)."""
    left, top, rw, rh = rect
    crop = np.asarray(image)[top:top + rh, left:left + rw]
    rows = np.minimum((np.arange(out_hw[0]) + 0.5) * rh / out_hw[0], rh - 1).astype(int)
    cols = np.minimum((np.arange(out_hw[1]) + 0.5) * rw / out_hw[1], rw - 1).astype(int)
    return np.ascontiguousarray(crop[rows][:, cols])


def busiest_point(image: np.ndarray, zoom: float = DEFAULT_ZOOM, of_gradient: bool = True) -> tuple[float, float]:
    """(x, y): the centre of the loupe-sized window holding the most gradient magnitude of ``image``
    (or, ``of_gradient`` False, the most of ``image``'s own values, a map such as an error)."""
    gray = np.asarray(image, np.float64)
    gray = gray.mean(axis=-1) if gray.ndim == 3 else gray
    h, w = gray.shape
    if of_gradient:
        gy, gx = np.gradient(gray)
        energy = np.hypot(gx, gy)
    else:
        energy = gray
    rw, rh = max(2, round(w / zoom)), max(2, round(h / zoom))
    integral = np.pad(energy, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums = (integral[rh:, rw:] - integral[:-rh, rw:] - integral[rh:, :-rw] + integral[:-rh, :-rw])
    top, left = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return float(left + rw / 2), float(top + rh / 2)
