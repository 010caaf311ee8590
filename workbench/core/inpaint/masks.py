"""Inpainting masks: bool (H, W) arrays at the image's size, True where a pixel is missing (the hole).

As files they are PNGs, white = hole: any image whose grey level is at least half-way up is a hole
pixel there. Painting is Qt-free (a round brush along a stroke), so the canvas tool, tests and scripts
share it (OpenCV is imported when first used, off the window's start-up path).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.atomic import atomic_path

HOLE_SHARE = 0.25     # a model pixel is a hole when at least this share of the image pixels over it are


def empty_mask(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(tuple(shape[:2]), bool)


def checked_mask(mask: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``mask`` as a bool (H, W) array; a clear ValueError when it is no 2-D mask or not ``shape[:2]``."""
    m = np.asarray(mask)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"a mask is a 2-D array, got shape {m.shape}")
    if shape is not None and m.shape != tuple(shape[:2]):
        raise ValueError(f"the mask is {m.shape[1]}x{m.shape[0]} pixels but the image is "
                         f"{shape[1]}x{shape[0]}")
    return m.astype(bool) if m.dtype != bool else m


def paint(mask: np.ndarray, points: list[tuple[float, float]], radius: float, hole: bool = True) -> np.ndarray:
    """A copy of ``mask`` with a round brush of ``radius`` pixels dragged through ``points`` (image x, y;
    pixel (r, c) is the square [c, c+1) x [r, r+1)): every pixel whose centre lies within ``radius`` of
    the path is set to hole (``hole``) or back to known (erase). Radius 0 paints the pixels under the path."""
    out = checked_mask(mask).copy()
    if not points:
        return out
    r = max(float(radius), 0.5)
    h, w = out.shape
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] if len(pts) > 1 else pts):
        c0, c1 = int(max(0, np.floor(min(x0, x1) - r))), int(min(w, np.ceil(max(x0, x1) + r) + 1))
        r0, r1 = int(max(0, np.floor(min(y0, y1) - r))), int(min(h, np.ceil(max(y0, y1) + r) + 1))
        if c0 >= c1 or r0 >= r1:
            continue
        yy, xx = np.mgrid[r0:r1, c0:c1] + 0.5
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / length2, 0, 1) if length2 > 0 else 0.0
        near = (xx - x0 - t * dx) ** 2 + (yy - y0 - t * dy) ** 2 <= r * r
        out[r0:r1, c0:c1][near] = hole
    return out


def invert(mask: np.ndarray) -> np.ndarray:
    return ~checked_mask(mask)


def centre_square(shape: tuple[int, ...], fraction: float = 12 / 32) -> np.ndarray:
    """A centred square hole ``fraction`` of the short side wide (12 of 32 pixels by default)."""
    h, w = shape[:2]
    side = max(1, int(round(min(h, w) * fraction)))
    mask = empty_mask((h, w))
    top, left = (h - side) // 2, (w - side) // 2
    mask[top:top + side, left:left + side] = True
    return mask


def to_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The mask resampled to (h, w): a pixel is a hole where at least HOLE_SHARE of the area over it is."""
    import cv2
    m = checked_mask(mask).astype(np.float32)
    h, w = size
    if m.shape == (h, w):
        return m > 0.5
    interp = cv2.INTER_AREA if h <= m.shape[0] and w <= m.shape[1] else cv2.INTER_NEAREST
    return cv2.resize(m, (w, h), interpolation=interp) >= HOLE_SHARE


def load_mask(path: str | Path, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A mask PNG (white = hole) as bool (H, W); resized to ``shape`` (nearest) when it differs."""
    import cv2

    from workbench.core.images import ImageError, load_image
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"mask: no file {path}")
    try:
        rgb = load_image(path)
    except (ImageError, OSError) as exc:
        raise ValueError(f"mask {path.name}: {exc}") from None
    mask = rgb.mean(axis=2) >= 128
    if shape is not None and mask.shape != tuple(shape[:2]):
        h, w = shape[:2]
        mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    return mask


def save_mask(path: str | Path, mask: np.ndarray) -> Path:
    """Write the mask as a greyscale PNG (white = hole), atomically."""
    from PIL import Image
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"a mask is saved as .png, not {path.suffix or 'no suffix'}")
    pixels = checked_mask(mask).astype(np.uint8) * 255
    with atomic_path(path) as tmp:
        Image.fromarray(pixels, mode="L").save(tmp, format="PNG")
    return path
