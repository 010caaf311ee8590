"""A generated caption and the attention behind each of its words.

``maps`` holds one attention map per word on the model's token grid (each sums to 1);
``heatmap`` is the selected word's map laid onto the image through the handle's geometry, and
``at(i)`` selects another word without running the model again.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workbench.core.geometry import Geometry
from workbench.core.results.base import AttentionMaps, Heatmap


@dataclass
class CaptionAttention(AttentionMaps, Heatmap):
    """``words`` (n), ``maps`` (n, gh, gw) and ``probs`` (n): each word, the attention it was
    written with and the probability the decoder gave it; ``word`` is the selected word."""
    words: list[str] = field(default_factory=list)
    maps: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    word: int = 0
    beam_size: int = 1
    log_prob: float = 0.0
    geometry: Geometry | None = None
    image_hw: tuple[int, int] = (0, 0)
    image: np.ndarray | None = None   # the RGB image captioned (figures draw it when given none)

    kind = "caption"

    @property
    def caption(self) -> str:
        return " ".join(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def map_on_image(self, index: int) -> np.ndarray:
        grid_map = np.asarray(self.maps[index], np.float32)
        if self.geometry is None:
            return grid_map
        return self.geometry.map_to_image(grid_map, self.image_hw)

    def image_maps(self) -> np.ndarray:
        """(n, H, W): every word's map on the image."""
        if not self.words:
            return np.zeros((0, *self.image_hw), np.float32)
        return np.stack([self.map_on_image(i) for i in range(len(self.words))])

    def word_title(self, index: int) -> str:
        return f'"{self.words[index]}" (word {index + 1} of {len(self.words)}, p {self.probs[index]:.2f})'

    def at(self, index: int) -> "CaptionAttention":
        """The same caption with word ``index`` selected (its map as the heatmap)."""
        if not self.words:
            return replace(self, word=0, title=f"{self.method}: no words")
        if not 0 <= index < len(self.words):
            raise IndexError(f"word {index} out of range: the caption has {len(self.words)} words")
        amap = np.asarray(self.maps[index], np.float32)
        return replace(self, word=index, attribution=amap, heatmap=self.map_on_image(index),
                       params={**self.params, "word": index},
                       title=f"{self.caption} — attention for {self.word_title(index)}")

    def arrays(self) -> dict[str, np.ndarray]:
        return {**Heatmap.arrays(self), "words": np.array(self.words, dtype=str),
                "maps": np.asarray(self.maps, np.float32), "maps_on_image": self.image_maps(),
                "word_probs": np.asarray(self.probs, np.float64)}

    def meta(self) -> dict[str, Any]:
        return {**Heatmap.meta(self), "caption": self.caption, "words": list(self.words),
                "word": self.word, "beam_size": self.beam_size, "log_prob": self.log_prob,
                "grid_hw": list(self.grid_hw),
                "geometry": self.geometry.to_dict() if self.geometry else None}
