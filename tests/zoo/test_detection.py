import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torchvision.ops import MultiScaleRoIAlign, box_iou

from workbench.zoo import detection_data as data
from workbench.zoo import train_detection
from workbench.zoo.catalogue import ZOO
from workbench.zoo.coco_eval import coco_map
from workbench.zoo.detection_nets import SeparableRoIAlign, box_path_state
from workbench.zoo.shapes import COLORS_RGB, SHAPE_CLASSES

DETECTORS = ("shapes-maskrcnn", "shapes-fasterrcnn", "shapes-fcos", "shapes-detr", "shapes-rfcn")
GOAL_MAP_50 = 0.8
THRESHOLDS = np.linspace(0.5, 0.95, 10)
DRAWN = ("circle", "square", "triangle")


def _quiet(_msg: str) -> None:
    pass


def _image(boxes, labels, masks=None, scores=None):
    out = {"boxes": np.array(boxes, np.float32).reshape(-1, 4), "labels": np.array(labels)}
    if masks is not None:
        out["masks"] = np.array(masks, bool)
    if scores is not None:
        out["scores"] = np.array(scores, np.float32)
    return out


def _box_mask(box, size=64):
    m = np.zeros((size, size), bool)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = True
    return m


def test_perfect_predictions_score_one_for_boxes_and_masks():
    boxes = [[[4, 4, 20, 24], [30, 10, 60, 40]], [[8, 30, 40, 62]]]
    labels = [[1, 3], [3]]
    gts, preds = [], []
    for b, l in zip(boxes, labels):
        masks = [_box_mask(x) for x in b]
        gts.append(_image(b, l, masks))
        preds.append(_image(b, l, masks, scores=[0.9] * len(b)))
    assert coco_map(gts, preds, masks=True) == {"map_50_95": 1.0, "map_50": 1.0,
                                                "mask_map_50_95": 1.0, "mask_map_50": 1.0}


@pytest.mark.parametrize("shift", [3, 12])
def test_a_shifted_box_counts_at_the_thresholds_its_iou_clears(shift):
    gts = [_image([[10, 10, 30, 30]], [1]), _image([[10, 10, 30, 30]], [2])]
    preds = [_image([[10, 10, 30, 30]], [1], scores=[0.9]),
             _image([[10 + shift, 10, 30 + shift, 30]], [2], scores=[0.9])]
    inter = (20 - shift) * 20
    iou = inter / (2 * 400 - inter)                     # 0.74 for 3 px, 0.25 for 12 px
    shifted_ap = np.mean(THRESHOLDS <= iou)             # one detection: AP is 1 or 0 per threshold
    result = coco_map(gts, preds)
    assert result["map_50"] == pytest.approx((1 + float(iou >= 0.5)) / 2, abs=1e-6)
    assert result["map_50_95"] == pytest.approx((1 + shifted_ap) / 2, abs=1e-6)


def test_a_higher_scored_false_positive_halves_precision():
    gts = [_image([[10, 10, 30, 30]], [1])]
    preds = [_image([[40, 40, 60, 60], [10, 10, 30, 30]], [1, 1], scores=[0.9, 0.8])]
    assert coco_map(gts, preds)["map_50"] == pytest.approx(0.5, abs=1e-6)
    preds = [_image([[40, 40, 60, 60], [10, 10, 30, 30]], [1, 1], scores=[0.7, 0.8])]
    assert coco_map(gts, preds)["map_50"] == pytest.approx(1.0, abs=1e-6)


def test_splits_are_deterministic_disjoint_and_targets_shift_labels():
    ranges = {s: set(data.split_seeds(s)) for s in data.SCENE_SEEDS}
    assert not ranges["train"] & ranges["val"] and not ranges["val"] & ranges["test"]
    assert not ranges["train"] & ranges["test"]
    a, b = data.scenes("val", 3), data.scenes("val", 3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.image, y.image)
        np.testing.assert_array_equal(x.boxes, y.boxes)
    assert list(data.train_batch_seeds(2, 4)) == [8, 9, 10, 11]
    last = data.SCENE_SEEDS["train"][1] // 4
    assert list(data.train_batch_seeds(last, 4)) == [0, 1, 2, 3]
    scene = a[0]
    target = data.to_target(scene)
    assert target["labels"].tolist() == (scene.labels + 1).tolist()
    assert target["masks"].shape == (len(scene.labels), 128, 128)
    x = data.to_tensor(scene.image)
    assert x.shape == (3, 128, 128) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError):
        data.split_seeds("val", 10, offset=data.SCENE_SEEDS["val"][1] - 5)


