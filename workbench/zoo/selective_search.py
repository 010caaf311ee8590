"""Selective search (Uijlings et al., IJCV 2013): class-agnostic region proposals from the image alone.

Felzenszwalb's graph segmentation (``skimage.segmentation.felzenszwalb``) at a few scales ``k``
gives the initial regions; each is then grown bottom-up by greedily merging the two most similar
neighbouring regions until one region is left. Similarity is a sum of up to four terms, each in
[0, 1]: colour (intersection of 25-bin colour histograms per channel), texture (intersection of
10-bin histograms of Gaussian derivatives in 8 orientations per channel, sigma 1), size (small
regions merge first) and fill (regions whose joint box they fill well merge first). Every region
of every hierarchy is a proposal: its box. Diversification runs the grouping in several colour
spaces, scales and similarity combinations ("strategies"):

- ``fast``: HSV and Lab x the first two scales x {colour+texture+size+fill, texture+size+fill};
- ``quality``: HSV, Lab, rgI, H and I x every scale x those two plus {fill} and {size}.

Ranking follows the paper: within one hierarchy a region's position counts from the top (1 for
the last merge, the whole image), it is multiplied by a random number in [0, 1] (seeded), and the
boxes of all hierarchies are sorted by that value; duplicate boxes keep their best rank.

Boxes are xyxy pixel edges, as the shapes scenes' ground truth: a region covering columns
x0..x1 and rows y0..y1 has the box (x0, y0, x1 + 1, y1 + 1).

OpenCV has an implementation (``cv2.ximgproc.segmentation``), but only in opencv-contrib, whose
wheel installs into the same ``cv2`` folder as the ``opencv-python-headless`` the workbench uses
and so cannot be installed beside it; this one needs numpy, scipy and scikit-image only.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage
from skimage import color as skcolor
from skimage.segmentation import felzenszwalb

MODES = ("fast", "quality")
DEFAULT_SCALES = (50, 100, 150, 300)
SIGMA = 0.8                 # Felzenszwalb's pre-smoothing, as in the paper
COLOUR_BINS = 25
TEXTURE_BINS = 10
ORIENTATIONS = 8
# (colour, texture, size, fill) weights of each similarity strategy
STRATEGIES = {"CTSF": (1, 1, 1, 1), "TSF": (0, 1, 1, 1), "F": (0, 0, 0, 1), "S": (0, 0, 1, 0)}
MODE_PLAN = {  # colour spaces, how many scales, strategies
    "fast": (("hsv", "lab"), 2, ("CTSF", "TSF")),
    "quality": (("hsv", "lab", "rgi", "h", "i"), None, ("CTSF", "TSF", "F", "S")),
}


@dataclass(frozen=True)
class Proposals:
    """Boxes (N, 4) float32 xyxy in image pixels, best first, and what made each: the index of
    its strategy in ``strategies`` ("hsv k=50 CTSF") and its ranking value (lower is better)."""
    boxes: np.ndarray
    priority: np.ndarray
    strategy: np.ndarray
    strategies: tuple[str, ...]
    initial_regions: int     # Felzenszwalb regions summed over the segmentations


def to_colour_space(image: np.ndarray, space: str) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> float (H, W, C) with every channel in [0, 1]."""
    rgb = np.asarray(image, np.float64) / 255.0
    if space == "rgb":
        return rgb
    if space == "hsv":
        return skcolor.rgb2hsv(rgb)
    if space == "h":
        return skcolor.rgb2hsv(rgb)[..., :1]
    if space == "lab":
        lab = skcolor.rgb2lab(rgb)
        return np.stack([lab[..., 0] / 100.0, (lab[..., 1] + 128) / 255.0, (lab[..., 2] + 128) / 255.0], -1)
    total = rgb.sum(-1, keepdims=True)
    intensity = total / 3.0
    if space == "i":
        return intensity
    if space == "rgi":
        rg = np.divide(rgb[..., :2], total, out=np.full_like(rgb[..., :2], 1 / 3), where=total > 0)
        return np.concatenate([rg, intensity], -1)
    raise ValueError(f"unknown colour space {space!r}; known: rgb, hsv, h, lab, i, rgi")


def _histograms(labels: np.ndarray, n: int, values: np.ndarray, bins: int) -> np.ndarray:
    """(n, K * bins) per-region histograms of K maps of values in [0, 1], L1-normalised per region."""
    k = values.shape[-1]
    b = np.minimum(values * bins, bins - 1).astype(np.int32)                # (H, W, K)
    b += (np.arange(k, dtype=np.int32) * bins)
    index = labels.astype(np.int64)[..., None] * (k * bins) + b
    hist = np.bincount(index.ravel(), minlength=n * k * bins).reshape(n, k * bins).astype(np.float64)
    return hist / hist.sum(1, keepdims=True)


