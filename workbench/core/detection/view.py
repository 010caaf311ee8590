"""What the Detection panel shows, as plain data: display options in, canvas layers and table rows out.

A :class:`DetectionDisplay` wraps one detect result and caches what every redraw needs (texts,
masks as booleans, each final box's place among the pre-NMS candidates, the proposals ranked by
objectness, NMS replays by IoU), so moving a slider filters arrays and never reruns the model.
torch is only imported for an NMS replay.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core import colormaps
from workbench.core.canvas_layers import PALETTE, BoxesLayer, Layer, MaskLayer, keypoint_layers

COLOR_BY = ("class", "instance")
STAGES = ("after", "before", "both")   # boxes after NMS, the candidates before it, or both at once
PROPOSAL_COLORMAP = "viridis"
PROPOSAL_LEVELS = (0.0, 1.0)           # objectness is a probability
PROPOSAL_LEGEND = "objectness"
PRE_NMS_OPACITY = 0.55                 # the candidates before NMS, drawn dashed under the final boxes
MAX_PRE_NMS_DRAWN = 500                # highest-scoring candidates drawn; a COCO model can have thousands
MAX_LABELS = 20                        # boxes past this many (by score) are drawn without a label
# a final box is the pre-NMS candidate with its label whose corners lie this close (pixels)
MATCH_TOLERANCE = 1e-2


@dataclass(frozen=True)
class DetectionView:
    """Display options; none of them needs the model to run again."""
    score_threshold: float = 0.5
    classes: frozenset[int] | None = None   # labels shown; None: every class
    color_by: str = "class"
    mask_opacity: float = 0.5
    show_proposals: bool = False
    top_k: int = 50
    nms_iou: float | None = None           # None: the model's own final detections
    stage: str = "after"
    max_labels: int = MAX_LABELS           # the table lists every box; labels beyond these only clutter

    def __post_init__(self) -> None:
        if self.color_by not in COLOR_BY:
            raise ValueError(f"color_by must be one of {COLOR_BY}, not {self.color_by!r}")
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, not {self.stage!r}")


@dataclass(frozen=True)
class Row:
    """One detection in the table, in the order of the boxes of the detections layer."""
    final: int      # index into the model's final boxes; -1 for a box the model itself dropped
    pre_nms: int    # index into the pre-NMS candidates; -1 where they are not known
    label: int
    name: str
    score: float
    box: tuple[float, float, float, float]

    @property
    def key(self) -> tuple[int, int]:
        return self.final, self.pre_nms


@dataclass(frozen=True)
class Counts:
    proposals: int
    pre_nms: int
    final: int      # the model's own
    after: int      # after NMS as shown: the model's own, or the replay at the chosen IoU
    shown: int      # rows left after the score threshold and the class filter


@dataclass
class ViewLayers:
    """Layers in drawing order; ``roles`` name them, equal ``keys`` mean an identical drawing."""
    layers: list[Layer] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    proposals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # drawn proposal indices
    pre_nms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))    # drawn faint candidates
    counts: Counts = Counts(0, 0, 0, 0, 0)

    def layer(self, role: str) -> Layer | None:
        return self.layers[self.roles.index(role)] if role in self.roles else None


def instance_colors(n: int) -> list[tuple[int, int, int]]:
    """``n`` distinct RGB colours: hues a golden angle apart, saturation and value cycling."""
    out: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int, int]] = set()
    i = 0
    while len(out) < n:
        s, v = (0.85, 0.6, 0.95, 0.7)[i % 4], (0.95, 0.95, 0.75, 0.8)[i % 4]
        rgb = tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb((i * 0.6180339887) % 1.0, s, v))
        i += 1
        if rgb not in seen:
            seen.add(rgb)
            out.append(rgb)
    return out


def class_color(label: int) -> tuple[int, int, int]:
    return PALETTE[int(label) % len(PALETTE)]


def objectness_colors(scores: np.ndarray) -> list[tuple[int, int, int]]:
    return [tuple(int(c) for c in rgb) for rgb in colormaps.apply(np.asarray(scores, np.float32)[None],
                                                                  PROPOSAL_COLORMAP, PROPOSAL_LEVELS)[0]]


def _labels(texts: list[str], idx: np.ndarray, limit: int) -> list[str]:
    """Texts for boxes in ``idx`` order (highest score first): the first ``limit`` labelled."""
    return [texts[i] if k < limit else "" for k, i in enumerate(idx)]


def build_layers(result: Any, view: DetectionView) -> ViewLayers:
    """The layers and rows for one result under ``view`` (for repeated redraws keep a DetectionDisplay)."""
    return DetectionDisplay(result).build(view)


def default_layers(result: Any) -> list[Layer]:
    """A detect result as the Detection panel first shows it (score threshold and all): what its
    renderer draws, so a CLI figure matches the GUI's. The result itself keeps every box."""
    return build_layers(result, DetectionView()).layers


