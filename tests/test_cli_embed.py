"""``workbench run embed``: the scatter figure and the npz with coordinates, labels and ids."""
import json

import numpy as np

from tests.test_cli import non_blank, workbench


def test_embed_writes_the_scatter_and_coordinates_labels_ids(tmp_path):
    out = workbench("run", "embed", "--model", "zoo:digits-cnn", "--set", "dataset=digits", "--set", "count=300",
                    "--out", str(tmp_path / "e.png"), "--npz", str(tmp_path / "e.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "e.png")
    saved = np.load(tmp_path / "e.npz")
    assert saved["coordinates"].shape == (300, 2) and np.isfinite(saved["coordinates"]).all()
    assert saved["ids"].tolist() == list(range(300)) and saved["labels"].max() == 9
    meta = json.loads(str(saved["params"]))
    assert meta["kind"] == "embedding" and meta["projection"] == "tsne" and meta["label_agreement"] > 0.95


def test_embed_svg_and_a_bad_dataset(tmp_path):
    out = workbench("run", "embed", "--model", "zoo:shapes-cnn", "--set", "dataset=shapes", "--set", "count=200",
                    "--set", "projection=pca", "--out", str(tmp_path / "e.svg"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "e.svg").read_text().count("<") > 200
    out = workbench("run", "embed", "--model", "zoo:shapes-cnn", "--set", "dataset=cifar",
                    "--out", str(tmp_path / "x.png"))
    assert out.returncode != 0 and "dataset" in out.stderr and not (tmp_path / "x.png").exists()
