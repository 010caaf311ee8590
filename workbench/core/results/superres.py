"""A 4x super-resolution: the low-resolution input, bicubic, one or more models' upscales, and
(when the image was the high-resolution truth) that truth with each upscale's PSNR and SSIM."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ImageGrid, Result
from workbench.core.results.loupe import DEFAULT_ZOOM, busiest_point, magnify, region


def _empty_rgb() -> np.ndarray:
    return np.zeros((1, 1, 3), np.uint8)


@dataclass
class SuperResolution(Result):
    """``low``: the input that was enlarged, uint8 (h, w, 3). ``bicubic``: its bicubic 4x upsample,
    uint8 (4h, 4w, 3). ``sr``: each model's upscale, uint8 (K, 4h, 4w, 3), named by ``models``.
    ``original``: the image ``low`` was area-downsampled from (mode "compare"), None when ``low``
    is the image itself (mode "upscale"). ``psnr`` / ``ssim``: of bicubic then each ``sr`` against
    ``original`` (empty without one). ``gray``: the image was gray and every upscale is too."""
    low: np.ndarray = field(default_factory=_empty_rgb)
    bicubic: np.ndarray = field(default_factory=_empty_rgb)
    sr: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 3), np.uint8))
    models: list[str] = field(default_factory=list)
    original: np.ndarray | None = None
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    mode: str = "compare"
    scale: int = 4
    gray: bool = False
    loupe: list[float] = field(default_factory=list)   # [x, y, zoom] as last chosen; empty: automatic

    kind = "superres"

    def loupe_at(self) -> tuple[tuple[float, float], float]:
        """(centre, zoom) of the loupe: as chosen, else where bicubic misses the most of the original
        (compare mode) or where the upscale has the most edges (upscale mode)."""
        if len(self.loupe) == 3:
            return (float(self.loupe[0]), float(self.loupe[1])), float(self.loupe[2])
        if self.original is not None:    # where bicubic loses the most: the detail the models restore
            lost = np.abs(np.asarray(self.original, np.float64) - np.asarray(self.bicubic, np.float64))
            return busiest_point(lost.sum(axis=-1), DEFAULT_ZOOM, of_gradient=False), DEFAULT_ZOOM
        return busiest_point(self.upscales[-1], DEFAULT_ZOOM), DEFAULT_ZOOM

    def loupe_rect(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) of the loupe in upscale pixels."""
        centre, zoom = self.loupe_at()
        return region(np.asarray(self.bicubic).shape, centre, zoom)

    def loupe_views(self) -> list[tuple[str, np.ndarray]]:
        """(title, the loupe's region of each picture of ``panels`` enlarged to the pictures' size)."""
        rect = self.loupe_rect()
        _centre, zoom = self.loupe_at()
        return [(f"{title.splitlines()[0]} ×{zoom:g}", magnify(image, rect, image.shape[:2]))
                for title, image in self.panels()]

    @property
    def names(self) -> list[str]:
        """bicubic, then each model (without its ``zoo:``)."""
        return ["bicubic", *[m.removeprefix("zoo:").split("?")[0] for m in self.models]]

    @property
    def upscales(self) -> list[np.ndarray]:
        """bicubic, then each model's upscale, as ``names``."""
        return [np.asarray(self.bicubic), *[np.asarray(s) for s in self.sr]]

    @property
    def scored(self) -> bool:
        return self.original is not None and len(self.psnr) == len(self.names)

    def score_text(self, index: int) -> str:
        """"PSNR 27.1 dB · SSIM 0.812" for upscale ``index`` ("" without a truth)."""
        if not self.scored:
            return ""
        return f"PSNR {self.psnr[index]:.2f} dB · SSIM {self.ssim[index]:.3f}"

    def panels(self) -> list[tuple[str, np.ndarray]]:
        """(title, uint8 image) of each upscale, then the original when there is one; all one size."""
        out = []
        for i, (name, image) in enumerate(zip(self.names, self.upscales)):
            score = self.score_text(i)
            out.append((f"{name}\n{score}" if score else name, image))
        if self.original is not None:
            out.append(("original", np.asarray(self.original)))
        else:
            low = np.asarray(self.low)
            out.append((f"input ({low.shape[1]}×{low.shape[0]}, nearest)",
                        np.repeat(np.repeat(low, self.scale, 0), self.scale, 1)))
        return out

    def as_grid(self) -> ImageGrid:
        """The pictures, then the loupe's view of each."""
        titles, tiles = zip(*self.panels(), *self.loupe_views())
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input,
                         tiles=np.stack(tiles).astype(np.float32) / 255.0, titles=list(titles), title=self.title)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"low": np.asarray(self.low), "bicubic": np.asarray(self.bicubic), "sr": np.asarray(self.sr)}
        if self.original is not None:
            out["original"] = np.asarray(self.original)
        return out

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "models": list(self.models), "psnr": [float(v) for v in self.psnr],
                "ssim": [float(v) for v in self.ssim], "mode": self.mode, "scale": self.scale,
                "gray": self.gray, "loupe": [float(v) for v in self.loupe]}
