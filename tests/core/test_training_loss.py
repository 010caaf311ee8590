"""Fast/Faster R-CNN's multi-task loss, region by region: the shares add up to torchvision's own
training losses, the sampled regions are the ones its matchers and samplers allow, nothing about the
model changes, and bad input is refused in words."""
import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from tests.tiny import builtin_registry
from workbench.core.detection import multitask_loss as M
from workbench.core.detection.scenes import scene_masks, scene_truth
from workbench.core.renderers import layers_for
from workbench.core.runner import context, run_method
from workbench.core.samples import sample_image
from workbench.core.sources import load_model


@pytest.fixture(scope="module")
def faster():
    return load_model("zoo:shapes-fasterrcnn")


def truth(scene: int):
    image = sample_image(f"scene-{scene}")
    boxes, labels = scene_truth(image, scene)
    return image, torch.from_numpy(boxes), torch.from_numpy(labels + 1)


@pytest.mark.parametrize("scene,seed", [(3, 0), (3, 7), (11, 2)])
def test_the_regions_shares_add_up_to_torchvisions_training_losses(faster, scene, seed):
    image, boxes, labels = truth(scene)
    x = faster.preprocess(image)
    ours = M.decompose(faster.module, x, boxes, labels, seed).terms()
    theirs = M.reference_terms(faster.module, x, boxes, labels, seed)
    print(f"scene {scene} seed {seed}:", {k: round(v, 6) for k, v in ours.items()})
    for term in M.TERMS:
        assert ours[term] == pytest.approx(theirs[term], rel=1e-5, abs=1e-8), term
    assert ours["loss_classifier"] > 0 and ours["loss_box_reg"] > 0


def test_a_mask_rcnn_decomposes_its_box_terms_too():
    model = load_model("zoo:shapes-maskrcnn")
    image, boxes, labels = truth(5)
    masks = torch.from_numpy(scene_masks(image, 5))
    x = model.preprocess(image)
    ours = M.decompose(model.module, x, boxes, labels, 1, masks).terms()
    theirs = M.reference_terms(model.module, x, boxes, labels, 1, masks)
    assert all(ours[t] == pytest.approx(theirs[t], rel=1e-5, abs=1e-8) for t in M.TERMS)
    with pytest.raises(ValueError, match="trains on masks too"):
        M.decompose(model.module, x, boxes, labels, 1)


def test_the_sampled_regions_obey_the_models_matchers_and_samplers(faster):
    image, boxes, labels = truth(3)
    m = faster.module
    d = M.decompose(m, faster.preprocess(image), boxes, labels, 4)
    rpn_iou = box_iou(torch.from_numpy(d.rpn.boxes), boxes).max(dim=1).values.numpy()
    assert len(d.rpn.labels) <= m.rpn.fg_bg_sampler.batch_size_per_image
    assert d.rpn.positive.sum() <= m.rpn.fg_bg_sampler.positive_fraction * m.rpn.fg_bg_sampler.batch_size_per_image
    assert (rpn_iou[~d.rpn.positive] < m.rpn.proposal_matcher.low_threshold).all()
    assert d.rpn.positive.any() and (d.rpn.box[~d.rpn.positive] == 0).all()
    head_iou = box_iou(torch.from_numpy(d.head.boxes), boxes).max(dim=1).values.numpy()
    assert len(d.head.labels) <= m.roi_heads.fg_bg_sampler.batch_size_per_image
    assert (head_iou[d.head.positive] >= m.roi_heads.proposal_matcher.high_threshold).all()
    assert (head_iou[~d.head.positive] < m.roi_heads.proposal_matcher.high_threshold).all()
    # a positive proposal's label is the class of the object it overlaps most
    best = box_iou(torch.from_numpy(d.head.boxes), boxes).argmax(dim=1).numpy()
    assert np.array_equal(d.head.labels[d.head.positive], labels.numpy()[best[d.head.positive]])
    assert np.allclose(d.head.matched[d.head.positive], boxes.numpy()[best[d.head.positive]], atol=1e-3)
    # a region's classification share falls as the model grows surer of its true label
    n = len(d.head.labels)
    assert np.allclose(d.head.cls, -np.log(d.head.prob) / n, rtol=1e-4, atol=1e-7)


def test_nothing_about_the_model_changes(faster):
    image, boxes, labels = truth(3)
    m = faster.module.eval()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    M.decompose(m, faster.preprocess(image), boxes, labels, 0)
    assert not any(mod.training for mod in m.modules())
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())


def test_the_method_draws_each_stage_and_refuses_what_it_cannot_score(faster):
    method = builtin_registry().get("training-loss")
    image = sample_image("scene-3")
    result = run_method(method, context(faster, image), {"scene": 3, "show": "both"})
    assert result.total() == pytest.approx(sum(result.terms.values())) and "= RPN" in result.title
    names = {layer.name: layer for layer in layers_for(result)}
    assert not names["head proposals: all background"].visible and names["head proposals: objects"].show_colorbar
    assert len(names["ground truth"].boxes) == 4 and "RPN anchors: objects" in names
    labelled = [t for t in names["head proposals: objects"].texts + names["head proposals: costliest background"].texts if t]
    assert len(labelled) == result.top
    with pytest.raises(ValueError, match="needs ground truth"):
        run_method(method, context(faster, image), {})
    with pytest.raises(ValueError, match="not the bundled scene 4"):
        run_method(method, context(faster, image), {"scene": 4})
    with pytest.raises(ValueError, match="two-stage detector"):
        run_method(method, context(load_model("zoo:shapes-fcos"), image), {"scene": 3})


def test_the_cli_writes_the_figure_and_every_region(tmp_path):
    from workbench.cli import main
    code = main(["run", "training-loss", "--model", "zoo:shapes-fasterrcnn", "--image", "sample:scene-3",
                 "--set", "scene=3", "--out", str(tmp_path / "l.png"), "--npz", str(tmp_path / "l.npz"), "--quiet"])
    assert code == 0 and (tmp_path / "l.png").stat().st_size > 1000
    data = np.load(tmp_path / "l.npz")
    assert data["head_cls"].sum() + data["head_box"].sum() > 0 and data["rpn_boxes"].shape[1] == 4
