"""Where the model's input came from in the image: resize, then centre crop.

Every model-space map or box is mapped back to image pixels through this.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


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
        """Resize a model-space map (any resolution) onto the image; outside the crop is ``fill``."""
        H, W = image_hw
        x0, y0, x1, y1 = self.crop_box(image_hw)
        out = np.full((H, W), fill, dtype=np.float32)
        # sample the map at the centre of every image pixel inside the crop box
        xs = (np.arange(W) + 0.5 - x0) / (x1 - x0) * m.shape[1] - 0.5
        ys = (np.arange(H) + 0.5 - y0) / (y1 - y0) * m.shape[0] - 0.5
        inside_x = (np.arange(W) + 0.5 >= x0) & (np.arange(W) + 0.5 <= x1)
        inside_y = (np.arange(H) + 0.5 >= y0) & (np.arange(H) + 0.5 <= y1)
        mx, my = np.meshgrid(xs[inside_x].astype(np.float32), ys[inside_y].astype(np.float32))
        if mx.size:
            sampled = cv2.remap(np.ascontiguousarray(m, dtype=np.float32), mx, my,
                                interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            out[np.ix_(inside_y, inside_x)] = sampled
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
