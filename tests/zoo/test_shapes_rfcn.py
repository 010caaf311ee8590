"""R-FCN on the bundled two-stage detector: its head is the position-sensitive vote the view shows,
its backbone and RPN are the Faster R-CNN's, and the view refuses other models."""
import numpy as np
import pytest
import torch
from torchvision.ops import roi_align

from tests.tiny import builtin_registry
from workbench.core.detection.position_sensitive import read_vote
from workbench.core.renderers import layers_for
from workbench.core.runner import context, run_method
from workbench.core.samples import sample_image
from workbench.core.sources import load_model
from workbench.zoo.catalogue import ZOO


@pytest.fixture(scope="module")
def rfcn():
    return load_model("zoo:shapes-rfcn")


def proposals_of(model, x):
    with torch.no_grad():
        images, _ = model.transform(list(x))
        features = model.backbone(images.tensors)
        proposals, _ = model.rpn(images, features)
    return images, features, proposals


def test_the_views_vote_is_the_models_own_class_logits(rfcn):
    model = rfcn.module
    x = rfcn.preprocess(sample_image("scene-2"))
    images, features, proposals = proposals_of(model, x)
    with torch.no_grad():
        pooled = model.roi_heads.box_roi_pool(features, proposals, images.image_sizes)
        logits, _ = model.roi_heads.box_predictor(model.roi_heads.box_head(pooled))
    for row in (0, 3, 11):
        box = proposals[0][row].numpy()
        label = int(logits[row].argmax())
        vote = read_vote(model, x, box, label)
        assert np.allclose(vote.logits, logits[row].numpy(), atol=1e-5)
        assert vote.vote == pytest.approx(float(logits[row, label]), abs=1e-5)


def test_each_bin_pools_only_its_own_map(rfcn):
    """A bin's score is RoIAlign of map (i, j) over that bin alone, computed here without ps_roi_align
    (whose sampling is RoIAlign's with ``aligned=True``: pixel centres at half-integers)."""
    model = rfcn.module
    x = rfcn.preprocess(sample_image("scene-2"))
    _, _, proposals = proposals_of(model, x)
    vote = read_vote(model, x, proposals[0][0].numpy(), label=2)
    maps = torch.from_numpy(vote.maps)[:, None]          # (K*K, 1, H, W)
    for index in range(vote.k * vote.k):
        box = torch.from_numpy(vote.bins[index:index + 1])
        alone = roi_align(maps[index:index + 1], [box], output_size=1, spatial_scale=1 / vote.stride,
                          sampling_ratio=2, aligned=True)
        assert float(alone) == pytest.approx(float(vote.bin_scores[index]), abs=1e-5)
    # and a bin's score differs from what the neighbouring map would have given it
    box = torch.from_numpy(vote.bins[0:1])
    other = roi_align(maps[1:2], [box], output_size=1, spatial_scale=1 / vote.stride, sampling_ratio=2, aligned=True)
    assert float(other) != pytest.approx(float(vote.bin_scores[0]), abs=1e-4)


def test_the_backbone_and_rpn_are_the_faster_rcnns():
    ours, theirs = ZOO["shapes-rfcn"].load().state_dict(), ZOO["shapes-fasterrcnn"].load().state_dict()
    shared = [k for k in ours if k.startswith(("backbone.", "rpn."))]
    assert shared and all(torch.equal(ours[k], theirs[k]) for k in shared)


def test_the_method_draws_the_vote_and_refuses_other_detectors(rfcn, tmp_path):
    method = builtin_registry().get("rfcn-vote")
    image = sample_image("scene-2")
    result = run_method(method, context(rfcn, image), {"index": 0})
    assert result.maps.shape[0] == result.k * result.k == len(result.bins) == len(result.bin_scores)
    assert result.probs[result.label] == pytest.approx(result.probs.max()) and result.label > 0
    inside = result.heatmap[int(result.box[1]) + 2:int(result.box[3]) - 2, int(result.box[0]) + 2:int(result.box[2]) - 2]
    assert np.abs(inside).max() > 0 and result.heatmap[0, 0] == 0
    names = [layer.name for layer in layers_for(result)]
    assert "R-FCN bins" in names and "R-FCN region" in names
    from workbench.figure.render import export_result
    assert export_result(result, image, tmp_path / "v.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="R-FCN"):
        run_method(method, context(load_model("zoo:shapes-fasterrcnn"), image), {})


def test_the_cli_writes_the_vote(tmp_path):
    from workbench.cli import main
    code = main(["run", "rfcn-vote", "--model", "zoo:shapes-rfcn", "--image", "sample:scene-2", "--out",
                 str(tmp_path / "v.png"), "--npz", str(tmp_path / "v.npz"), "--quiet"])
    data = np.load(tmp_path / "v.npz")
    assert code == 0 and data["maps"].shape[0] == 9 and data["bins"].shape == (9, 4)
