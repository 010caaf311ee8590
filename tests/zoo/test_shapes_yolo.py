"""The bundled YOLO: its card reproduced on held-out scenes, YOLOv1's responsible-cell
assignment on a hand-made target, and the grid method agreeing with the final detections."""
import numpy as np
import pytest
import torch

from tests.tiny import builtin_registry
from workbench.core import runner
from workbench.core.sources import load_model
from workbench.zoo import detection_data as data
from workbench.zoo import train_detection
from workbench.zoo.catalogue import ZOO
from workbench.zoo.yolo import STRIDE, ShapesYOLO

CHECK_TOLERANCE = 0.02     # fp16 weights and float summation order, nothing more
GRID_SCENES = 8


@pytest.fixture(scope="module")
def yolo():
    return load_model("zoo:shapes-yolo")


def test_the_card_says_how_it_was_made():
    card = ZOO["shapes-yolo"].card()
    assert card["architecture"]["class"] == "ShapesYOLO"
    assert card["train_command"] == "workbench train shapes-yolo" and card["train_seconds"] > 0
    assert card["metrics_split"].startswith("test")
    assert 0.0 < card["metrics"]["map_50"] <= 1.0


def test_the_card_map_is_reproduced_on_a_held_out_subset(yolo):
    card = ZOO["shapes-yolo"].card()
    check = card["check"]
    scenes = data.scenes(check["split"], check["count"])
    measured = train_detection.evaluate(yolo.module, scenes)
    print(f"shapes-yolo mAP@.5 {measured['map_50']:.4f} on {len(scenes)} test scenes "
          f"(card: {check['map_50']} there, {card['metrics']['map_50']} on all "
          f"{card['data']['splits']['test']['count']})")
    assert measured["map_50"] == pytest.approx(check["map_50"], abs=CHECK_TOLERANCE)
    assert measured["map_50_95"] == pytest.approx(check["map_50_95"], abs=CHECK_TOLERANCE)


def _boxes_in_cell(row: int, col: int, slots: list[list[float]]) -> torch.Tensor:
    """(8, 8, B, 4) predictions, all far away except ``slots`` in cell (row, col)."""
    pred = torch.tensor([0.0, 0.0, 2.0, 2.0]).repeat(8, 8, len(slots), 1)
    pred[row, col] = torch.tensor(slots)
    return pred


