"""A deterministic procedural world of coloured shapes on textured backgrounds.

Every image comes from one integer seed through a ``numpy.random.Generator``; the global
RNG is never touched, so the same seed always gives the same pixels, boxes and masks.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon", "cross")
COLOR_NAMES: tuple[str, ...] = ("red", "green", "blue", "yellow", "magenta", "cyan", "orange", "white")
COLORS_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 35, 35), "green": (40, 185, 50), "blue": (45, 70, 230), "yellow": (235, 220, 45),
    "magenta": (215, 45, 215), "cyan": (45, 215, 225), "orange": (245, 145, 25),
    "white": (242, 242, 242),
}
_SHIFT = 4
_ONE = 1 << _SHIFT


@dataclass
class Scene:
    """One rendered scene. ``boxes`` are xyxy pixel edges: mask pixels lie in [x0, x1) x [y0, y1)."""
    image: np.ndarray      # HxWx3 uint8 RGB
    boxes: np.ndarray      # (N, 4) float32 xyxy, tight around each visible mask
    labels: np.ndarray     # (N,) int64 index into SHAPE_CLASSES
    colors: list[str]
    masks: np.ndarray      # (N, H, W) bool, visible part of each object
    semantic: np.ndarray   # HxW int64, 0 background, label + 1 elsewhere
    caption: str

    @property
    def class_names(self) -> list[str]:
        return [SHAPE_CLASSES[i] for i in self.labels]


def _polygon(label: int, radius: float, angle: float) -> np.ndarray:
    """Vertices (K, 2) of a shape of circumradius ``radius`` centred at the origin."""
    name = SHAPE_CLASSES[label]
    if name == "star":
        t = np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        pts = np.stack([r * np.sin(t), -r * np.cos(t)], 1)
    elif name == "cross":
        w = 0.32
        pts = np.array([(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1),
                        (-w, w), (-1, w), (-1, -w), (-w, -w)], dtype=np.float64) / np.hypot(1, w)
    else:
        k = {"square": 4, "triangle": 3, "hexagon": 6}[name]
        t = np.arange(k) * 2 * np.pi / k
        pts = np.stack([np.sin(t), -np.cos(t)], 1)
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) * radius


def shape_alpha(label: int, center: tuple[float, float], radius: float, angle: float,
                size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage (HxW float32 in [0, 1]) of one shape."""
    alpha = np.zeros(size, dtype=np.uint8)
    cx, cy = center
    if SHAPE_CLASSES[label] == "circle":
        cv2.circle(alpha, (round(cx * _ONE), round(cy * _ONE)), round(0.82 * radius * _ONE), 255,
                   -1, cv2.LINE_AA, _SHIFT)
    else:
        pts = _polygon(label, radius, angle) + (cx, cy)
        cv2.fillPoly(alpha, [np.round(pts * _ONE).astype(np.int32)], 255, cv2.LINE_AA, _SHIFT)
    return alpha.astype(np.float32) / 255.0


