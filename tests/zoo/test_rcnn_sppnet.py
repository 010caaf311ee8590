"""The bundled R-CNN and SPPNet: their cards reproduced on held-out scenes, R-CNN's warp against a
direct crop and resize, SPPNet's pyramid against adaptive max pooling and torchvision's roi_pool,
and the rcnn-regions view on the CLI."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torchvision.ops import roi_align, roi_pool

from workbench.zoo.rcnn import propose
from workbench.core.sources import load_model
from workbench.zoo import detection_data as data
from workbench.zoo import train_rcnn
from workbench.zoo.catalogue import ZOO
from workbench.zoo.rcnn import (CONTEXT, PYRAMID, STRIDE, WARP, context_windows, feature_windows, pyramid_pool,
                                warp_regions)

CHECK_TOLERANCE = 0.02     # fp16 weights and float summation order, nothing more


@pytest.fixture(scope="module")
def check_scenes():
    """The cards' check subset with its selective-search proposals, made once for both models."""
    check = ZOO["shapes-rcnn"].card()["check"]
    scenes = data.scenes(check["split"], check["count"])
    return scenes, [propose(s.image, train_rcnn.MAX_PROPOSALS) for s in scenes]


@pytest.mark.parametrize("name", ["shapes-rcnn", "shapes-sppnet"])
def test_the_card_map_is_reproduced_on_a_held_out_subset(name, check_scenes):
    card = ZOO[name].card()
    assert card["train_seconds"] > 0 and card["metrics_split"].startswith("test")
    scenes, proposals = check_scenes
    assert len(scenes) == card["check"]["count"]
    measured = train_rcnn.evaluate(load_model(f"zoo:{name}").module, scenes, proposals)
    print(f"{name} mAP@.5 {measured['map_50']:.4f} on {len(scenes)} test scenes (card: {card['check']['map_50']} "
          f"there, {card['metrics']['map_50']} on all {card['data']['test']['count']}; "
          f"{card['time_per_image_ms']} ms per image)")
    assert measured["map_50"] == pytest.approx(card["check"]["map_50"], abs=CHECK_TOLERANCE)
    assert card["metrics"]["map_50"] > 0.3


def test_weights_are_small_and_the_sppnet_keeps_the_rcnn_conv_layers():
    rcnn, spp = load_model("zoo:shapes-rcnn").module, load_model("zoo:shapes-sppnet").module
    for name in ("shapes-rcnn", "shapes-sppnet"):
        assert ZOO[name].weights_path().stat().st_size < 5_000_000
    for (k, a), (_, b) in zip(rcnn.backbone.state_dict().items(), spp.backbone.state_dict().items()):
        assert torch.equal(a, b), k


def test_the_warp_of_a_box_is_a_crop_resized():
    torch.manual_seed(0)
    image = torch.rand(3, 128, 128)
    # twice the warp: every sample falls between two pixels of the crop, no edge clamping
    box = torch.tensor([[16.0, 24.0, 16.0 + 2 * WARP, 24.0 + 2 * WARP]])
    direct = F.interpolate(image[None, :, 24:24 + 2 * WARP, 16:16 + 2 * WARP], size=(WARP, WARP),
                           mode="bilinear", align_corners=False)
    assert torch.allclose(warp_regions(image, box), direct, atol=1e-5)
    # an upscaled region inside the image: torchvision's bilinear crop-and-resize, one sample per bin
    small = torch.tensor([[30.5, 41.0, 52.0, 70.25]])
    reference = roi_align(image[None], [small], (WARP, WARP), 1.0, sampling_ratio=1, aligned=True)
    assert torch.allclose(warp_regions(image, small), reference, atol=1e-5)


def test_context_padding_leaves_context_pixels_around_the_box_in_the_warp():
    box = torch.tensor([[40.0, 50.0, 64.0, 62.0]])
    window = context_windows(box)[0]
    inner = WARP - 2 * CONTEXT
    scale = (window[2:] - window[:2]) / WARP            # image pixels per warped pixel, x and y
    assert torch.allclose((box[0, :2] - window[:2]) / scale, torch.tensor([float(CONTEXT)] * 2))
    assert torch.allclose((box[0, 2:] - box[0, :2]) / scale, torch.tensor([float(inner)] * 2))
    rcnn = load_model("zoo:shapes-rcnn").module
    image = torch.rand(3, 128, 128)
    assert torch.equal(rcnn.warp(image, box), warp_regions(image, context_windows(box)))


