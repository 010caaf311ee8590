import json

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tests.tiny import picture
from workbench import api
from workbench.core.geometry import Geometry
from workbench.core.handle import Preprocess
from workbench.core.methods.segment import logits_to_mask
from workbench.core.results import SegMask
from workbench.core.sources import load_model
from workbench.zoo.shapes import SHAPE_CLASSES, render_scene


def _reference(handle, image):
    """torchvision's own logits for the handle's input, resized to the image with torch."""
    x = handle.preprocess(image)
    with torch.no_grad():
        out = handle.module(x)["out"]
    return F.interpolate(out, size=image.shape[:2], mode="bilinear", align_corners=False)[0]


def _agree_where_decided(mask, logits, margin=1e-3):
    """mask == argmax(logits) wherever the top two classes are more than ``margin`` apart."""
    top2 = torch.topk(logits, 2, dim=0).values
    decided = ((top2[0] - top2[1]) > margin).numpy()
    assert decided.mean() > 0.9
    ref = logits.argmax(0).numpy()
    np.testing.assert_array_equal(mask[decided], ref[decided])


def test_lraspp_gives_a_segmask_of_image_size_matching_torchvision():
    handle = load_model("torchvision:lraspp_mobilenet_v3_large?weights=none")
    assert handle.task == "segment" and len(handle.labels) == 21
    assert handle.labels[0] == "__background__" and "person" in handle.labels
    image = picture(90, 120, seed=3)
    result = api.run("segment", handle, image)
    assert isinstance(result, SegMask)
    assert result.mask.shape == (90, 120)
    assert result.label_names == handle.labels
    _agree_where_decided(result.mask, _reference(handle, image))


def test_fcn_at_input_size_is_torchvisions_argmax_exactly():
    handle = load_model("torchvision:fcn_resnet50?weights=none")
    handle.preprocess = Preprocess(Geometry((64, 96), "stretch"), handle.preprocess.mean,
                                   handle.preprocess.std)
    image = picture(64, 96, seed=4)
    result = api.run("segment", handle, image)
    with torch.no_grad():
        ref = handle.module(handle.preprocess(image))["out"][0].argmax(0).numpy()
    np.testing.assert_array_equal(result.mask, ref)


def test_logits_map_back_through_a_centre_crop():
    geometry = Geometry((4, 4), "shorter", 4, (4, 4))
    logits = np.zeros((3, 4, 4), np.float32)
    logits[2] = 5.0                        # class 2 everywhere the model looked
    mask = logits_to_mask(logits, geometry, (8, 16))
    assert mask.shape == (8, 16)
    assert (mask[:, 4:12] == 2).all()      # the centre 8x8 the model saw
    assert (mask[:, :4] == 0).all() and (mask[:, 12:] == 0).all()


def test_bundled_segmenter_finds_the_shapes_of_scene_1(tmp_path):
    image = api.load_image("sample:scene-1")
    truth = render_scene(1).semantic
    result = api.run("segment", api.load_model("zoo:shapes-segmenter"), image)
    assert result.label_names == ["background", *SHAPE_CLASSES]
    assert (result.mask == truth).mean() > 0.97
    for c in np.unique(truth):
        inter = ((result.mask == c) & (truth == c)).sum()
        union = ((result.mask == c) | (truth == c)).sum()
        assert inter / union > 0.8, result.label_names[c]

    path = result.save_npz(tmp_path / "s.npz")
    with np.load(path) as saved:
        np.testing.assert_array_equal(saved["mask"], result.mask)
        assert list(saved["label_names"]) == result.label_names
        meta = json.loads(str(saved["params"]))
    fractions = meta["class_fractions"]
    assert fractions["background"] == pytest.approx((truth == 0).mean(), abs=0.03)
    assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-4)
