"""``workbench run actmax|invert|dream`` as users call them: the figure, the npz and its JSON."""
import json

import numpy as np

from tests.test_cli import non_blank, workbench


def test_actmax_writes_the_class_image_and_its_probability(tmp_path):
    out = workbench("run", "actmax", "--model", "zoo:shapes-cnn", "--set", "target=class:star", "--set", "steps=64",
                    "--out", str(tmp_path / "a.png"), "--npz", str(tmp_path / "a.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "a.png")
    saved = np.load(tmp_path / "a.npz")
    assert saved["images"].shape == (1, 64, 64, 3) and saved["curve"].shape == (64,)
    assert saved["probabilities"][0].argmax() == 3
    meta = json.loads(str(saved["params"]))
    assert meta["params"]["target"] == "class:3" and meta["kind"] == "visualisation"
    assert json.loads((tmp_path / "a.json").read_text())["method"] == "actmax"


def test_actmax_with_a_bad_target_says_so_and_writes_nothing(tmp_path):
    out = workbench("run", "actmax", "--model", "zoo:shapes-cnn", "--set", "target=chanel:3",
                    "--out", str(tmp_path / "a.png"))
    assert out.returncode != 0 and "not one of: class" in out.stderr
    assert not (tmp_path / "a.png").exists()


def test_invert_and_dream_write_their_figures_and_arrays(tmp_path):
    out = workbench("run", "invert", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0", "--set",
                    "every_layer=true", "--set", "steps=30", "--out", str(tmp_path / "i.png"),
                    "--npz", str(tmp_path / "i.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "i.npz")
    assert saved["images"].shape == (5, 64, 64, 3) and saved["ssim"].shape == (5,)
    assert saved["ssim"][0] > saved["ssim"][-1] and non_blank(tmp_path / "i.png")
    out = workbench("run", "dream", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0", "--set", "octaves=2",
                    "--set", "steps=5", "--out", str(tmp_path / "d.png"), "--npz", str(tmp_path / "d.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "d.npz")
    assert saved["images"].shape == (1, 128, 128, 3) and saved["original"].shape == (128, 128, 3)
    assert non_blank(tmp_path / "d.png")
