"""Typed, numpy-backed, device-free results. Each saves to npz with its params as JSON.

The npz always holds ``input`` (the tensor exactly as fed to the model; empty when the
method used none) and ``params`` (JSON text: method, model, params, target), plus the
result's own arrays from ``arrays()``.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import atomic_open
from workbench.core.geometry import Geometry


@dataclass
class Result:
    method: str = ""
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    input: np.ndarray | None = None
    title: str = ""

    kind = "result"

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def meta(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "model": self.model,
                "params": self.params, "title": self.title}

    def params_json(self) -> str:
        """What the npz's ``params`` holds: method, model, params, target and the like, as JSON."""
        return json.dumps(self.meta(), default=_json_default, indent=1)

    def npz_data(self) -> dict[str, np.ndarray]:
        """What the npz holds, by name: the result's arrays, ``input`` and ``params``."""
        data = {k: np.asarray(v) for k, v in self.arrays().items()}
        data["input"] = np.zeros((0,), np.float32) if self.input is None else np.asarray(self.input)
        data["params"] = np.array(self.params_json())
        return data

    def npz_bytes(self) -> bytes:
        """The npz file's bytes, as :meth:`save_npz` writes them (for a writer in another process)."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.npz_data())
        return buffer.getvalue()

    def save_npz(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_open(path) as fh:   # a failed write leaves the previous file as it was
            fh.write(self.npz_bytes())
        return path

    def summary(self) -> dict[str, Any]:
        """The result's scalar outputs by name (a batch's index columns): its plain-valued fields
        beside the arrays and every single-number array."""
        out: dict[str, Any] = {}
        for key, value in self.meta().items():
            if key not in ("kind", "method", "model", "title", "params") and _is_scalar(value):
                out[key] = value
        for key, value in self.arrays().items():
            value = np.asarray(value)
            if value.ndim == 0 and value.dtype.kind in "biuf":
                out.setdefault(key, value.item())
        return out


def _is_scalar(value: Any) -> bool:
    return value is not None and isinstance(value, (bool, int, float, str, np.integer, np.floating))


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


@dataclass
class Heatmap(Result):
    """A map over the image. ``heatmap`` is in image pixels; ``attribution`` at model input size."""
    heatmap: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    attribution: np.ndarray | None = None
    target: int | None = None
    target_label: str = ""
    signed: bool = False

    kind = "heatmap"

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"heatmap": self.heatmap}
        if self.attribution is not None:
            out["attribution"] = self.attribution
        if self.target is not None:
            out["target"] = np.array(self.target)
        return out

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "target": self.target, "target_label": self.target_label,
                "signed": self.signed}


@dataclass
class ImageGrid(Result):
    """Tiles shown as a grid: (N, h, w, 3) RGB in [0, 1], or (N, h, w) scalar maps."""
    tiles: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.float32))
    titles: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    kind = "grid"

    @property
    def is_rgb(self) -> bool:
        return self.tiles.ndim == 4

    def as_grid(self) -> "ImageGrid":
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        return {"tiles": self.tiles, **self.extra}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "titles": self.titles}


@dataclass
class ActivationGrid(ImageGrid):
    """A layer's channels as a grid; any channel can be laid over the image as a Heatmap."""
    layer: str = ""
    geometry: Geometry | None = None
    image_hw: tuple[int, int] = (0, 0)

    kind = "activations"

    def channel_heatmap(self, index: int) -> Heatmap:
        if not 0 <= index < len(self.tiles):
            raise IndexError(f"channel {index} out of range (layer has {len(self.tiles)})")
        fmap = np.asarray(self.tiles[index], np.float32)
        hm = self.geometry.map_to_image(fmap, self.image_hw) if self.geometry else fmap
        return Heatmap(method=self.method, model=self.model, input=self.input,
                       params={**self.params, "channel": index}, heatmap=hm, attribution=fmap,
                       signed=bool(fmap.min() < 0), title=f"{self.layer} channel {index}")

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "layer": self.layer,
                "geometry": self.geometry.to_dict() if self.geometry else None}


@dataclass
class Detections(Result):
    """xyxy boxes in image pixels with scores and labels; ``stage`` says which step made them."""
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    label_names: list[str] = field(default_factory=list)
    masks: np.ndarray | None = None
    stage: str = "final"
    # (N, K, 3) x, y, visibility in image pixels, one row of K keypoints per box
    keypoints: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None  # (N, K)
    keypoint_names: list[str] = field(default_factory=list)
    skeleton: list[tuple[int, int]] = field(default_factory=list)  # pairs of keypoint indices

    kind = "detections"

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"boxes": self.boxes, "scores": self.scores, "labels": self.labels}
        if self.masks is not None:
            out["masks"] = self.masks
        if self.keypoints is not None:
            out["keypoints"] = self.keypoints
        if self.keypoint_scores is not None:
            out["keypoint_scores"] = self.keypoint_scores
        return out

    def summary(self) -> dict[str, Any]:
        scores = np.asarray(self.scores, np.float64)
        return {**super().summary(), "detections": int(len(self.boxes)),
                "top_score": float(scores.max()) if scores.size else float("nan")}

    def meta(self) -> dict[str, Any]:
        out = {**super().meta(), "stage": self.stage, "label_names": self.label_names}
        if self.keypoints is not None:
            out.update(keypoint_names=self.keypoint_names, skeleton=[list(p) for p in self.skeleton])
        return out


@dataclass
class SegMask(Result):
    """Per-pixel class indices in image pixels."""
    mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    label_names: list[str] = field(default_factory=list)

    kind = "segmask"

    def fractions(self) -> dict[str, float]:
        """Share of the pixels of each class present, by class name."""
        counts = np.bincount(np.asarray(self.mask, np.int64).ravel(), minlength=len(self.label_names))
        total = max(1, int(counts.sum()))
        names = [self.label_names[i] if i < len(self.label_names) else str(i) for i in range(len(counts))]
        return {n: round(int(c) / total, 6) for n, c in zip(names, counts) if c}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mask": self.mask, "label_names": np.array(self.label_names, dtype=str)}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "label_names": self.label_names, "class_fractions": self.fractions()}


@dataclass
class Points2D(Result):
    """An embedding: (N, 2) points with ids (for thumbnails) and labels."""
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    labels: np.ndarray | None = None

    kind = "points"

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"points": self.points, "ids": self.ids}
        if self.labels is not None:
            out["labels"] = self.labels
        return out


@dataclass
class Frames(Result):
    """A sequence of images (T, h, w, 3) in [0, 1], e.g. an interpolation."""
    frames: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 3), np.float32))
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    kind = "frames"

    def arrays(self) -> dict[str, np.ndarray]:
        return {"frames": self.frames, **self.extra}

    def as_grid(self) -> ImageGrid:
        """The frames as grid tiles, titled by their index."""
        return ImageGrid(method=self.method, model=self.model, params=self.params, input=self.input,
                         tiles=np.asarray(self.frames), title=self.title,
                         titles=[f"frame {i}" for i in range(len(self.frames))])


@dataclass
class AttentionMaps(Result):
    """Attention weights (layers, heads, queries, keys) and the token grid they map onto."""
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 0), np.float32))
    grid_hw: tuple[int, int] = (0, 0)

    kind = "attention"

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}


@dataclass
class Curves(Result):
    """Named 1-D series over a shared x axis."""
    x: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    series: dict[str, np.ndarray] = field(default_factory=dict)

    kind = "curves"

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.x, **{f"series_{k}": v for k, v in self.series.items()}}
