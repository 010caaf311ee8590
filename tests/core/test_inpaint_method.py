"""The ``inpaint`` method through the runner: the default centred hole, live partial results of the latent
fill, Poisson blending against its closed form, the encoder fill chosen by the model or asked for, the
npz written and read back, cancel, and bad input refused in words."""
import dataclasses
from functools import partial

import numpy as np
import pytest

from workbench.core import runner
from workbench.core.context import Cancelled
from workbench.core.inpaint import masks as M
from workbench.core.inpaint.run import run_with_mask
from workbench.core.results.inpaint import Inpainting
from workbench.core.results.restore import load_result
from workbench.core.samples import sample_image
from workbench.core.sources import load_model
from workbench.plugins import default_registry
from workbench.zoo.poisson_blend import poisson_blend

METHOD = default_registry().get("inpaint")


def run(model_id, image, partials=None, **values):
    ctx = runner.context(load_model(model_id), image)
    return runner.run_method(METHOD, ctx, values, on_partial=None if partials is None else partials.append)


def test_the_latent_fill_shows_its_optimisation_and_keeps_the_known_pixels(tmp_path):
    partials = []
    r = run("zoo:digits-dcgan", sample_image("digit-3"), partials, steps=30, restarts=2, preview_every=10)
    assert isinstance(r, Inpainting) and r.fill == "latent" and r.step == r.steps == 30
    assert [p.step for p in partials] == [10, 20]
    np.testing.assert_array_equal(r.mask, M.centre_square((32, 32)))        # the default hole: 12x12 centred
    known = ~r.mask
    np.testing.assert_array_equal(r.filled[known], r.original[known])
    np.testing.assert_array_equal(r.filled[r.mask], r.generated[r.mask])    # pasted
    assert np.all(r.masked[r.mask] == 0) and len(r.context_curve) == len(r.prior_curve) == 30
    assert r.prior_loss == pytest.approx(0.5 * float(np.mean(r.latent.astype(np.float64) ** 2)), rel=1e-4)
    back = load_result(r.save_npz(tmp_path / "r.npz"))
    assert isinstance(back, Inpainting) and back.context_loss == r.context_loss
    np.testing.assert_array_equal(back.filled, r.filled)


def test_poisson_blending_and_the_encoder_fill():
    image = sample_image("digit-7")
    hole = M.paint(M.empty_mask(image.shape), [(40.5, 60.5), (90.5, 70.5)], radius=10)
    ctx = runner.context(load_model("zoo:digits-dcgan"), image)
    bound = dataclasses.replace(METHOD, run=partial(run_with_mask, mask=hole))     # as the Inpaint tab runs it
    r = runner.run_method(bound, ctx, {"steps": 20, "restarts": 2, "blend": "poisson"})
    expected = np.clip(poisson_blend(r.generated, r.original, r.mask), 0, 1)
    np.testing.assert_allclose(r.filled, expected, atol=1e-6)
    np.testing.assert_array_equal(r.mask, M.to_size(hole, (32, 32)))
    auto = run("zoo:digits-inpaint", image)
    asked = run("zoo:digits-dcgan", image, fill="encoder")
    assert auto.fill == asked.fill == "encoder" and auto.model == asked.model == "zoo:digits-inpaint"
    np.testing.assert_array_equal(auto.filled, asked.filled)
    assert auto.step == auto.steps == 1 and np.isnan(auto.prior_loss) and auto.hole_mse < 0.05
    latent = run("zoo:digits-inpaint", image, fill="latent", steps=5, restarts=1)
    assert latent.model == "zoo:digits-dcgan" and latent.fill == "latent"


def test_cancel_stops_the_optimisation():
    ctx = runner.context(load_model("zoo:digits-dcgan"), sample_image("digit-1"))
    seen = []

    def on_partial(r):
        seen.append(r.step)
        ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        runner.run_method(METHOD, ctx, {"steps": 1000, "preview_every": 5}, on_partial=on_partial)
    assert seen == [5]


def test_bad_input_is_refused_in_words(tmp_path):
    image = sample_image("digit-1")
    with pytest.raises(ValueError, match="fill: 'magic' is not one of"):
        run("zoo:digits-dcgan", image, fill="magic")
    M.save_mask(tmp_path / "all.png", np.ones((16, 16), bool))
    with pytest.raises(ValueError, match="whole image"):
        run("zoo:digits-dcgan", image, mask=str(tmp_path / "all.png"))
    with pytest.raises(ValueError, match="no file"):
        run("zoo:digits-dcgan", image, mask=str(tmp_path / "missing.png"))
    with pytest.raises(ValueError, match="does not apply"):
        runner.run_method(METHOD, runner.context(load_model("zoo:digits-cnn"), image), {})
    assert METHOD.accepts_model("generate", load_model("zoo:digits-sngan").module)
