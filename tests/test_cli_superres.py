"""``workbench run superres`` as users call it: the figure and the npz written, the default model
without --model, and a mode that does not fit the image in one line."""
import json

import numpy as np

from tests.test_cli import non_blank, workbench


def test_superres_writes_its_figure_and_arrays(tmp_path):
    out = workbench("run", "superres", "--model", "zoo:sr-gan", "--image", "sample:scene-1",
                    "--out", str(tmp_path / "sr.png"), "--npz", str(tmp_path / "sr.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "sr.png")
    saved = np.load(tmp_path / "sr.npz")
    assert saved["low"].shape == (32, 32, 3) and saved["sr"].shape == (1, 128, 128, 3)
    assert saved["bicubic"].shape == saved["original"].shape == (128, 128, 3)
    meta = json.loads(str(saved["params"]))
    assert meta["kind"] == "superres" and meta["model"] == "zoo:sr-gan" and len(meta["psnr"]) == 2


def test_superres_needs_no_model_and_upscales_on_request(tmp_path):
    out = workbench("run", "superres", "--image", "sample:digit-4", "--set", "mode=upscale",
                    "--npz", str(tmp_path / "up.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "up.npz")
    assert saved["sr"].shape == (1, 512, 512, 3) and "original" not in saved.files
    assert json.loads(str(saved["params"]))["model"] == "zoo:sr-gan"


def test_a_mode_that_does_not_fit_is_one_line(tmp_path):
    out = workbench("run", "superres", "--model", "zoo:sr-pixel", "--image", "sample:scene-1",
                    "--set", "mode=upscale", "--set", "mode=sideways", "--npz", str(tmp_path / "x.npz"))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "mode" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.npz").exists()
