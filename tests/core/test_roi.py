"""ROI Align / ROI Pool of one box: level choice, sampling grid and pooled features.

The sampling points are checked by re-deriving the pooled values from them: bilinear samples
(with roi_align's border rules) averaged per bin give ``roi_align``, and the max over the cells
of each bin gives ``roi_pool``. The pooled features must equal the model's own
``box_roi_pool`` for the same box.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torchvision.ops import MultiScaleRoIAlign, roi_align, roi_pool

from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.hooks import hook_count
from workbench.core.methods.detect import METHOD as DETECT
from workbench.core.methods.roi_align import METHOD as ROI_ALIGN
from workbench.core.detection.roi import align_grid, backbone_features, pool_box, pool_grid, pooler_level, roi_view
from workbench.core.results.roi import RoiPooling
from workbench.core.runner import context, run_method
from workbench.core.canvas_layers import BoxesLayer, PointsLayer
from workbench.core.renderers import layers_for

INPUT_HW = (160, 160)   # the bundled detectors' transform resizes this to 128: two pixel spaces
IMAGE_HW = (100, 200)


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 60, (*IMAGE_HW, 3), dtype=np.uint8)
    img[20:70, 30:110] = (220, 40, 40)
    img[40:90, 130:180] = (40, 200, 60)
    return img


@pytest.fixture(scope="module")
def mask_rcnn() -> ModelHandle:
    from workbench.zoo.detection_nets import build_mask_rcnn
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = build_mask_rcnn().eval()
    labels = ["__background__"] + [f"class_{i}" for i in range(1, 7)]
    return ModelHandle(id="zoo:shapes-maskrcnn?weights=none", module=module, task="detect",
                       preprocess=Preprocess(Geometry(INPUT_HW, "stretch")), labels=labels)


def bilinear(f: np.ndarray, y: float, x: float) -> np.ndarray:
    """roi_align's bilinear interpolation of (C, H, W) ``f`` at (y, x), borders included."""
    H, W = f.shape[-2:]
    if y < -1.0 or y > H or x < -1.0 or x > W:
        return np.zeros(f.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= H - 1:
        y0 = y1 = H - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= W - 1:
        x0 = x1 = W - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * f[:, y0, x0] + (1 - ly) * lx * f[:, y0, x1]
            + ly * (1 - lx) * f[:, y1, x0] + ly * lx * f[:, y1, x1])


def rederive_align(f: np.ndarray, points: np.ndarray, owners: np.ndarray, scale: float, bins: int) -> np.ndarray:
    samples = np.stack([bilinear(f, py * scale, px * scale) for px, py in points])
    return np.stack([samples[owners == b].mean(0) for b in range(bins)], -1)


def rederive_pool(f: np.ndarray, points: np.ndarray, owners: np.ndarray, scale: float, bins: int) -> np.ndarray:
    cells = np.rint(points * scale).astype(int)
    out = np.zeros((f.shape[0], bins))
    for b in range(bins):
        mine = cells[owners == b]
        if len(mine):
            out[:, b] = f[:, mine[:, 1], mine[:, 0]].max(1)
    return out


BOXES = [(10.3, 12.7, 60.2, 41.9), (0.0, 0.0, 127.0, 127.0), (90.5, 3.2, 97.1, 9.8), (-3.0, 50.0, 20.0, 131.5)]


@pytest.mark.parametrize("sampling_ratio", [2, 0])
@pytest.mark.parametrize("box", BOXES)
def test_align_sample_points_rederive_roi_align(box, sampling_ratio):
    torch.manual_seed(1)
    f = torch.randn(1, 5, 16, 16, dtype=torch.float64)
    scale, size = 0.125, (7, 7)
    b = np.array(box)
    bins, points, owners, samples = align_grid(b, scale, size, sampling_ratio)
    want = roi_align(f, torch.tensor([[0.0, *box]], dtype=torch.float64), size, scale, sampling_ratio)[0]
    got = rederive_align(f[0].numpy(), points, owners, scale, 49).reshape(5, 7, 7)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-12)
    w, h = max((b[2] - b[0]) * scale, 1), max((b[3] - b[1]) * scale, 1)
    expect = (sampling_ratio,) * 2 if sampling_ratio > 0 else (math.ceil(h / 7), math.ceil(w / 7))
    assert samples == expect and len(points) == 49 * expect[0] * expect[1]
    # bins tile the box row by row; each bin holds its own sample points
    np.testing.assert_allclose(bins[0, :2], b[:2])
    for k in (0, 24, 48):
        mine = points[owners == k]
        assert ((mine >= bins[k, :2]) & (mine <= bins[k, 2:])).all()


