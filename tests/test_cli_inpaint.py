"""``workbench run inpaint`` as users call it: a mask PNG (white = hole) filled by latent optimisation on
the DCGAN (the default model) or by the context encoder, the figure and the npz written; a bad mask
named in one line, nothing written; and the same through ``api.run``."""
import json

import numpy as np
import pytest

from tests.test_cli import non_blank, workbench
from workbench import api
from workbench.core.inpaint import masks as M
from workbench.core.results.inpaint import Inpainting


@pytest.fixture
def mask_png(tmp_path):
    mask = M.paint(M.empty_mask((128, 128)), [(30.5, 64.5), (98.5, 64.5)], radius=10)
    return M.save_mask(tmp_path / "mask.png", mask)


def test_latent_fill_writes_its_figure_and_arrays(tmp_path, mask_png):
    out = workbench("run", "inpaint", "--model", "zoo:digits-dcgan", "--image", "sample:digit-3",
                    "--set", f"mask={mask_png}", "--set", "steps=40", "--set", "restarts=2",
                    "--out", str(tmp_path / "i.png"), "--npz", str(tmp_path / "i.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "i.png")
    saved = np.load(tmp_path / "i.npz")
    meta = json.loads(str(saved["params"]))
    assert meta["kind"] == "inpainting" and meta["fill"] == "latent" and meta["model"] == "zoo:digits-dcgan"
    assert saved["mask"].shape == saved["filled"].shape == (32, 32) and saved["mask"].dtype == bool
    assert saved["mask"][16, 8:25].all() and not saved["mask"][4, 4]
    known = ~saved["mask"]
    np.testing.assert_array_equal(saved["filled"][known], saved["original"][known])
    assert saved["context_curve"].shape == saved["prior_curve"].shape == (40,) and saved["latent"].shape == (32,)
    assert meta["context_loss"] > 0 and meta["prior_loss"] > 0 and meta["steps"] == 40


def test_the_encoder_variant_and_a_bad_mask(tmp_path, mask_png):
    out = workbench("run", "inpaint", "--model", "zoo:digits-inpaint", "--image", "sample:digit-3",
                    "--set", f"mask={mask_png}", "--npz", str(tmp_path / "e.npz"))
    assert out.returncode == 0, out.stderr
    saved = np.load(tmp_path / "e.npz")
    meta = json.loads(str(saved["params"]))
    assert meta["fill"] == "encoder" and meta["model"] == "zoo:digits-inpaint" and meta["hole_mse"] < 0.05
    bad = workbench("run", "inpaint", "--image", "sample:digit-3", "--set", f"mask={tmp_path / 'none.png'}",
                    "--out", str(tmp_path / "x.png"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "none.png" in bad.stderr
    assert not (tmp_path / "x.png").exists()


def test_api_run_fills_a_painted_hole_either_way(mask_png):
    latent = api.run("inpaint", image="sample:digit-7", mask=str(mask_png), steps=30, restarts=2)
    encoder = api.run("inpaint", "zoo:digits-dcgan", "sample:digit-7", mask=str(mask_png), fill="encoder")
    assert isinstance(latent, Inpainting) and latent.model == "zoo:digits-dcgan" and latent.step == 30
    assert isinstance(encoder, Inpainting) and encoder.model == "zoo:digits-inpaint" and encoder.fill == "encoder"
    np.testing.assert_array_equal(latent.mask, encoder.mask)
    assert np.isnan(encoder.prior_loss) and encoder.hole_mse < 0.05
    with pytest.raises(ValueError, match="no hole"):
        api.run("inpaint", image="sample:digit-7", mask=str(M.save_mask(mask_png.with_name("e.png"),
                                                                          M.empty_mask((8, 8)))))