@pytest.mark.parametrize("size", [7, 14])
def test_separable_roi_align_matches_torchvision(size):
    g = torch.Generator().manual_seed(0)
    feats = {"0": torch.randn(3, 4, 16, 16, generator=g, requires_grad=True)}
    boxes = []
    for k in (6, 0, 9):
        xy = torch.rand(k, 2, generator=g) * 130 - 4          # some start outside the image
        wh = torch.rand(k, 2, generator=g) * 50 + 0.3         # some under one feature cell
        boxes.append(torch.cat([xy, xy + wh], 1))
    shapes = [(128, 128)] * 3
    ours = SeparableRoIAlign(["0"], size, 2)(feats, boxes, shapes)
    (grad_ours,) = torch.autograd.grad(ours.square().sum(), feats["0"])
    ref = MultiScaleRoIAlign(["0"], size, 2)(feats, boxes, shapes)
    (grad_ref,) = torch.autograd.grad(ref.square().sum(), feats["0"])
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad_ours, grad_ref, atol=1e-4, rtol=1e-4)


def test_training_resumes_to_the_same_weights(tmp_path):
    recipe = train_detection.Recipe("shapes-fcos", steps=4, batch_size=2, warmup=2, eval_every=100,
                                    val_scenes=2, test_scenes=2)
    run = lambda folder, until=None: train_detection.train_detector(
        "shapes-fcos", tmp_path / folder / "out", checkpoints=tmp_path / folder / "ck",
        until=until, recipe=recipe, log=_quiet)
    straight = run("a")
    assert run("b", until=2) is None                     # no evaluation yet, nothing written
    resumed = run("b")
    assert straight["steps"] == resumed["steps"] == 4
    wa = load_file(str(tmp_path / "a" / "out" / "shapes-fcos.safetensors"))
    wb = load_file(str(tmp_path / "b" / "out" / "shapes-fcos.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert straight["metrics"] == resumed["metrics"]


@pytest.fixture(scope="module")
def check_scenes():
    return data.scenes("test", train_detection.CHECK_SCENES)


@pytest.mark.parametrize("name", DETECTORS)
def test_bundled_detector_reproduces_its_card(name, check_scenes):
    entry = ZOO[name]
    card = entry.card()
    assert card["task"] == entry.task == "detect" and card["labels"] == entry.labels
    assert card["metrics"]["map_50"] >= GOAL_MAP_50
    assert entry.weights_path().stat().st_size <= 20e6
    check = card["check"]
    assert check["count"] == len(check_scenes)
    got = train_detection.evaluate(entry.load(), check_scenes, masks="mask_map_50" in check)
    for key in ("map_50", "mask_map_50"):
        if key in check:
            assert got[key] == pytest.approx(check[key], abs=0.02), key


def test_faster_rcnn_is_the_mask_rcnn_box_path(check_scenes):
    mask_rcnn, faster_rcnn = ZOO["shapes-maskrcnn"].load(), ZOO["shapes-fasterrcnn"].load()
    shared = box_path_state(mask_rcnn.state_dict())
    assert shared.keys() == faster_rcnn.state_dict().keys()
    for k, v in faster_rcnn.state_dict().items():
        assert torch.equal(v, shared[k]), k
    images = [data.to_tensor(s.image) for s in check_scenes[:4]]
    with torch.no_grad():
        for a, b in zip(mask_rcnn(images), faster_rcnn(images)):
            torch.testing.assert_close(a["boxes"], b["boxes"])
            assert "masks" in a and "masks" not in b


def _drawn_scene(rng: np.random.Generator):
    """Circles, squares and triangles drawn with plain OpenCV calls on uniform noise."""
    img = rng.integers(40, 140, (128, 128, 3)).astype(np.uint8)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    boxes, labels, taken = [], [], np.zeros((128, 128), bool)
    colors = list(COLORS_RGB.values())
    for _ in range(3):
        kind = int(rng.integers(3))
        r = int(rng.integers(9, 22))
        cx, cy = (int(v) for v in rng.integers(r + 2, 126 - r, 2))
        layer = np.zeros((128, 128), np.uint8)
        if kind == 0:
            cv2.circle(layer, (cx, cy), r, 255, -1)
        elif kind == 1:
            cv2.rectangle(layer, (cx - r, cy - r), (cx + r, cy + r), 255, -1)
        else:
            pts = np.array([[cx, cy - r], [cx - r, cy + r * 3 // 4], [cx + r, cy + r * 3 // 4]])
            cv2.fillPoly(layer, [pts.astype(np.int32)], 255)
        mask = layer > 0
        if (mask & taken).any():
            continue
        taken |= mask
        img[mask] = colors[int(rng.integers(len(colors)))]
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        labels.append(SHAPE_CLASSES.index(DRAWN[kind]) + 1)
    return img, np.array(boxes, np.float32), np.array(labels)


@pytest.mark.parametrize("name", DETECTORS)
def test_detectors_find_shapes_drawn_outside_the_generator(name):
    rng = np.random.default_rng(7)
    model = ZOO[name].load()
    found = total = 0
    for _ in range(15):
        img, boxes, labels = _drawn_scene(rng)
        with torch.no_grad():
            (pred,) = model([data.to_tensor(img)])
        keep = pred["scores"] >= 0.5
        iou = box_iou(torch.from_numpy(boxes), pred["boxes"][keep])
        same = torch.from_numpy(labels)[:, None] == pred["labels"][keep][None, :]
        found += int(((iou >= 0.5) & same).any(1).sum())
        total += len(boxes)
    assert found >= 0.75 * total, f"{name} found {found} of {total}"