@pytest.mark.parametrize("box", BOXES)
def test_pool_cells_rederive_roi_pool(box):
    torch.manual_seed(2)
    f = torch.randn(1, 4, 16, 16, dtype=torch.float64)
    scale, size = 0.125, (7, 7)
    bins, points, owners, _ = pool_grid(np.array(box), scale, size, (16, 16))
    want = roi_pool(f, torch.tensor([[0.0, *box]], dtype=torch.float64), size, scale)[0]
    got = rederive_pool(f[0].numpy(), points, owners, scale, 49).reshape(4, 7, 7)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-12)
    assert len(bins) == 49


def test_level_and_pooled_features_follow_multiscale_roi_align():
    """Four FPN levels (strides 4-32): the LevelMapper's choice and the pooled values."""
    pooler = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)
    torch.manual_seed(3)
    feats = OrderedDict((str(i), torch.randn(1, 6, 256 // 2 ** (i + 2), 256 // 2 ** (i + 2))) for i in range(4))
    feats["pool"] = torch.randn(1, 6, 4, 4)   # a level the pooler does not read
    sizes = [(256, 256)]
    for side in (20, 70, 113, 150, 250):
        box = torch.tensor([3.0, 5.0, 3.0 + side, 5.0 + side * 0.8])
        level = pooler_level(pooler, feats, sizes, box)
        s = math.sqrt(side * side * 0.8)
        expect = min(max(math.floor(4 + math.log2(s / 224) + 1e-6), 2), 5) - 2
        assert level.index == expect and level.name == str(expect) and level.scale == 2.0 ** -(expect + 2)
        ours = pool_box(feats[level.name], box, level.scale, (7, 7), 2)
        torch.testing.assert_close(ours, pooler(feats, [box[None]], sizes)[0], rtol=0, atol=0)


def test_roi_view_equals_the_models_box_roi_pool(mask_rcnn):
    model = mask_rcnn.module
    x = mask_rcnn.preprocess(_image())
    box = np.array([30.5, 40.2, 90.0, 120.7], np.float32)   # pixels of the 160 px tensor
    view = roi_view(model, x, box)
    assert view.tensor_hw == INPUT_HW and view.input_hw == (128, 128)
    np.testing.assert_allclose(view.box, box * 0.8, rtol=1e-6)
    with torch.no_grad():
        images, feats = backbone_features(model, x)
        want = model.roi_heads.box_roi_pool(feats, [torch.from_numpy(view.box)[None]], images.image_sizes)[0]
    torch.testing.assert_close(view.pooled, want, rtol=1e-5, atol=1e-6)
    assert view.level.name == "0" and view.level.scale == 0.125 and view.samples == (2, 2)
    assert view.pooled.shape == (64, 7, 7) and view.pooled.abs().max() > 0
    pooled = roi_view(model, x, box, "pool")
    assert pooled.kind == "pool" and pooled.pooled.shape == (64, 7, 7)
    rois = torch.tensor([[0.0, *view.box.tolist()]])
    torch.testing.assert_close(pooled.pooled, roi_pool(feats["0"], rois, (7, 7), 0.125)[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="unknown pooling"):
        roi_view(model, x, box, "average")


@pytest.fixture(scope="module")
def roi_run(mask_rcnn):
    image = _image()
    det = run_method(DETECT, context(mask_rcnn, image), {"score_threshold": 0.0})
    r = run_method(ROI_ALIGN, context(mask_rcnn, image), {"index": 2, "score_threshold": 0.0, "channels": 8})
    return image, det, r


def test_method_pools_the_detection_it_names(mask_rcnn, roi_run):
    image, det, r = roi_run
    assert isinstance(r, RoiPooling) and hook_count(mask_rcnn.module) == 0
    np.testing.assert_allclose(r.box, det.boxes[2], atol=1e-3)
    assert r.label == det.labels[2] and r.score == pytest.approx(float(det.scores[2]))
    # the bins tile the box in image pixels (the image is stretched 1.25 x 0.625 onto 160 px)
    np.testing.assert_allclose(r.bins[0, :2], r.box[:2], atol=1e-3)
    np.testing.assert_allclose(r.bins[-1, 2:], r.box[2:], atol=1e-3)
    assert r.points.shape == (49 * 4, 2) and (r.points >= r.box[:2] - 1e-3).all() and (r.points <= r.box[2:] + 1e-3).all()
    # the pooled features are what the box head gets for this box
    model = mask_rcnn.module
    x = mask_rcnn.preprocess(image)
    with torch.no_grad():
        images, feats = backbone_features(model, x)
        want = model.roi_heads.box_roi_pool(feats, [torch.from_numpy(r.box_input)[None]], images.image_sizes)[0]
    np.testing.assert_allclose(r.pooled, want.numpy(), rtol=1e-5, atol=1e-6)
    # the grid shows the 8 strongest channels, strongest first
    peaks = r.pooled.reshape(64, -1).max(1)
    assert len(r.channels) == 8 and r.grid.tiles.shape == (8, 7, 7)
    np.testing.assert_array_equal(r.grid.tiles, r.pooled[r.channels])
    assert peaks[r.channels[0]] == peaks.max() and (np.diff(peaks[r.channels]) <= 0).all()
    assert r.grid.titles[0] == f"ch {r.channels[0]}"


def test_a_pooled_channel_fills_its_bins_on_the_image(roi_run):
    image, _, r = roi_run
    hm = r.grid.channel_heatmap(0)
    assert hm.heatmap.shape == image.shape[:2]
    x0, y0, x1, y1 = r.bins[24]   # the centre bin
    cy, cx = int((y0 + y1) / 2), int((x0 + x1) / 2)
    assert hm.heatmap[cy, cx] == pytest.approx(float(r.grid.tiles[0, 3, 3]))
    outside = np.ones(image.shape[:2], bool)
    bx0, by0, bx1, by1 = r.box
    outside[int(by0):int(np.ceil(by1)), int(bx0):int(np.ceil(bx1))] = False
    assert (hm.heatmap[outside] == 0).all()


def test_layers_and_npz(roi_run, tmp_path):
    _, _, r = roi_run
    layers = layers_for(r)
    bins, box, points = layers
    assert isinstance(bins, BoxesLayer) and len(bins.boxes) == 49
    assert isinstance(box, BoxesLayer) and box.texts and isinstance(points, PointsLayer)
    np.testing.assert_array_equal(points.points, r.points)
    data = np.load(r.save_npz(tmp_path / "roi.npz"))
    for key in ("pooled", "bins", "points", "point_bins", "box", "box_input", "channels", "input", "params"):
        assert key in data.files, key
    assert data["input"].shape == (1, 3, *INPUT_HW)


def test_roi_pool_method_and_errors(mask_rcnn):
    image = _image()
    r = run_method(ROI_ALIGN, context(mask_rcnn, image), {"index": 0, "pool": "pool", "score_threshold": 0.0})
    assert r.pool == "pool" and "ROI Pool" in r.title and len(r.point_bins) == len(r.points)
    with pytest.raises(ValueError, match="does not exist"):
        run_method(ROI_ALIGN, context(mask_rcnn, image), {"index": 5000, "score_threshold": 0.0})


def test_one_stage_detectors_are_refused():
    from workbench.zoo.detection_nets import build_fcos
    torch.manual_seed(0)
    handle = ModelHandle(id="fcos", module=build_fcos().eval(), task="detect",
                         preprocess=Preprocess(Geometry((128, 128), "stretch")), labels=[str(i) for i in range(7)])
    with pytest.raises(ValueError, match="two-stage"):
        run_method(ROI_ALIGN, context(handle, _image()), {"score_threshold": 0.0})
