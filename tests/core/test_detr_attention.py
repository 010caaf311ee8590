"""DETR's attention and queries read by the workbench, on a DETR at random init (seeded): the
numbers must agree with hook-free recomputations and with DETR's own matching."""
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from tests.tiny import builtin_registry, tiny_handle
from workbench.core import runner
from workbench.core.attention.capture import AttentionCaptureError, capture_attention
from workbench.core.attention.detr import hungarian, matching_cost, read_detr
from workbench.core.detection.queries import detr_layers, query_panels
from workbench.core.renderers import layers_for
from workbench.core.samples import sample_image
from workbench.core.sources import load_model
from workbench.zoo import detection_data as data
from workbench.zoo import detr_loss
from workbench.zoo.shapes import render_scene

SCENE = 3


@pytest.fixture(scope="module")
def detr():
    torch.manual_seed(0)
    return load_model("zoo:shapes-detr?weights=none")


@pytest.fixture(scope="module")
def registry():
    return builtin_registry()


def _run(handle, registry, image, **values):
    return runner.run_method(registry.get("detr-attention"), runner.context(handle, image), values)


def test_capture_reads_each_layers_cross_attention_as_the_model_computes_it(detr):
    model = detr.module
    x = model.batch([data.to_tensor(render_scene(s).image) for s in (1, 2)])
    with capture_attention(model) as captured:
        model.predict(x)
    cross = [w for n, w in zip(captured.names, captured.weights) if n.endswith("cross_attn")]
    assert len(cross) == 3 and cross[0].shape == (2, 8, 10, 256)
    for layer in range(3):
        torch.testing.assert_close(cross[layer].mean(1), model.cross_attention(x, layer), atol=1e-6, rtol=1e-5)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(type(m).forward is nn.MultiheadAttention.forward
               for m in model.modules() if isinstance(m, nn.MultiheadAttention))


def test_read_detr_splits_encoder_self_attention_from_cross_attention(detr):
    reading = read_detr(detr.module, data.to_tensor(render_scene(1).image)[None])
    assert reading.cross.shape == (3, 8, 10, 256) and reading.encoder.shape == (3, 8, 256, 256)
    assert reading.feature_hw == (16, 16)
    np.testing.assert_allclose(reading.cross.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(reading.encoder.sum(-1), 1.0, atol=1e-5)
    assert all(n.startswith("decoder.") for n in reading.cross_names)
    assert all(n.startswith("encoder.") for n in reading.encoder_names)
    # boxes are xyxy pixels of the 128x128 input, the last layer is what forward reports
    with torch.no_grad():
        out = detr.module([data.to_tensor(render_scene(1).image)])[0]
    q = out["queries"].numpy()
    np.testing.assert_allclose(reading.boxes[-1][q], out["boxes"].numpy(), atol=1e-4)


def test_a_model_without_object_queries_is_refused_by_name(registry):
    with pytest.raises(AttentionCaptureError, match="not a DETR"):
        read_detr(tiny_handle().module, torch.zeros(1, 3, 16, 16))
    offered = [m.name for m in registry.for_model("detect", tiny_handle().module)]
    assert "detect" in offered and "detr-attention" not in offered
    handle = tiny_handle()
    handle.task = "detect"
    with pytest.raises(ValueError, match="needs a DETR"):
        runner.run_method(registry.get("detr-attention"), runner.context(handle, sample_image("scene-0")), {})


def test_matching_cost_is_the_training_cost_and_hungarian_finds_the_cheapest_assignment(detr):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7), 10).astype(np.float32)
    boxes = np.sort(rng.uniform(0, 128, (10, 2, 2)), axis=1).transpose(0, 2, 1).reshape(10, 4)[:, [0, 2, 1, 3]]
    scene = render_scene(SCENE)
    ours = matching_cost(probs, boxes, scene.boxes, scene.labels, (128, 128))
    logits = torch.log(torch.as_tensor(probs))
    xyxy = torch.as_tensor(boxes, dtype=torch.float32) / 128
    cxcywh = torch.cat([(xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]], 1)
    target = {"boxes": torch.as_tensor(scene.boxes) / 128, "labels": torch.as_tensor(scene.labels)}
    torch.testing.assert_close(torch.as_tensor(ours), detr_loss.matching_cost(logits, cxcywh, target),
                               atol=1e-4, rtol=1e-4)
    query_of_object, object_of_query = hungarian(ours)
    best = min(itertools.permutations(range(10), len(scene.labels)),
               key=lambda qs: sum(ours[q, o] for o, q in enumerate(qs)))
    assert ours[query_of_object, range(len(scene.labels))].sum() == pytest.approx(
        sum(ours[q, o] for o, q in enumerate(best)), abs=1e-5)
    assert all(object_of_query[q] == o for o, q in enumerate(query_of_object))


