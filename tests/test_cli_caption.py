"""``workbench run caption`` as users call it: words and one map per word in the npz, the figure."""
import json

import numpy as np

from tests.test_cli import non_blank, workbench


def test_caption_writes_the_words_maps_and_figure(tmp_path):
    out = workbench("run", "caption", "--model", "zoo:shapes-captioner", "--npz", str(tmp_path / "c.npz"),
                    "--out", str(tmp_path / "c.png"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "c.png")
    data = np.load(tmp_path / "c.npz")
    words = [str(w) for w in data["words"]]
    assert len(words) >= 3 and data["maps"].shape == (len(words), 16, 16)
    np.testing.assert_allclose(data["maps"].sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert json.loads((tmp_path / "c.json").read_text())["caption"] == " ".join(words)


def test_caption_with_a_beam_and_an_image(tmp_path):
    out = workbench("run", "caption", "--model", "zoo:shapes-captioner", "--image", "sample:scene-1000004",
                    "--set", "beam_size=3", "--set", "word=1", "--npz", str(tmp_path / "b.npz"))
    assert out.returncode == 0, out.stderr
    meta = json.loads(str(np.load(tmp_path / "b.npz")["params"]))
    assert meta["beam_size"] == 3 and meta["word"] == 1


def test_a_bad_beam_size_is_refused(tmp_path):
    out = workbench("run", "caption", "--model", "zoo:shapes-captioner", "--set", "beam_size=0")
    assert out.returncode != 0 and "beam_size: 0 is outside [1, 10]" in out.stderr