class DetectionDisplay:
    """One detect result, ready to be drawn under any DetectionView."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.names: list[str] = list(getattr(result, "label_names", []) or [])
        self.boxes = np.asarray(result.boxes, np.float32).reshape(-1, 4)
        self.scores = np.asarray(result.scores, np.float32).reshape(-1)
        self.labels = np.asarray(result.labels, np.int64).reshape(-1)
        masks = getattr(result, "masks", None)
        self.masks = None if masks is None or not len(masks) else np.asarray(masks) > 0
        self.pre_boxes = np.asarray(getattr(result, "pre_nms_boxes", np.zeros((0, 4))), np.float32).reshape(-1, 4)
        self.pre_scores = np.asarray(getattr(result, "pre_nms_scores", np.zeros(0)), np.float32).reshape(-1)
        self.pre_labels = np.asarray(getattr(result, "pre_nms_labels", np.zeros(0)), np.int64).reshape(-1)
        self.proposals = np.asarray(getattr(result, "proposals", np.zeros((0, 4))), np.float32).reshape(-1, 4)
        self.proposal_scores = np.asarray(getattr(result, "proposal_scores", np.zeros(0)), np.float32).reshape(-1)
        self.proposal_words = tuple(getattr(result, "proposal_words", (PROPOSAL_LEGEND, "low", "high")))  # colour scale
        self.nms_threshold: float | None = getattr(result, "nms_threshold", None)
        self.max_detections: int | None = getattr(result, "max_detections", None)
        self.time_ms = float(getattr(result, "time_ms", 0.0))
        self.proposal_order = np.argsort(-self.proposal_scores, kind="stable")
        self.pre_order = np.argsort(-self.pre_scores, kind="stable")
        self.pre_of_final, self.final_of_pre = self._match_final_to_pre_nms()
        self._texts: dict[str, list[str]] = {}
        self._colors: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self._replays: dict[float, np.ndarray] = {}

    @property
    def is_set_prediction(self) -> bool:
        """A DETR: its candidates are its object queries (in query order), and it ran no NMS."""
        return getattr(self.result, "architecture", "") == "set prediction"

    @property
    def can_replay(self) -> bool:
        return len(self.pre_boxes) > 0 or len(self.boxes) == 0

    def label_name(self, label: int) -> str:
        return self.names[int(label)] if 0 <= int(label) < len(self.names) else str(int(label))

    def classes(self) -> list[tuple[int, str]]:
        """(label, name) of every class the model can report, background excluded."""
        labels = range(1, len(self.names)) if self.names else sorted(set(self.labels) | set(self.pre_labels))
        return [(int(l), self.label_name(l)) for l in labels]

    # --- stages ----------------------------------------------------------------------
    def replay(self, iou: float) -> np.ndarray:
        """Pre-NMS indices kept by class-wise NMS at ``iou``, highest score first, cut as the model cuts."""
        key = round(float(iou), 4)
        if key not in self._replays:
            from workbench.core.results.detections import replay_nms
            keep = replay_nms(self.pre_boxes, self.pre_scores, self.pre_labels, key)
            self._replays[key] = keep[: self.max_detections] if self.max_detections else keep
        return self._replays[key]

    def build(self, view: DetectionView) -> ViewLayers:
        out = ViewLayers()
        if view.show_proposals and len(self.proposals) and view.top_k > 0:
            self._add(out, "proposals", *self._proposals(view.top_k))
            out.proposals = self.proposal_order[:view.top_k][::-1]
        replaying = view.nms_iou is not None and len(self.pre_boxes) > 0
        after = self.replay(view.nms_iou) if replaying else None
        if view.stage == "both":
            layer, key, _, out.pre_nms = self._pre_nms(view, faint=True)
            self._add(out, "pre-nms", layer, key)
        if view.stage == "before":
            boxes, key, rows, _ = self._pre_nms(view, faint=False)
        else:
            boxes, key, rows = self._after(view, after)
            masks = self._masks(view, rows)
            if masks is not None:
                self._add(out, "masks", *masks)
            for role, layer, layer_key in self._keypoints(view, rows):
                self._add(out, role, layer, layer_key)
        self._add(out, "detections", boxes, key)
        out.rows = rows
        out.counts = Counts(len(self.proposals), len(self.pre_boxes), len(self.boxes),
                            len(after) if after is not None else len(self.boxes), len(rows))
        return out

    # --- layers ----------------------------------------------------------------------
    @staticmethod
    def _add(out: ViewLayers, role: str, layer: Layer, key: tuple) -> None:
        out.layers.append(layer)
        out.roles.append(role)
        out.keys.append(key)

    def _proposals(self, top_k: int) -> tuple[Layer, tuple]:
        top = self.proposal_order[:top_k][::-1]  # the most object-like drawn last, on top
        layer = BoxesLayer(name=f"proposals (top {len(top)} by objectness)", boxes=self.proposals[top],
                           colors=objectness_colors(self.proposal_scores[top]), line_width=1.0,
                           colormap=PROPOSAL_COLORMAP, levels=PROPOSAL_LEVELS, show_colorbar=True,
                           colorbar_label=PROPOSAL_LEGEND)
        layer.colorbar_label = self.proposal_words[0]   # objectness, or the rank of image-only proposals
        layer.name = layer.name.replace(PROPOSAL_LEGEND, layer.colorbar_label)
        return layer, ("proposals", len(top))

    def _visible(self, view: DetectionView, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        keep = scores >= view.score_threshold
        if view.classes is not None:
            keep &= np.isin(labels, np.fromiter(view.classes, np.int64, len(view.classes)))
        return keep

    def _after(self, view: DetectionView, after: np.ndarray | None) -> tuple[Layer, tuple, list[Row]]:
        if after is None:
            idx = np.flatnonzero(self._visible(view, self.scores, self.labels))
            finals, pres = idx, self.pre_of_final[idx]
            boxes, scores, labels = self.boxes[idx], self.scores[idx], self.labels[idx]
            texts, colors = self._texts_of("final"), self._colors_of("final", view.color_by)
            name = "detections"
        else:
            pres = after[self._visible(view, self.pre_scores[after], self.pre_labels[after])]
            finals = self.final_of_pre[pres]
            boxes, scores, labels = self.pre_boxes[pres], self.pre_scores[pres], self.pre_labels[pres]
            idx = pres
            texts, colors = self._texts_of("pre"), self._colors_of("pre", view.color_by)
            name = f"detections after NMS at IoU {view.nms_iou:.2f}"
        layer = BoxesLayer(name=name, boxes=boxes, texts=_labels(texts, idx, view.max_labels),
                           colors=[colors[i] for i in idx], scores=scores.tolist())
        rows = self._rows(finals, pres, boxes, scores, labels)
        key = ("after", view.nms_iou, view.color_by, view.max_labels, idx.tobytes())
        return layer, key, rows

    def _pre_nms(self, view: DetectionView, faint: bool) -> tuple[Layer, tuple, list[Row], np.ndarray]:
        order = self.pre_order
        order = order[self._visible(view, self.pre_scores[order], self.pre_labels[order])][:MAX_PRE_NMS_DRAWN]
        colors = self._colors_of("pre", view.color_by)
        boxes = self.pre_boxes[order]
        if faint:
            what = "object queries" if self.is_set_prediction else "boxes before NMS"
            layer = BoxesLayer(name=f"{len(order)} {what}", boxes=boxes, line_width=1.0,
                               opacity=PRE_NMS_OPACITY, dashed=True, colors=[colors[i] for i in order])
            return layer, ("pre-nms", view.color_by, order.tobytes()), [], order
        texts = self._texts_of("pre")
        name = "every object query" if self.is_set_prediction else "detections before NMS"
        layer = BoxesLayer(name=name, boxes=boxes, texts=_labels(texts, order, view.max_labels),
                           colors=[colors[i] for i in order], scores=self.pre_scores[order].tolist())
        rows = self._rows(self.final_of_pre[order], order, boxes, self.pre_scores[order], self.pre_labels[order])
        return layer, ("before", view.color_by, view.max_labels, order.tobytes()), rows, order

    def _masks(self, view: DetectionView, rows: list[Row]) -> tuple[Layer, tuple] | None:
        if self.masks is None:
            return None
        finals = np.array([r.final for r in rows if r.final >= 0], np.int64)
        if not len(finals):
            return None
        colors = self._colors_of("final", view.color_by)
        layer = MaskLayer(name="masks", masks=self.masks[finals], colors=[colors[i] for i in finals],
                          opacity=float(view.mask_opacity))
        return layer, ("masks", view.color_by, round(float(view.mask_opacity), 3), finals.tobytes())

    def _keypoints(self, view: DetectionView, rows: list[Row]) -> list[tuple[str, Layer, tuple]]:
        if getattr(self.result, "keypoints", None) is None:
            return []
        finals = np.array([r.final for r in rows if r.final >= 0], np.int64)
        colors = self._colors_of("final", view.color_by)
        layers = keypoint_layers(self.result, finals, [colors[i] for i in finals])
        key = (view.color_by, finals.tobytes())
        return [(f"keypoints {kind}", layer, ("keypoints", kind, *key))
                for kind, layer in zip(("skeleton", "points"), layers)]

    def _rows(self, finals, pres, boxes, scores, labels) -> list[Row]:
        return [Row(int(f), int(p), int(l), self.label_name(l), float(s), tuple(float(v) for v in b))
                for f, p, b, s, l in zip(finals, pres, boxes, scores, labels)]

    # --- caches ----------------------------------------------------------------------
    def _texts_of(self, which: str) -> list[str]:
        if which not in self._texts:
            scores, labels = (self.scores, self.labels) if which == "final" else (self.pre_scores, self.pre_labels)
            self._texts[which] = [f"{self.label_name(l)} {s:.2f}" for l, s in zip(labels, scores)]
        return self._texts[which]

    def _colors_of(self, which: str, color_by: str) -> list[tuple[int, int, int]]:
        """One colour per final box or per pre-NMS candidate; a candidate that became a final box
        shares its colour, so instances keep their colour across NMS replays."""
        key = (which, color_by)
        if key not in self._colors:
            if color_by == "class":
                labels = self.labels if which == "final" else self.pre_labels
                self._colors[key] = [class_color(l) for l in labels]
            else:
                palette = instance_colors(len(self.boxes) + len(self.pre_boxes))
                if which == "final":
                    self._colors[key] = palette[: len(self.boxes)]
                else:
                    self._colors[key] = [palette[f] if f >= 0 else palette[len(self.boxes) + j]
                                         for j, f in enumerate(self.final_of_pre)]
        return self._colors[key]

    def _match_final_to_pre_nms(self) -> tuple[np.ndarray, np.ndarray]:
        """Each final box's index among the pre-NMS candidates (-1 where none matches) and back."""
        pre_of_final = np.full(len(self.boxes), -1, np.int64)
        final_of_pre = np.full(len(self.pre_boxes), -1, np.int64)
        if not len(self.boxes) or not len(self.pre_boxes):
            return pre_of_final, final_of_pre
        for i, (box, label) in enumerate(zip(self.boxes, self.labels)):
            gap = np.abs(self.pre_boxes - box).max(axis=1)
            gap[self.pre_labels != label] = np.inf
            gap[final_of_pre >= 0] = np.inf
            j = int(np.argmin(gap))
            if gap[j] <= MATCH_TOLERANCE:
                pre_of_final[i], final_of_pre[j] = j, i
        return pre_of_final, final_of_pre