def test_the_spatial_pyramid_equals_adaptive_max_pooling_and_roi_pool():
    torch.manual_seed(1)
    fmap = torch.randn(16, 16, 16)
    box = torch.tensor([[13.0, 22.0, 77.0, 101.0]])
    # by hand: cells round(13/8)=2 .. round(77/8)=10 across, round(22/8)=3 .. round(101/8)=13 down
    assert feature_windows(box, (16, 16)).tolist() == [[2, 3, 10, 13]]
    window = fmap[:, 3:14, 2:11]
    expected = torch.cat([F.adaptive_max_pool2d(window, n).flatten() for n in PYRAMID])
    pooled = pyramid_pool(fmap, feature_windows(box, (16, 16)))[0]
    assert torch.equal(pooled, expected)
    by_torchvision = torch.cat([roi_pool(fmap[None], [box], n, 1.0 / STRIDE).flatten() for n in PYRAMID])
    assert torch.equal(pooled, by_torchvision)


def test_the_cli_writes_the_crops_figure_and_arrays(tmp_path):
    png, npz = tmp_path / "r.png", tmp_path / "r.npz"
    done = subprocess.run([sys.executable, "-m", "workbench", "run", "rcnn-regions", "--model", "zoo:shapes-rcnn",
                           "--image", "sample:scene-1", "--out", str(png), "--npz", str(npz)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert png.stat().st_size > 0
    z = np.load(npz)
    assert z["tiles"].shape[1:] == (WARP, WARP, 3) and len(z["tiles"]) == len(z["boxes"]) == len(z["probabilities"])
    assert np.allclose(z["probabilities"].sum(1), 1.0, atol=1e-4)


def test_the_sppnet_view_draws_each_levels_bins_over_the_window():
    from workbench.core import runner
    from workbench.core.methods.rcnn_regions import METHOD
    from workbench.core.samples import sample_image
    h = load_model("zoo:shapes-sppnet")
    image = sample_image("scene-1")
    result = runner.run_method(METHOD, runner.context(h, image), {"proposal": 0})
    assert len(result.bins) == sum(n * n for n in PYRAMID)
    x0, y0, x1, y1 = result.window.tolist()
    scale = image.shape[1] / 128.0
    whole = result.bins[result.bin_levels == 1][0]
    assert np.allclose(whole, np.array([x0, y0, x1 + 1, y1 + 1]) * STRIDE * scale)
    assert result.levels_pooled.shape == (h.module.backbone[-3].out_channels, len(result.bins))
    # each level's values are that level's adaptive max pooling of the window of the model's own map
    model = h.module
    with torch.no_grad():
        fmap = model.features(model.normalise(h.preprocess(image)[0]))
    cells = fmap[:, y0:y1 + 1, x0:x1 + 1]
    for n in PYRAMID:
        expected = F.adaptive_max_pool2d(cells, n).reshape(len(fmap), -1).numpy()
        assert np.allclose(result.levels_pooled[:, result.bin_levels == n], expected, atol=1e-5)
    assert np.allclose(result.pooled, F.adaptive_max_pool2d(cells, 4).numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["shapes-rcnn", "shapes-sppnet"])
def test_detect_captures_every_stage_of_a_region_classifier(name):
    from workbench import api
    from workbench.core.samples import sample_image
    model = api.load_model(f"zoo:{name}")
    result = api.run("detect", model, sample_image("scene-1"))
    x = model.preprocess(sample_image("scene-1"))
    assert result.architecture == "region classifier"
    assert np.allclose(result.proposals, model.module.proposals(x[0]).numpy())
    assert np.all(np.diff(result.proposal_scores) <= 0)           # ranked, best first
    assert len(result.pre_nms_boxes) >= len(result.boxes) > 0
    nearest = np.abs(result.boxes[:, None] - result.pre_nms_boxes[None]).max(-1).min(1)
    assert nearest.max() < 1e-4                                     # every final box is a candidate


def test_a_click_chooses_the_region_under_it():
    from workbench.core import runner
    from workbench.core.methods.rcnn_regions import METHOD, Params
    from workbench.core.samples import sample_image
    assert Params.canvas_location == ("x", "y")
    h = load_model("zoo:shapes-rcnn")
    image = sample_image("scene-1")
    by_index = runner.run_method(METHOD, runner.context(h, image), {"index": 1})
    box = by_index.boxes[by_index.chosen]
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    clicked = runner.run_method(METHOD, runner.context(h, image), {"x": float(x), "y": float(y)})
    chosen = clicked.boxes[clicked.chosen]
    assert chosen[0] <= x <= chosen[2] and chosen[1] <= y <= chosen[3]
    # off every detection: the best-ranked proposal holding the point
    corner = runner.run_method(METHOD, runner.context(h, image), {"x": 1.0, "y": 1.0, "score_threshold": 0.99})
    chosen = corner.boxes[corner.chosen]
    assert chosen[0] <= 1 <= chosen[2] and chosen[1] <= 1 <= chosen[3]