def test_the_method_shows_a_query_and_every_layer_without_running_again(detr, registry):
    image = sample_image(f"scene-{SCENE}")
    r = _run(detr, registry, image, score_threshold=0.0)
    assert r.focus == "query" and r.query == int(np.argmax(r.scores(-1)))
    assert r.heatmap.shape == image.shape[:2]
    np.testing.assert_allclose(r.attribution, r.weights[-1].mean(0)[r.query].reshape(16, 16), atol=1e-6)
    other = r.at(query=(r.query + 1) % 10, layer=0, head=2)
    np.testing.assert_allclose(other.attribution, r.weights[0, 2, other.query].reshape(16, 16))
    assert "decoder layer 0" in other.title and "head 2" in other.title
    token = r.at_token(5 * 16 + 7)
    np.testing.assert_allclose(token.attribution, r.encoder[-1].mean(0)[5 * 16 + 7].reshape(16, 16), atol=1e-6)
    assert token.focus == "token" and "token (5, 7)" in token.title
    with pytest.raises(IndexError):
        r.at(query=10)


def test_token_and_query_parameters_are_checked(detr, registry):
    image = sample_image(f"scene-{SCENE}")
    by_token = _run(detr, registry, image, token="5,7")
    assert by_token.focus == "token" and by_token.token == 5 * 16 + 7
    for bad, match in (({"token": "17,0"}, "16x16"), ({"token": "a"}, "ROW,COL"), ({"query": 10}, "10 object queries")):
        with pytest.raises(ValueError, match=match):
            _run(detr, registry, image, **bad)


def test_ground_truth_matching_on_a_bundled_scene_only(detr, registry):
    image = sample_image(f"scene-{SCENE}")
    r = _run(detr, registry, image, scene=SCENE)
    scene = render_scene(SCENE)
    assert r.has_ground_truth and r.cost.shape == (10, len(scene.labels))
    np.testing.assert_array_equal(r.gt_labels, scene.labels + 1)
    assert len(set(r.query_of_object.tolist())) == len(scene.labels)
    with pytest.raises(ValueError, match="not the bundled scene 4"):
        _run(detr, registry, image, scene=4)


def test_layers_and_npz_hold_every_query(detr, registry, tmp_path):
    r = _run(detr, registry, sample_image(f"scene-{SCENE}"), score_threshold=0.15, scene=SCENE)
    layers = layers_for(r)
    assert [type(l).__name__ for l in layers] == [type(l).__name__ for l in detr_layers(r)]
    shown = sum(len(l.boxes) for l in layers if l.name in ("object queries", "no-object queries"))
    assert shown == 10
    assert len(query_panels(r)) == max(1, len(r.objects()))
    saved = np.load(r.save_npz(tmp_path / "d.npz"))
    assert saved["cross_attention"].shape == (3, 8, 10, 256) and saved["query_probs"].shape == (3, 10, 7)
    np.testing.assert_array_equal(saved["query_of_object"], r.query_of_object)


def test_detect_runs_detr_as_a_set_predictor_with_every_query_as_a_candidate(detr, registry):
    image = sample_image(f"scene-{SCENE}")
    result = runner.run_method(registry.get("detect"), runner.context(detr, image), {"score_threshold": 0.15})
    assert result.architecture == "set prediction" and result.nms_threshold is None
    assert len(result.pre_nms_boxes) == 10 and len(result.proposals) == 0
    kept = result.pre_nms_scores > 0.15
    assert len(result.boxes) == kept.sum()
    np.testing.assert_allclose(np.sort(result.scores), np.sort(result.pre_nms_scores[kept]), atol=1e-6)


def test_the_cli_writes_the_per_query_figure_and_every_array(tmp_path):
    from tests.test_cli import non_blank, workbench
    out = workbench("run", "detr-attention", "--model", "zoo:shapes-detr?weights=none", "--image",
                    f"sample:scene-{SCENE}", "--set", f"scene={SCENE}", "--set", "score_threshold=0",
                    "--npz", str(tmp_path / "d.npz"), "--out", str(tmp_path / "d.png"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "d.png")
    saved = np.load(tmp_path / "d.npz")
    assert saved["cross_attention"].shape == (3, 8, 10, 256)
    assert saved["matching_cost"].shape == (10, len(render_scene(SCENE).labels))
    bad = workbench("run", "detr-attention", "--model", "zoo:shapes-fcos?weights=none", "--image", "sample:scene-0")
    assert bad.returncode == 2 and "needs a DETR" in bad.stderr