def _texture_maps(img: np.ndarray) -> np.ndarray:
    """(H, W, C * 8) directional Gaussian derivatives (sigma 1) in 8 orientations 45 degrees apart
    (each orientation's positive part; the opposite orientation is the negative part), scaled by
    the channel's largest response to [0, 1]."""
    out = []
    half = np.arange(ORIENTATIONS // 2) * (2 * np.pi / ORIENTATIONS)
    cos, sin = np.cos(half).astype(np.float32), np.sin(half).astype(np.float32)
    for c in range(img.shape[-1]):
        channel = img[..., c].astype(np.float32)
        gy = ndimage.gaussian_filter(channel, 1.0, order=(1, 0))
        gx = ndimage.gaussian_filter(channel, 1.0, order=(0, 1))
        resp = gx[..., None] * cos + gy[..., None] * sin
        top = np.abs(resp).max()
        resp = resp / top if top > 0 else resp
        out += [np.maximum(resp, 0), np.maximum(-resp, 0)]
    return np.concatenate(out, -1)


def _adjacent_pairs(labels: np.ndarray) -> np.ndarray:
    """(M, 2) unique pairs (a < b) of regions that touch, 4- or diagonally connected."""
    n = int(labels.max()) + 1
    codes = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :]),
                 (labels[:-1, :-1], labels[1:, 1:]), (labels[:-1, 1:], labels[1:, :-1])):
        differ = a != b
        lo, hi = np.minimum(a[differ], b[differ]), np.maximum(a[differ], b[differ])
        codes.append(lo.astype(np.int64) * n + hi)
    codes = np.unique(np.concatenate(codes))
    return np.stack([codes // n, codes % n], 1)


@dataclass
class Regions:
    """The initial regions of one segmentation, what the grouping starts from."""
    size: np.ndarray       # (R,) pixels
    box: np.ndarray        # (R, 4) xmin, ymin, xmax + 1, ymax + 1
    colour: np.ndarray     # (R, Dc)
    texture: np.ndarray    # (R, Dt)
    pairs: np.ndarray      # (M, 2) adjacent initial regions


def initial_regions(labels: np.ndarray, img: np.ndarray, texture: np.ndarray | None = None) -> Regions:
    """Sizes, boxes, histograms and adjacency of the regions of a segmentation ``labels`` (0..n-1)
    of ``img`` (H, W, C) in [0, 1]; ``texture``: its texture maps, when already computed."""
    n = int(labels.max()) + 1
    img = img.astype(np.float32)
    texture = _texture_maps(img) if texture is None else texture
    box = np.array([(sx.start, sy.start, sx.stop, sy.stop) for sy, sx in ndimage.find_objects(labels + 1)],
                   np.float64)
    flat = labels.ravel()
    return Regions(size=np.bincount(flat, minlength=n).astype(np.float64), box=box,
                    colour=_histograms(labels, n, img, COLOUR_BINS),
                    texture=_histograms(labels, n, texture, TEXTURE_BINS),
                    pairs=_adjacent_pairs(labels))


def _room_for(values: np.ndarray, total: int) -> np.ndarray:
    """``values`` (n, ...) followed by zeros up to ``total`` rows."""
    out = np.zeros((total, *values.shape[1:]), values.dtype)
    out[:len(values)] = values
    return out


def group(regions: Regions, weights: tuple[float, float, float, float], image_size: float) -> np.ndarray:
    """Hierarchical grouping: merge the most similar adjacent pair until one region is left.
    Returns the boxes of every region in the order made: the n initial ones, then each merge."""
    n = len(regions.size)
    total = 2 * n - 1
    size, box, colour, texture = (_room_for(v, total) for v in
                                  (regions.size, regions.box, regions.colour, regions.texture))
    wc, wt, ws, wf = (float(v) for v in weights)

    def similarity(i, js: np.ndarray) -> np.ndarray:
        s = np.zeros(len(js))
        if wc:
            s += wc * np.minimum(colour[i], colour[js]).sum(-1)
        if wt:
            s += wt * np.minimum(texture[i], texture[js]).sum(-1)
        joint = size[i] + size[js]
        if ws:
            s += ws * (1.0 - joint / image_size)
        if wf:
            lo, hi = np.minimum(box[i, :2], box[js, :2]), np.maximum(box[i, 2:], box[js, 2:])
            s += wf * (1.0 - ((hi - lo).prod(-1) - joint) / image_size)
        return s

    neighbours: list[set[int]] = [set() for _ in range(total)]
    a, b = regions.pairs[:, 0], regions.pairs[:, 1]
    for i, j in zip(a.tolist(), b.tolist()):
        neighbours[i].add(j)
        neighbours[j].add(i)
    heap = [(-s, i, j) for s, i, j in zip(similarity(a, b).tolist(), a.tolist(), b.tolist())]
    heapq.heapify(heap)
    alive = _room_for(np.ones(n, bool), total)
    made = n
    while heap:
        _, i, j = heapq.heappop(heap)
        if not (alive[i] and alive[j]):
            continue
        t = made
        made += 1
        size[t] = size[i] + size[j]
        box[t, :2] = np.minimum(box[i, :2], box[j, :2])
        box[t, 2:] = np.maximum(box[i, 2:], box[j, 2:])
        colour[t] = (size[i] * colour[i] + size[j] * colour[j]) / size[t]
        texture[t] = (size[i] * texture[i] + size[j] * texture[j]) / size[t]
        alive[i] = alive[j] = False
        alive[t] = True
        around = (neighbours[i] | neighbours[j]) - {i, j}
        for k in around:
            neighbours[k].discard(i)
            neighbours[k].discard(j)
            neighbours[k].add(t)
        neighbours[t] = around
        if around:
            ks = np.fromiter(around, np.int64, len(around))
            for s, k in zip(similarity(t, ks).tolist(), ks.tolist()):
                heapq.heappush(heap, (-s, t, k))
    return box[:made]   # 2n - 1 boxes: regions touching 8-connected always end as one


def plan(mode: str, scales: tuple[int, ...]) -> list[tuple[str, int, tuple[str, ...]]]:
    """(colour space, k, strategies) per segmentation of ``mode``."""
    if mode not in MODE_PLAN:
        raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
    scales = tuple(int(k) for k in scales)
    if not scales or min(scales) <= 0:
        raise ValueError(f"scales must be positive Felzenszwalb k values, got {scales}")
    spaces, how_many, strategies = MODE_PLAN[mode]
    ks = scales[:how_many] if how_many else scales
    return [(space, k, strategies) for space in spaces for k in ks]


def selective_search(image: np.ndarray, mode: str = "fast", scales: tuple[int, ...] = DEFAULT_SCALES,
                     min_size: int | None = None, max_proposals: int | None = None, seed: int = 0,
                     on_step: Callable[[int, int], None] | None = None) -> Proposals:
    """Selective search on an RGB uint8 (H, W, 3) image; see the module's docstring.

    ``min_size``: Felzenszwalb's smallest region in pixels (None: k, as in the paper's code).
    ``max_proposals``: keep the best-ranked this many (None or 0: all). ``on_step(i, n)`` is
    called before each of the n segmentations (it may raise to stop the search).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"selective search needs an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 2:
        raise ValueError(f"the image is too small for selective search: {image.shape[:2]}")
    runs = plan(mode, scales)
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    boxes, priority, strategy, names = [], [], [], []
    initial = 0
    converted: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # colour space -> image, texture maps
    for step, (space, k, strategies) in enumerate(runs):
        if on_step is not None:
            on_step(step, len(runs))
        if space not in converted:
            img = to_colour_space(image, space)
            converted[space] = img, _texture_maps(img.astype(np.float32))
        img, texture = converted[space]
        labels = felzenszwalb(img if img.shape[-1] > 1 else img[..., 0], scale=k, sigma=SIGMA,
                              min_size=k if min_size is None else int(min_size),
                              channel_axis=-1 if img.shape[-1] > 1 else None)
        regions = initial_regions(labels, img, texture)
        initial += len(regions.size)
        for name in strategies:
            made = group(regions, STRATEGIES[name], float(h * w))
            position = np.arange(len(made), 0, -1, dtype=np.float64)   # 1: the last merge
            boxes.append(made)
            priority.append(position * rng.random(len(made)))
            strategy.append(np.full(len(made), len(names), np.int64))
            names.append(f"{space} k={k} {name}")
    boxes_all, prio, strat = np.concatenate(boxes), np.concatenate(priority), np.concatenate(strategy)
    order = np.argsort(prio, kind="stable")
    _, first = np.unique(boxes_all[order], axis=0, return_index=True)
    keep = order[np.sort(first)]
    if max_proposals:
        keep = keep[:int(max_proposals)]
    return Proposals(boxes=boxes_all[keep].astype(np.float32), priority=prio[keep], strategy=strat[keep],
                     strategies=tuple(names), initial_regions=initial)
