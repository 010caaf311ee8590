"""A batch of feature vectors is a dataset the projector lays out without computing them again."""
import numpy as np
import pytest

from workbench import api
from workbench.core.batch.items import load_item_image
from workbench.core.batch.run import run_batch
from workbench.plugins import default_registry


def test_the_projector_lays_out_a_batch_of_feature_vectors(tmp_path):
    out = tmp_path / "vectors"
    table = run_batch(default_registry().get("feature-vector"), "zoo:shapes-cnn", "dataset:shapes:60", out)
    rows = table.to_pylist()
    result = api.run("embed", "zoo:shapes-cnn", None, dataset="batch", folder=str(out), projection="pca")
    saved = []
    for row in rows:
        with np.load(out / row["npz"]) as npz:
            saved.append(npz["series_features"])
    np.testing.assert_array_equal(result.features, np.stack(saved))
    assert result.points.shape == (60, 2) and result.layer == "penultimate" and result.dataset == "batch"
    assert result.labels.tolist() == [r["label"] for r in rows]
    assert result.predictions.tolist() == [r["predicted"] for r in rows]
    assert result.label_names == direct_names()
    image, name = result.image_of(7)
    assert np.array_equal(image, load_item_image(rows[7]["image"]))
    direct = api.run("embed", "zoo:shapes-cnn", None, dataset="shapes", count=60, projection="pca")
    np.testing.assert_allclose(result.features, direct.features, rtol=1e-4, atol=1e-5)   # the same 60 shapes
    assert result.labels.tolist() == direct.labels.tolist() and result.agreement == direct.agreement


def direct_names():
    from workbench.zoo.shapes import SHAPE_CLASSES
    return list(SHAPE_CLASSES)


def test_a_batch_of_another_method_is_refused_in_words(tmp_path):
    out = tmp_path / "saliency"
    run_batch(default_registry().get("saliency"), "zoo:shapes-cnn", "dataset:shapes:2", out)
    with pytest.raises(ValueError, match="ran 'saliency'; the projector lays out a batch of 'feature-vector'"):
        api.run("embed", "zoo:shapes-cnn", None, dataset="batch", folder=str(out), projection="pca")
    with pytest.raises(ValueError, match="not a batch folder"):
        api.run("embed", "zoo:shapes-cnn", None, dataset="batch", folder=str(tmp_path), projection="pca")