def test_an_object_belongs_to_the_cell_of_its_centre_and_the_box_that_overlaps_it_most():
    model = ShapesYOLO()
    gt = torch.tensor([[30.0, 60.0, 50.0, 84.0]])       # centre (40, 72): row 4, column 2
    row, col = int(72 // STRIDE), int(40 // STRIDE)
    pred = _boxes_in_cell(row, col, [[0.0, 0.0, 16.0, 16.0], [28.0, 62.0, 50.0, 84.0]])
    ((obj, r, c, slot, iou),) = model.assign(pred, gt, (128, 128))
    assert (obj, r, c, slot) == (0, 4, 2, 1)
    assert iou == pytest.approx(20 * 22 / (20 * 24 + 22 * 22 - 20 * 22), abs=1e-6)
    # swap which slot overlaps: the other box becomes responsible
    pred = _boxes_in_cell(row, col, [[28.0, 62.0, 50.0, 84.0], [0.0, 0.0, 16.0, 16.0]])
    assert model.assign(pred, gt, (128, 128))[0][3] == 0


def test_the_loss_pulls_only_the_responsible_box_towards_its_iou():
    """The responsible box's confidence has its target at its IoU with the object (the loss is
    flat there) and counts in loss_obj only; any other box's confidence counts in loss_noobj."""
    torch.manual_seed(0)
    model = ShapesYOLO().eval()
    target = [{"boxes": torch.tensor([[30.0, 60.0, 50.0, 84.0]]), "labels": torch.tensor([3])}]
    raw = torch.randn(1, 8, 8, 2 * 5 + 6) * 0.1
    with torch.no_grad():
        pred = model._decode(*model._split(raw)[:2], (128, 128))[0]
    ((_, row, col, slot, iou),) = model.assign(pred, target[0]["boxes"], (128, 128))
    assert 0.05 < iou < 0.95
    base = model.loss(raw, target, (128, 128))

    def bumped(r: int, c: int, s: int, to: float | None = None) -> dict:
        x = raw.clone()
        x[0, r, c, s * 5 + 4] = to if to is not None else x[0, r, c, s * 5 + 4] + 2.0
        return model.loss(x, target, (128, 128))

    mine = bumped(row, col, slot)
    assert mine["loss_obj"] != base["loss_obj"] and torch.equal(mine["loss_noobj"], base["loss_noobj"])
    at_iou = bumped(row, col, slot, to=float(np.log(iou / (1 - iou))))["loss_obj"]
    for delta in (-0.3, 0.3):
        assert bumped(row, col, slot, to=float(np.log(iou / (1 - iou))) + delta)["loss_obj"] > at_iou
    other = bumped(row, col, 1 - slot)
    assert other["loss_noobj"] > base["loss_noobj"] and torch.equal(other["loss_obj"], base["loss_obj"])
    far = bumped(0, 7, 0)
    assert far["loss_noobj"] > base["loss_noobj"] and torch.equal(far["loss_obj"], base["loss_obj"])
    assert torch.equal(far["loss_class"], base["loss_class"])
    assert torch.equal(far["loss_coord"], base["loss_coord"])


def test_every_detection_comes_from_a_cell_whose_confidence_times_class_probability_is_its_score(yolo):
    registry = builtin_registry()
    method = registry.get("yolo-grid")
    assert method.accepts_model("detect", yolo.module)
    assert not method.accepts_model("detect", load_model("zoo:shapes-fcos").module)
    found = 0
    for scene in data.scenes("test", GRID_SCENES):
        ctx = runner.context(yolo, scene.image)
        result = runner.run_method(method, ctx, {"score_threshold": 0.2})
        detect = runner.run_method(registry.get("detect"), runner.context(yolo, scene.image),
                                   {"score_threshold": 0.2})
        np.testing.assert_allclose(result.boxes, detect.boxes, atol=1e-3)
        np.testing.assert_allclose(result.scores, detect.scores, atol=1e-6)
        for i, (label, score) in enumerate(zip(result.labels, result.scores)):
            r, c = result.cell_of(i)
            s = int(result.detection_slots[i])
            assert result.confidences[r, c, s] * result.class_probs[r, c, label - 1] == pytest.approx(score, rel=1e-5)
            # the box is that slot's box of that cell (clipped to the image), its centre in the cell
            np.testing.assert_allclose(result.boxes[i], np.clip(result.cell_boxes[r, c, s], 0, 128), atol=1e-3)
            x0, y0, x1, y1 = result.cell_boxes[r, c, s]
            cx0, cy0, cx1, cy1 = result.cells[r * result.grid_hw[1] + c]
            assert cx0 <= (x0 + x1) / 2 <= cx1 and cy0 <= (y0 + y1) / 2 <= cy1
            found += 1
        pre = result.pre_nms()
        assert len(pre["scores"]) >= len(result.scores)
        assert np.all(pre["scores"] > 0.2)
    assert found >= GRID_SCENES


def test_the_class_param_maps_that_class_probability_per_cell(yolo):
    scene = data.scenes("test", 1)[0]
    result = runner.run_method(builtin_registry().get("yolo-grid"), runner.context(yolo, scene.image),
                               {"class_name": "star"})
    star = result.label_names.index("star")
    assert result.target == star
    r, c = 3, 5
    x0, y0, x1, y1 = result.cells[r * 8 + c]
    assert result.heatmap[int((y0 + y1) / 2), int((x0 + x1) / 2)] == pytest.approx(result.class_probs[r, c, star - 1])
    with pytest.raises(ValueError, match="classes"):
        runner.run_method(builtin_registry().get("yolo-grid"), runner.context(yolo, scene.image),
                          {"class_name": "banana"})