def background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A muted textured background (HxWx3 float32, 0-255): noise, gradient, stripes or checks."""
    h, w = size
    base = rng.uniform(35, 135) + rng.uniform(-22, 22, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    along = (xx * np.cos(theta) + yy * np.sin(theta)) / max(h, w)
    kind = rng.integers(4)
    if kind == 0:
        coarse = rng.normal(0, 1, (max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
        tex = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * rng.uniform(10, 22)
    elif kind == 1:
        other = rng.uniform(-45, 45, 3)
        tex = (along - 0.5)[..., None] * other[None, None, :]
    elif kind == 2:
        period = rng.uniform(5, 18) / max(h, w)
        wave = np.sin(2 * np.pi * along / period + rng.uniform(0, 2 * np.pi))
        tint = rng.uniform(0.6, 1.0, 3)
        tex = wave[..., None] * rng.uniform(10, 26) * tint[None, None, :]
    else:
        cell = rng.uniform(5, 14)
        u = xx * np.cos(theta) + yy * np.sin(theta)
        v = -xx * np.sin(theta) + yy * np.cos(theta)
        check = ((np.floor(u / cell) + np.floor(v / cell)) % 2) * 2 - 1
        tex = check[..., None] * rng.uniform(6, 16) * np.ones(3, np.float32)
    img = base[None, None, :] + tex
    img += rng.normal(0, rng.uniform(2, 7), (h, w, 3))
    return img.astype(np.float32)


def jittered_color(rng: np.random.Generator, name: str) -> np.ndarray:
    return np.clip(np.array(COLORS_RGB[name], np.float32) + rng.uniform(-14, 14, 3), 0, 255)


def _composite(img: np.ndarray, alpha: np.ndarray, color: np.ndarray) -> None:
    img *= 1.0 - alpha[..., None]
    img += alpha[..., None] * color[None, None, :]


def _finish(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img += rng.normal(0, 2.0, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def render_shape(seed: int, size: int = 64) -> tuple[np.ndarray, int]:
    """One shape of a uniformly drawn class on a textured background: (HxWx3 uint8, label)."""
    image, label, _coverage = render_shape_with_mask(seed, size)
    return image, label


def render_shape_with_mask(seed: int, size: int = 64) -> tuple[np.ndarray, int, np.ndarray]:
    """``render_shape`` plus how much of each pixel the shape covers (HxW float32 in [0, 1])."""
    rng = np.random.default_rng(seed)
    label = int(rng.integers(len(SHAPE_CLASSES)))
    img = background(rng, (size, size))
    radius = rng.uniform(0.15, 0.43) * size
    cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
    alpha = shape_alpha(label, (cx, cy), radius, rng.uniform(0, 2 * np.pi), (size, size))
    _composite(img, alpha, jittered_color(rng, COLOR_NAMES[rng.integers(len(COLOR_NAMES))]))
    return _finish(img, rng), label, alpha


def _box(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)


def relation(box_a: np.ndarray, box_b: np.ndarray) -> str:
    """Where box ``a`` is relative to box ``b``, from their centres."""
    dx = (box_a[0] + box_a[2] - box_b[0] - box_b[2]) / 2
    dy = (box_a[1] + box_a[3] - box_b[1] - box_b[3]) / 2
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def _noun(color: str, label: int) -> str:
    article = "an" if color[0] in "aeiou" else "a"
    return f"{article} {color} {SHAPE_CLASSES[int(label)]}"


def make_caption(labels, colors, masks, boxes) -> str:
    """"a red star left of a blue circle": the two largest visible objects, largest first."""
    if len(labels) == 0:
        return "nothing"
    order = sorted(range(len(labels)), key=lambda i: (-int(masks[i].sum()), i))
    a = order[0]
    first = _noun(colors[a], labels[a])
    if len(order) == 1:
        return first
    b = order[1]
    return f"{first} {relation(boxes[a], boxes[b])} {_noun(colors[b], labels[b])}"


def render_scene(seed: int, size: int = 128, n_objects: tuple[int, int] | int = (1, 4),
                 min_visible: float = 0.6, tries: int = 40) -> Scene:
    """A scene of 1-4 shapes (inclusive range); later shapes are drawn on top of earlier ones."""
    rng = np.random.default_rng(seed)
    lo, hi = (n_objects, n_objects) if isinstance(n_objects, int) else n_objects
    target = int(rng.integers(lo, hi + 1))
    img = background(rng, (size, size))
    scale = size / 128.0
    full: list[np.ndarray] = []
    visible: list[np.ndarray] = []
    labels: list[int] = []
    colors: list[str] = []
    for _ in range(target):
        for _attempt in range(tries):
            label = int(rng.integers(len(SHAPE_CLASSES)))
            radius = rng.uniform(6, 24) * scale
            cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
            alpha = shape_alpha(label, (cx, cy), radius, rng.uniform(0, 2 * np.pi), (size, size))
            mask = alpha >= 0.5
            if not mask.any():
                continue
            if all((v & ~mask).sum() >= min_visible * f.sum() for v, f in zip(visible, full)):
                break
        else:
            break
        color = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
        _composite(img, alpha, jittered_color(rng, color))
        visible = [v & ~mask for v in visible] + [mask]
        full.append(mask)
        labels.append(label)
        colors.append(color)
    masks = np.stack(visible).astype(bool)
    boxes = np.stack([_box(m) for m in masks]).astype(np.float32)
    semantic = np.zeros((size, size), dtype=np.int64)
    for m, lab in zip(masks, labels):
        semantic[m] = lab + 1
    labels_arr = np.array(labels, dtype=np.int64)
    return Scene(image=_finish(img, rng), boxes=boxes, labels=labels_arr, colors=colors,
                 masks=masks, semantic=semantic,
                 caption=make_caption(labels_arr, colors, masks, boxes))
