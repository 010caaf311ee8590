"""An embedding: a dataset's images laid out in 2-D from one layer's features."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import atomic_path
from workbench.core.results.base import Result

SPACES = ("features", "pixels")
COLOUR_BY = ("label", "prediction")


@dataclass
class Embedding(Result):
    """``points`` (N, 2) from ``projection`` of ``features`` (N, D, pooled at ``layer``); each point is image
    ``ids[i]`` of ``dataset`` with its ``labels`` (-1: none) and the model's ``predictions`` (-1: none).
    ``thumbnails`` (N, s, s, 3) uint8 are shown on hover and are the pixel space neighbours are found in."""
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    predictions: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    thumbnails: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 3), np.uint8))
    label_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)   # the model's classes, for predictions
    layer: str = ""
    projection: str = ""
    dataset: str = ""
    paths: list[str] = field(default_factory=list)
    agreement: float = float("nan")    # label agreement of the k nearest neighbours in feature space
    finished: bool = True

    kind = "embedding"

    def __len__(self) -> int:
        return len(self.points)

    def colour_values(self, by: str) -> tuple[np.ndarray, list[str]]:
        """Per point a category index (-1: none) and the categories' names."""
        if by == "label":
            return self.labels, self.label_names
        if by == "prediction":
            return self.predictions, self.class_names
        raise ValueError(f"colour by {by!r}? one of {', '.join(COLOUR_BY)}")

    def space(self, name: str) -> np.ndarray:
        if name == "features":
            return self.features
        if name == "pixels":
            return self.thumbnails.reshape(len(self.thumbnails), -1).astype(np.float32) / 255.0
        raise ValueError(f"neighbours in {name!r}? one of {', '.join(SPACES)}")

    def neighbours(self, index: int, k: int = 8, space: str = "features") -> np.ndarray:
        """Indices of the k points nearest point ``index`` in feature or pixel space, nearest first."""
        from workbench.core.embedding.neighbours import nearest
        return nearest(self.space(space), index, k)[0]

    def name_of(self, index: int) -> str:
        label = int(self.labels[index])
        what = self.label_names[label] if 0 <= label < len(self.label_names) else "no label"
        pred = int(self.predictions[index]) if len(self.predictions) else -1
        text = f"{self.dataset} #{int(self.ids[index])}: {what}"
        if 0 <= pred < len(self.class_names):
            text += f", predicted {self.class_names[pred]}"
        return text

    def image_of(self, index: int) -> tuple[np.ndarray, str]:
        """The full image behind point ``index`` (not its thumbnail), and a name for it."""
        from workbench.core.embedding.dataset import item_image
        if not 0 <= index < len(self):
            raise ValueError(f"no point {index}; the embedding has {len(self)}")
        return item_image(self.dataset, int(self.ids[index]), self.paths[index] if self.paths else "")

    def write_csv(self, path: str | Path, selected: np.ndarray | None = None) -> Path:
        """One row per point; with ``selected`` (indices) a column saying which points the lasso holds."""
        path = Path(path)
        chosen = np.zeros(len(self), bool)
        if selected is not None:
            chosen[np.asarray(selected, np.int64)] = True
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["id", "x", "y", "label", "label_name", "prediction", "prediction_name"]
                         + (["selected"] if selected is not None else []))
            for i in range(len(self)):
                label, pred = int(self.labels[i]), int(self.predictions[i]) if len(self.predictions) else -1
                out.writerow([int(self.ids[i]), f"{self.points[i, 0]:.6g}", f"{self.points[i, 1]:.6g}", label,
                              self.label_names[label] if 0 <= label < len(self.label_names) else "", pred,
                              self.class_names[pred] if 0 <= pred < len(self.class_names) else ""]
                             + ([int(chosen[i])] if selected is not None else []))
        return path

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coordinates": self.points, "labels": self.labels, "ids": self.ids, "predictions": self.predictions,
                "features": self.features, "thumbnails": self.thumbnails}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "layer": self.layer, "projection": self.projection, "dataset": self.dataset,
                "label_names": self.label_names, "class_names": self.class_names,
                "label_agreement": None if np.isnan(self.agreement) else round(float(self.agreement), 4),
                "finished": self.finished}

