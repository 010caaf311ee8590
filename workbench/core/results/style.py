"""Style transfer and texture synthesis (Gatys et al.): the image made, with the content and style
it was made from and each step's losses."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ImageGrid
from workbench.core.results.features import Visualisation

TRANSFER, TEXTURE = "transfer", "texture"


def fit_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float (h, w, 3) image centre-cropped to ``shape``'s aspect and resized to it (nearest)."""
    h, w = image.shape[:2]
    th, tw = shape
    if h * tw > w * th:
        ch, cw = max(1, round(w * th / tw)), w
    else:
        ch, cw = h, max(1, round(h * tw / th))
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = image[top:top + ch, left:left + cw]
    rows = np.minimum((np.arange(th) + 0.5) * ch / th, ch - 1).astype(int)
    cols = np.minimum((np.arange(tw) + 0.5) * cw / tw, cw - 1).astype(int)
    return np.ascontiguousarray(crop[rows][:, cols])


@dataclass
class Stylisation(Visualisation):
    """``images[0]``: the result, (H, W, 3) in [0, 1]. ``content``: the content image at that size
    (None in texture mode); ``style``: the style image as its Gram matrices were taken.
    ``style_curve`` and ``content_curve``: the (normalised, unweighted) losses after each step."""
    content: np.ndarray | None = None
    style: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 3), np.float32))
    style_curve: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    content_curve: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    mode: str = TRANSFER
    style_name: str = ""
    style_layers: dict[str, float] = field(default_factory=dict)
    content_layer: str = ""

    kind = "stylisation"

    @property
    def image(self) -> np.ndarray:
        return np.asarray(self.images[0], np.float32)

    def panels(self) -> list[tuple[str, np.ndarray]]:
        """(title, image) for the figure: content (transfer only), style, result; all at the result's size."""
        shape = self.image.shape[:2]
        out = [] if self.content is None else [("content", np.asarray(self.content, np.float32))]
        out.append((f"style: {self.style_name}" if self.style_name else "style",
                    fit_to(np.asarray(self.style, np.float32), shape)))
        out.append((self.titles[0] if self.titles else "result", self.image))
        return out

    def as_grid(self) -> ImageGrid:
        titles, tiles = zip(*self.panels())
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input,
                         tiles=np.stack(tiles).astype(np.float32), titles=list(titles), title=self.title)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {**super().arrays(), "image": self.image, "style": np.asarray(self.style, np.float32),
               "style_curve": np.asarray(self.style_curve, np.float32),
               "content_curve": np.asarray(self.content_curve, np.float32)}
        if self.content is not None:
            out["content"] = np.asarray(self.content, np.float32)
        return out

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "mode": self.mode, "style_name": self.style_name,
                "style_layers": self.style_layers, "content_layer": self.content_layer}
