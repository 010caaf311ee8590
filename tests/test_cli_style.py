"""``workbench run style`` as users call it: no --model needed, the figure and the npz written; a
bad style named in one line (bad layer strings: tests/core/test_style.py); --model still required by
methods without a default model."""
import json

import numpy as np
from PIL import Image

from tests.test_cli import non_blank, workbench
from workbench.core.style.extractor import default_extractor, load_extractor
from workbench.core.style.layers import default_content_layer, default_style_layers, format_weights


def test_style_runs_without_a_model_and_writes_its_figure_and_arrays(tmp_path):
    from skimage import data    # a photograph as the content, as a user would give one
    Image.fromarray(data.chelsea()).save(tmp_path / "cat.png")
    out = workbench("run", "style", "--image", str(tmp_path / "cat.png"), "--set", "style=brick", "--set", "size=48",
                    "--set", "steps=30", "--out", str(tmp_path / "s.png"), "--npz", str(tmp_path / "s.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "s.png")
    saved = np.load(tmp_path / "s.npz")
    assert saved["image"].shape == saved["content"].shape == (32, 48, 3)      # the 451x300 cat, long side 48
    assert saved["style_curve"].shape == saved["content_curve"].shape == (30,)
    assert saved["style_curve"][-1] < 0.5 * saved["style_curve"][0]
    meta = json.loads(str(saved["params"]))
    assert meta["kind"] == "stylisation" and meta["model"] == default_extractor() and meta["style_name"] == "brick"
    handle = load_extractor(default_extractor())
    assert meta["params"]["style_layers"] == format_weights(default_style_layers(handle))
    assert meta["params"]["content_layer"] == default_content_layer(handle)


def test_texture_mode_needs_no_image(tmp_path):
    out = workbench("run", "style", "--set", "mode=texture", "--set", "style=gravel", "--set", "size=32",
                    "--set", "steps=5", "--npz", str(tmp_path / "t.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "t.npz")
    assert saved["image"].shape == (32, 32, 3) and "content" not in saved.files


def test_a_bad_style_is_one_line_and_writes_nothing(tmp_path):
    out = workbench("run", "style", "--image", "sample:scene-1", "--set", "style=velvet",
                    "--out", str(tmp_path / "s.png"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "style 'velvet' is neither a bundled style (brick" in out.stderr
    assert not (tmp_path / "s.png").exists()


def test_other_methods_still_need_a_model():
    out = workbench("run", "saliency", "--image", "sample:shapes-0")
    assert out.returncode == 2 and "the following arguments are required: --model" in out.stderr
