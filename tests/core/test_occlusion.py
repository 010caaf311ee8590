"""Occlusion: the incremental evaluator against captum's Occlusion, on nets it was not tuned for."""
from __future__ import annotations

import gc
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

captum_attr = pytest.importorskip("captum.attr")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

from workbench.core import runner  # noqa: E402
from workbench.core.context import CancelToken, Cancelled  # noqa: E402
from workbench.core.geometry import Geometry  # noqa: E402
from workbench.core.handle import ModelHandle, Preprocess  # noqa: E402
from workbench.core.hooks import hook_count  # noqa: E402
from workbench.core.methods import occlusion as method  # noqa: E402
from workbench.core.occlusion import WindowGrid, approximate, baseline_tensor, ssim, sweep  # noqa: E402
from workbench.core.occlusion.incremental import IncrementalModel  # noqa: E402
from workbench.core.results import Heatmap  # noqa: E402


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)), inplace=True)
        y = self.b2(self.c2(y))
        y += x if self.down is None else self.down(x)
        return y.relu_()


class TinyResNet(nn.Module):
    """Residual adds (in place, as torchvision writes them), stride-2 convs, a max-pool stem."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(Block(8, 8, 1), Block(8, 16, 2), Block(16, 32, 2))
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))


class SmallVGG(nn.Module):
    """Plain conv/ReLU/max-pool stack (one ceil-mode pool), flatten, dropout, two linears."""

    def __init__(self, side: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True))
        self.classifier = nn.Sequential(nn.Linear(16 * (side // 8) ** 2, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 4))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class OddOps(nn.Module):
    """Dilated depthwise conv, channel concat, 'same' padding with an even kernel, avg-pool,
    tanh and hardswish, scalar arithmetic, global max-pool."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 6, 5, stride=2, padding=2)
        self.dw = nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=6)
        self.pw = nn.Conv2d(12, 8, 1)
        self.same = nn.Conv2d(8, 8, 4, padding="same")
        self.pool = nn.AvgPool2d(3, 2, 1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        a = F.hardswish(self.a(x))
        y = torch.cat([a, self.dw(a)], 1)
        y = self.pool(torch.tanh(self.same(self.pw(y))) * 2.0 - 0.5)
        return self.fc(torch.flatten(F.adaptive_max_pool2d(y, 1), 1))


class Untraceable(nn.Module):
    """Control flow on a tensor value: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        if y.mean() > -100:
            y = y.relu()
        return self.fc(y.mean((2, 3)))


def calibrated(model: nn.Module, side: int, channels: int = 3) -> nn.Module:
    """BatchNorm statistics from random images and a last layer scaled to O(1) logits, so
    occluding a window visibly changes the score (default random init barely reacts)."""
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, channels, side, side))
    model.eval()
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(1.0 / max(model(torch.randn(4, channels, side, side)).std().item(), 1e-6))
    return model


def _seeded(build, side):
    torch.manual_seed(0)
    return calibrated(build(), side)


# name -> (model factory, input side, window, stride); several windows do not tile the input
CASES = {
    "tiny-resnet": (lambda: _seeded(TinyResNet, 40), 40, 6, 3),
    "small-vgg": (lambda: _seeded(SmallVGG, 32), 32, 5, 3),
    "odd-ops": (lambda: _seeded(OddOps, 30), 30, 7, 3),
    "resnet18": (lambda: _seeded(lambda: torchvision.models.resnet18(weights=None, num_classes=10), 48), 48, 8, 4),
    "mobilenet_v3_small": (lambda: _seeded(
        lambda: torchvision.models.mobilenet_v3_small(weights=None, num_classes=10), 48), 48, 8, 4),
}
_MODELS: dict[str, nn.Module] = {}


def case(name: str):
    build, side, window, stride = CASES[name]
    if name not in _MODELS:
        _MODELS[name] = build()
    torch.manual_seed(1)
    x = torch.randn(1, 3, side, side)
    return _MODELS[name], x, window, stride


def captum_map(model, x, window, stride, base, target):
    c = x.shape[1]
    with torch.no_grad():
        attr = captum_attr.Occlusion(model).attribute(
            x, sliding_window_shapes=(c, window, window), strides=(c, stride, stride),
            baselines=base, target=target, perturbations_per_eval=16)
    assert torch.equal(attr[0], attr[0, :1].expand_as(attr[0]))   # the same for every channel
    return attr[0, 0].numpy()


def final_map(model, x, target, window, stride, base, mode="exact", incremental=True, **kw):
    """The sweep's final map; the incremental evaluator even where the sweep is small enough to
    run whole images by default."""
    grid = WindowGrid(x.shape[-2], x.shape[-1], window, stride)
    return list(sweep(model, x, target, grid, base, mode, incremental=incremental, **kw))[-1].attribution


def rel_diff(ours, ref):
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("baseline", ["zero", "mean", "blurred"])
def test_exact_equals_captum(name, baseline):
    model, x, window, stride = case(name)
    with torch.no_grad():
        target = int(model(x).argmax())
    base = baseline_tensor(x, baseline, window)
    ref = captum_map(model, x, window, stride, base, target)
    assert np.abs(ref).max() > 1e-3            # the map says something
    ours = final_map(model, x, target, window, stride, base, batch_size=7)
    assert ours.shape == ref.shape
    assert rel_diff(ours, ref) <= 1e-4


@pytest.mark.parametrize("name", ["tiny-resnet", "small-vgg"])
def test_batches_side_by_side_give_the_same_map(name):
    model, x, window, stride = case(name)
    with torch.no_grad():
        target = int(model(x).argmax())
    base = torch.zeros_like(x)
    one = final_map(model, x, target, window, stride, base, batch_size=5)
    before = torch.get_num_threads()
    torch.set_num_threads(3)          # three batches at a time, each on one thread
    try:
        three = final_map(model, x, target, window, stride, base, batch_size=5)
    finally:
        torch.set_num_threads(before)
    assert rel_diff(three, one) <= 1e-6
    assert rel_diff(three, captum_map(model, x, window, stride, base, target)) <= 1e-4


def test_winograd_matches_direct_convolution():
    from workbench.core.occlusion import winograd
    torch.manual_seed(0)
    w, b = torch.randn(32, 24, 3, 3) * 0.1, torch.randn(32)
    for h, wd in [(9, 9), (10, 7), (3, 4)]:
        x = torch.randn(2, 24, h, wd).contiguous(memory_format=torch.channels_last)
        ours = winograd.conv3x3(x, winograd.transform_weight(w), b, relu=True)
        ref = F.relu(F.conv2d(x.double(), w.double(), b.double())).float()
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


def test_intermediate_maps_equal_a_full_forward_and_the_model_is_untouched():
    from workbench.core.occlusion.patches import materialise
    model, x, window, stride = case("tiny-resnet")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    grid = WindowGrid(40, 40, window, stride)
    evaluator = IncrementalModel(model, x, torch.zeros_like(x), grid.boxes())
    idx = np.array([0, 5, 17, 40, 99, len(grid) - 1])
    name = next(st.name for st in evaluator.plan.steps if st.name.startswith("layers_1_c2"))
    patch = evaluator.value_at(name, idx)
    ours = materialise(patch, evaluator.pixels(name))
    b = torch.from_numpy(grid.boxes()[idx])
    pix = torch.arange(40)
    inside = (((pix >= b[:, 0:1]) & (pix < b[:, 1:2]))[:, :, None] & ((pix >= b[:, 2:3]) & (pix < b[:, 3:4]))[:, None, :])
    occluded = x * ~inside[:, None]
    with torch.no_grad():
        block = model.layers[1]
        stem = model.layers[0](model.stem(occluded))
        ref = block.b2(block.c2(F.relu(block.b1(block.c1(stem)))))
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])
    assert model.stem[2].inplace           # the executor's out-of-place copy left the model's ReLU alone


def test_window_grid_matches_captum_counts():
    for size, window, stride in [(30, 7, 3), (32, 5, 3), (64, 8, 4), (10, 4, 3), (11, 4, 3), (9, 9, 1)]:
        grid = WindowGrid(size, size, window, stride)
        assert grid.shape[0] == math.ceil((size - window) / stride) + 1
        assert grid.ys[-1] < size                                   # last window may be cut off
        cover = grid.coverage()
        assert cover.min() >= 1
        # the map of drops equal to 1 is 1 everywhere
        np.testing.assert_allclose(grid.accumulate(np.ones(len(grid))), 1.0)


def test_window_drops_come_back_from_their_map():
    grid = WindowGrid(50, 44, 8, 5)               # the last windows stick out and are cut
    drops = np.random.default_rng(1).normal(size=len(grid))
    np.testing.assert_allclose(grid.drops_of(grid.accumulate(drops)), drops, atol=1e-5)


def test_untraceable_model_falls_back_and_stays_exact():
    torch.manual_seed(0)
    model = Untraceable().eval()
    x = torch.randn(1, 3, 20, 20)
    base = baseline_tensor(x, "zero", 4)
    ours = final_map(model, x, 1, 4, 2, base)
    assert rel_diff(ours, captum_map(model, x, 4, 2, base, 1)) <= 1e-4


def test_a_disagreeing_engine_is_not_used(monkeypatch):
    model, x, window, stride = case("tiny-resnet")
    real = IncrementalModel.outputs
    monkeypatch.setattr(IncrementalModel, "outputs", lambda self, idx: real(self, idx) * 1.01)
    base = torch.zeros_like(x)
    ours = final_map(model, x, 0, window, stride, base)
    assert rel_diff(ours, captum_map(model, x, window, stride, base, 0)) <= 1e-4


def test_one_channel_input():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 8 * 8, 3)).eval()
    x = torch.randn(1, 1, 16, 16)
    base = baseline_tensor(x, "blurred", 4)
    ours = final_map(model, x, 2, 4, 2, base)
    assert rel_diff(ours, captum_map(model, x, 4, 2, base, 2)) <= 1e-4


@pytest.mark.parametrize("name", list(CASES))
def test_approximate_is_close(name):
    model, x, window, stride = case(name)
    with torch.no_grad():
        target = int(model(x).argmax())
    base = baseline_tensor(x, "zero", window)
    exact = final_map(model, x, target, window, stride, base)
    approx = final_map(model, x, target, window, stride, base, mode="approximate")
    assert ssim(exact, approx) >= 0.9


def test_approximate_skips_windows_where_the_map_is_flat():
    """An object on a blank background: windows on the background change nothing, so the
    drill-down leaves most of them to interpolation."""
    torch.manual_seed(0)
    side = 48
    model = calibrated(SmallVGG(side), side)
    yy, xx = np.mgrid[:side, :side]
    disc = torch.from_numpy(((yy - 20) ** 2 + (xx - 27) ** 2 < 64).astype(np.float32))
    x = torch.randn(1, 3, side, side) * disc
    grid = WindowGrid(side, side, 6, 2)
    base = torch.zeros_like(x)
    with torch.no_grad():
        target = int(model(x).argmax())
    exact = final_map(model, x, target, 6, 2, base)
    updates = list(sweep(model, x, target, grid, base, "approximate", incremental=True))
    assert updates[-1].total < 0.6 * len(grid)
    assert ssim(exact, updates[-1].attribution) >= 0.9


def test_coarse_maps_come_first_and_fill_in():
    model, x, window, stride = case("tiny-resnet")
    grid = WindowGrid(40, 40, window, stride)
    updates = list(sweep(model, x, 0, grid, torch.zeros_like(x), "exact", batch_size=8, incremental=True))
    maps = [u for u in updates if u.attribution is not None]
    assert len(maps) >= 3 and maps[-1].final and not any(u.final for u in maps[:-1])
    assert maps[0].done == 16                         # every 4th position of the 13 x 13 grid
    assert [u.done for u in maps] == sorted({u.done for u in maps})
    assert maps[-1].done == maps[-1].total == len(grid)
    dones = [u.done for u in updates]
    assert dones == sorted(dones)


def _handle(model: nn.Module, side: int) -> ModelHandle:
    return ModelHandle(id="test:net", module=model, task="classify",
                       preprocess=Preprocess(Geometry((side, side))), labels=[f"c{i}" for i in range(10)])


def test_method_runs_progressively_and_matches_captum():
    model, _, window, stride = case("tiny-resnet")
    image = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    handle = _handle(model, 40)
    partials = []
    ctx = runner.context(handle, image)
    before = hook_count(model)
    result = runner.run_method(method.METHOD, ctx, {"window": window, "stride": stride, "baseline": "mean"},
                               on_partial=partials.append)
    assert hook_count(model) == before == 0
    assert isinstance(result, Heatmap) and result.signed
    assert len(partials) >= 2 and partials[0].params["window"] == window
    assert result.heatmap.shape == (50, 60) and result.attribution.shape == (40, 40)
    x = handle.preprocess(image)
    ref = captum_map(model, x, window, stride, baseline_tensor(x, "mean", window), result.target)
    assert rel_diff(result.attribution, ref) <= 1e-4


def test_method_default_window_and_bad_params():
    p = method.Params()
    # auto: about 1/8 of the short side, stride half of it (a 5 px window on 64 px was noise)
    assert method.window_and_stride(p, 224, 224) == (28, 14)
    assert method.window_and_stride(p, 64, 64) == (8, 4)
    assert method.window_and_stride(p, 64, 200) == (8, 4)
    assert method.window_and_stride(p, 8, 8) == (2, 1)
    with pytest.raises(ValueError):
        method.window_and_stride(method.Params(window=10, stride=11), 64, 64)
    with pytest.raises(ValueError):
        method.window_and_stride(method.Params(window=65), 64, 64)


def test_probability_score_matches_captum_on_softmax():
    model, _, window, stride = case("tiny-resnet")
    image = np.random.default_rng(2).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    handle = _handle(model, 40)
    values = {"window": window, "stride": stride, "baseline": "mean"}
    probs = runner.run_method(method.METHOD, runner.context(handle, image), {**values, "score": "probability"})
    logits = runner.run_method(method.METHOD, runner.context(handle, image), values)
    assert probs.params["score"] == "probability" and "probability" in probs.title
    x = handle.preprocess(image)
    base = baseline_tensor(x, "mean", window)
    ref = captum_map(lambda t: torch.softmax(model(t), dim=1), x, window, stride, base, probs.target)
    assert rel_diff(probs.attribution, ref) <= 1e-4
    assert rel_diff(logits.attribution, captum_map(model, x, window, stride, base, logits.target)) <= 1e-4
    # a drop in probability is at most 1, and the map differs from the logit map in shape, not only scale
    assert np.abs(probs.attribution).max() <= 1.0
    a, b = probs.attribution.ravel(), logits.attribution.ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.9999


def test_an_unknown_score_is_refused():
    model, _, window, stride = case("tiny-resnet")
    handle = _handle(model, 40)
    with pytest.raises(ValueError, match="score"):
        runner.run_method(method.METHOD, runner.context(handle, np.zeros((40, 40, 3), np.uint8)),
                          {"window": window, "stride": stride, "score": "odds"})


def test_cancel_stops_the_sweep():
    model, _, window, stride = case("resnet18")
    handle = _handle(model, 48)
    token = CancelToken()
    seen = []

    def on_progress(p):
        seen.append(p.fraction)
        token.cancel()

    ctx = runner.context(handle, np.zeros((48, 48, 3), np.uint8), cancel=token)
    with pytest.raises(Cancelled):
        runner.run_method(method.METHOD, ctx, {"window": window, "stride": stride}, on_progress=on_progress)
    assert len(seen) == 1 and seen[0] < 0.5


def test_memory_is_stable_over_repeated_runs():
    model, x, window, stride = case("tiny-resnet")
    grid = WindowGrid(40, 40, window, stride)
    base = torch.zeros_like(x)

    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096

    list(sweep(model, x, 0, grid, base, incremental=True))
    gc.collect()
    start = rss()
    for _ in range(3):
        list(sweep(model, x, 0, grid, base, incremental=True))
    gc.collect()
    assert rss() - start < 20 * 2**20
    evaluator = IncrementalModel(model, x, base, grid.boxes())
    evaluator.outputs(np.arange(4))
    assert hook_count(model) == 0


def _ssim_reference(a, b, data_range):
    """skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5), written with scipy."""
    ndimage = pytest.importorskip("scipy.ndimage")

    def filt(v):
        return ndimage.gaussian_filter(v, sigma=1.5, truncate=3.5, mode="reflect")

    a, b = a.astype(np.float64), b.astype(np.float64)
    ux, uy, uxx, uyy, uxy = filt(a), filt(b), filt(a * a), filt(b * b), filt(a * b)
    n = 11 * 11
    vx, vy, vxy = (n / (n - 1) * (uxx - ux * ux), n / (n - 1) * (uyy - uy * uy), n / (n - 1) * (uxy - ux * uy))
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return s[5:-5, 5:-5].mean()


def test_ssim_matches_the_reference_formula():
    rng = np.random.default_rng(0)
    a = cv_smooth(rng.normal(size=(40, 52)))
    b = a + 0.3 * rng.normal(size=a.shape)
    assert ssim(a, a) == pytest.approx(1.0)
    for other in (b, -a, np.zeros_like(a)):
        assert ssim(a, other) == pytest.approx(_ssim_reference(a, other, a.max() - a.min()), abs=1e-9)
    assert ssim(a, b) < 0.9 < ssim(a, a + 0.01 * rng.normal(size=a.shape))


def cv_smooth(v):
    import cv2
    return cv2.GaussianBlur(v, (0, 0), 2.0)


def test_sweep_leaves_the_thread_count_alone():
    model, x, window, stride = case("tiny-resnet")
    grid = WindowGrid(40, 40, window, stride)
    before = torch.get_num_threads()
    list(sweep(model, x, 0, grid, torch.zeros_like(x), "exact", batch_size=8, incremental=True))
    assert torch.get_num_threads() == before
    token = CancelToken()
    updates = sweep(model, x, 0, grid, torch.zeros_like(x), "exact", batch_size=8, check=token.check,
                    incremental=True)
    next(updates)
    token.cancel()
    with pytest.raises(Cancelled):
        list(updates)
    assert torch.get_num_threads() == before


def test_reach_cuts_rectangles_around_the_window():
    """Windows at a corner and at (112, 208) of a 224 input, seen on a wholly dirty 14 x 14 map."""
    from workbench.core.occlusion import plan as P
    centre = np.array([[8 / 224, 8 / 224], [112 / 224, 208 / 224]])
    extent = np.array([16 / 224, 16 / 224])
    rect = np.array([[0, 14, 0, 14], [0, 14, 0, 14]])          # wholly dirty 14 x 14 map
    cut = P._cut(rect, centre, extent, 0.3, (14, 14))
    keep = max(math.ceil(0.3 * 14), 1 + 2 * P.CUT_MARGIN)
    assert ((cut[:, 1] - cut[:, 0]) == keep).all() and ((cut[:, 3] - cut[:, 2]) == keep).all()
    assert cut[0, 0] == 0 and cut[0, 2] == 0                   # at the corner, the cut stays inside
    assert cut[1, 0] <= 7 < cut[1, 1] and cut[1, 3] == 14      # around the window's centre
    small = np.array([[2, 6, 3, 7]])
    assert np.array_equal(P._cut(small, centre[:1], extent, 0.3, (14, 14)), small)


def _wide_net():
    """A resnet-shaped net on a 128 x 128 input: maps large enough for a reach to cut them."""
    model = _seeded(lambda: torchvision.models.resnet18(weights=None, num_classes=10), 128)
    return model, torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(3))


def _calibration_case(model, x, grid):
    """The evaluator, a calibration sample of windows, their exact drops for class 0, the clean score."""
    evaluator = IncrementalModel(model, x, torch.zeros_like(x), grid.boxes())
    clean = float(evaluator.clean_output[0, 0])
    sample = approximate.calibration_sample(np.zeros(len(grid), bool))
    exact = clean - evaluator.outputs(sample)[:, 0].double().numpy()
    return evaluator, sample, exact, clean


def _wide_case():
    return _calibration_case(*_wide_net(), WindowGrid(128, 128, 16, 8))


def test_calibration_takes_the_shortest_reach_within_the_error():
    from workbench.core.occlusion import plan as P
    evaluator, sample, exact, clean = _wide_case()
    scale = np.sqrt(np.mean(exact ** 2))
    full = P.dirty_macs(evaluator.plan)
    errors, worth = {}, {}
    for reach in approximate.REACHES:
        cut = evaluator.with_reach(reach)
        worth[reach] = full >= approximate.MIN_SAVING * P.dirty_macs(cut.plan)
        drops = clean - cut.outputs(sample)[:, 0].double().numpy()
        errors[reach] = float(np.sqrt(np.mean((drops - exact) ** 2))) / scale
    assert worth[0.3] and errors[0.3] > 0      # the shortest reach saves work and changes the drops
    loose, picked = approximate.calibrated_reach(evaluator, sample, exact, clean, 0, error=10.0)
    assert picked == 0.3 and loose.plan.dirty is not evaluator.plan.dirty
    strict, none = approximate.calibrated_reach(evaluator, sample, exact, clean, 0, error=0.0)
    assert none is None and strict is evaluator
    for bound in sorted(errors.values()):
        _, chosen = approximate.calibrated_reach(evaluator, sample, exact, clean, 0, error=bound)
        assert chosen == next((r for r in approximate.REACHES if worth[r] and errors[r] <= bound), None)


def test_a_reach_that_saves_little_is_not_taken():
    """On small maps the cut keeps the window and its margin whole: nothing saved, reach unused."""
    model, x, window, stride = case("tiny-resnet")
    evaluator, sample, exact, clean = _calibration_case(model, x, WindowGrid(40, 40, window, stride))
    kept, reach = approximate.calibrated_reach(evaluator, sample, exact, clean, 0, error=10.0)
    assert reach is None and kept is evaluator


def test_approximate_sweep_reports_its_reach_and_counts_every_window_once():
    model, x = _wide_net()
    grid = WindowGrid(128, 128, 16, 8)
    updates = list(sweep(model, x, 0, grid, torch.zeros_like(x), "approximate"))
    last = updates[-1]
    assert last.final and last.done == last.total <= len(grid)
    assert all(u.done <= u.total for u in updates)
    assert last.reach in approximate.REACHES
    exact = final_map(model, x, 0, 16, 8, torch.zeros_like(x))
    assert ssim(exact, last.attribution) >= 0.9
    assert list(sweep(model, x, 0, grid, torch.zeros_like(x), "approximate", reach=1.0))[-1].reach is None
    fixed = list(sweep(model, x, 0, grid, torch.zeros_like(x), "approximate", reach=0.5))[-1]
    assert fixed.reach == 0.5 and fixed.done == fixed.total
    with pytest.raises(ValueError):
        next(sweep(model, x, 0, grid, torch.zeros_like(x), "approximate", reach=1.5))


def test_small_sweeps_run_whole_images_and_large_ones_take_the_model_apart():
    from workbench.core.occlusion.batched import BatchedModel
    from workbench.core.occlusion.sweep import make_evaluator
    model, x, window, stride = case("tiny-resnet")
    grid = WindowGrid(40, 40, window, stride)
    evaluator, _ = make_evaluator(model, x, torch.zeros_like(x), grid)
    assert isinstance(evaluator, BatchedModel) and evaluator.batch
    assert isinstance(make_evaluator(model, x, torch.zeros_like(x), grid, incremental=True)[0], IncrementalModel)
    big = torch.randn(1, 3, 96, 96)
    assert isinstance(make_evaluator(model, big, torch.zeros_like(big), WindowGrid(96, 96, 8, 4))[0], IncrementalModel)
    base = torch.zeros_like(x)
    ours = final_map(model, x, 0, window, stride, base, incremental=None)
    assert rel_diff(ours, captum_map(model, x, window, stride, base, 0)) <= 1e-6
