"""Where the model's input came from in the image: resize, then centre crop.

Every model-space map or box is mapped back to image pixels through this.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BAND_VALUES = 1 << 22  # floats per band of rows while mapping (16 MB)


@dataclass(frozen=True)
class Geometry:
    input_size: tuple[int, int]          # (h, w) of the tensor the model eats
    resize: str = "stretch"              # "stretch": image -> input_size; "shorter": shorter side -> resize_to
    resize_to: int = 0
    crop: tuple[int, int] | None = None  # centre crop (h, w) after a "shorter" resize

    def crop_box(self, image_hw: tuple[int, int]) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in image pixels of the region the model sees."""
        H, W = image_hw
        if self.resize == "stretch":
            return (0.0, 0.0, float(W), float(H))
        s = self.resize_to / min(H, W)
        rh, rw = round(H * s), round(W * s)
        ch, cw = self.crop or (rh, rw)
        top, left = int(round((rh - ch) / 2.0)), int(round((rw - cw) / 2.0))
        sy, sx = rh / H, rw / W
        return (left / sx, top / sy, (left + cw) / sx, (top + ch) / sy)

    def map_to_image(self, m: np.ndarray, image_hw: tuple[int, int], fill: float = 0.0) -> np.ndarray:
        """Resize a model-space map (any resolution) onto the image; outside the crop is ``fill``.

        Bilinear, with the map's edge values repeated beyond its border. Separable interpolation in
        numpy (one axis, then the other, in bands of rows) has no limit on the image's sides, unlike
        cv2.remap and cv2.resize (under 32,767 px), and never builds a full-size coordinate grid.
        """
        H, W = image_hw
        x0, y0, x1, y1 = self.crop_box(image_hw)
        out = np.full((H, W), fill, dtype=np.float32)
        m = np.asarray(m, dtype=np.float32)
        cols = _inside(W, x0, x1)
        rows = _inside(H, y0, y1)
        if cols.start >= cols.stop or rows.start >= rows.stop:
            return out
        # sample the map at the centre of every image pixel inside the crop box
        left, right, fx = _taps(np.arange(cols.start, cols.stop), x0, x1, m.shape[1])
        across = m[:, left] * (1.0 - fx) + m[:, right] * fx   # (map rows, image columns inside)
        top, bottom, fy = _taps(np.arange(rows.start, rows.stop), y0, y1, m.shape[0])
        band = max(1, _BAND_VALUES // max(1, across.shape[1]))
        for start in range(0, len(top), band):
            stop = min(len(top), start + band)
            wy = fy[start:stop, None]
            target = out[rows.start + start:rows.start + stop, cols]
            np.multiply(across[top[start:stop]], 1.0 - wy, out=target)
            target += across[bottom[start:stop]] * wy
        return out

    def boxes_to_image(self, boxes: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
        """xyxy boxes in input-tensor pixels -> xyxy boxes in image pixels."""
        x0, y0, x1, y1 = self.crop_box(image_hw)
        h, w = self.input_size
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
        b[:, [0, 2]] = x0 + b[:, [0, 2]] * (x1 - x0) / w
        b[:, [1, 3]] = y0 + b[:, [1, 3]] * (y1 - y0) / h
        return b.astype(np.float32)

    def to_dict(self) -> dict:
        return {"input_size": list(self.input_size), "resize": self.resize,
                "resize_to": self.resize_to, "crop": list(self.crop) if self.crop else None}


def _inside(n: int, lo: float, hi: float) -> slice:
    """The pixels (of n along one axis) whose centres lie in [lo, hi]."""
    centres = np.arange(n) + 0.5
    hit = np.flatnonzero((centres >= lo) & (centres <= hi))
    return slice(int(hit[0]), int(hit[-1]) + 1) if hit.size else slice(0, 0)


def _taps(pixels: np.ndarray, lo: float, hi: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two map samples either side of each pixel centre, and the weight of the second."""
    pos = np.clip((pixels + 0.5 - lo) / (hi - lo) * n - 0.5, 0.0, n - 1)
    first = np.floor(pos).astype(np.intp)
    second = np.minimum(first + 1, n - 1)
    return first, second, (pos - first).astype(np.float32)
