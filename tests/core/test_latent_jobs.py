"""The Latent tab's jobs give exactly what the core session functions give, called directly."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tests.core.test_latent_session import fresh_handle
from workbench.core.context import Cancelled, CancelToken
from workbench.core.latent import encoding as enc
from workbench.core.latent import jobs
from workbench.core.latent import session as ls
from workbench.zoo.digits import digit_image


def job_context(cancelled: bool = False):
    """What the engine hands a job, as far as these jobs use it: the device and a cancel check."""
    token = CancelToken()
    if cancelled:
        token.cancel()
    return SimpleNamespace(device=torch.device("cpu"), check=token.check)


@pytest.fixture(scope="module")
def vae():
    return fresh_handle("vae")


@pytest.fixture(scope="module")
def gan():
    return fresh_handle("gan")


@pytest.mark.parametrize("jc", [None, job_context()], ids=["script", "engine"])
def test_decode_and_decode_seed(vae, jc):
    z = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    got = jobs.decode(jc, vae, z)
    np.testing.assert_array_equal(got.z, z)
    np.testing.assert_array_equal(got.image, ls.decode(vae, z))
    seeded = jobs.decode_seed(jc, vae, 7)
    np.testing.assert_array_equal(seeded.z, ls.random_latent(vae, 7))
    np.testing.assert_array_equal(seeded.image, ls.decode(vae, ls.random_latent(vae, 7)))


def test_setup_is_the_prior_the_effects_and_two_seeded_decodes(gan):
    setup = jobs.setup(job_context(), gan, 3)
    prior = ls.latent_prior(gan)
    np.testing.assert_array_equal(setup.prior.mean, prior.mean)
    np.testing.assert_array_equal(setup.prior.std, prior.std)
    np.testing.assert_array_equal(setup.effects, ls.dimension_effects(gan, prior))
    for decoded, seed in ((setup.a, 3), (setup.b, 4)):
        np.testing.assert_array_equal(decoded.z, ls.random_latent(gan, seed))
        np.testing.assert_array_equal(decoded.image, ls.decode(gan, decoded.z))


def test_setup_and_scatter_stop_when_cancelled(vae):
    with pytest.raises(Cancelled):
        jobs.setup(job_context(cancelled=True), vae, 0)
    with pytest.raises(Cancelled):
        jobs.scatter(job_context(cancelled=True), vae, {})


def test_directions(gan):
    got = jobs.directions(job_context(), gan, 4)
    want = ls.principal_directions(gan, 4)
    np.testing.assert_array_equal(got.vectors, want.vectors)
    np.testing.assert_array_equal(got.std, want.std)


def test_manifold(vae):
    prior = ls.latent_prior(vae)
    base = np.full(16, 0.25, np.float32)
    got = jobs.manifold(job_context(), vae, prior, base, 1, 4, 5, 1.5)
    want = ls.manifold(vae, prior, base, 1, 4, 5, 1.5)
    np.testing.assert_array_equal(got.tiles, want.tiles)
    np.testing.assert_array_equal(got.extra["latents"], want.extra["latents"])
    assert got.titles == want.titles and got.params == want.params


def test_path(vae):
    prior = ls.latent_prior(vae)
    a, b = ls.random_latent(vae, 0), ls.random_latent(vae, 1)
    latents, frames = jobs.path(job_context(), vae, prior, a, b, 5, "spherical")
    want_latents, want_frames = ls.interpolation_frames(vae, prior, a, b, 5, "spherical")
    np.testing.assert_array_equal(latents, want_latents)
    np.testing.assert_array_equal(frames, want_frames)


def test_encode_with_a_marker_per_plot(vae):
    ae = fresh_handle("ae")
    image = digit_image(3)
    got = jobs.encode(job_context(), vae, image, {"vae": vae, "ae": ae})
    want = enc.encode(vae, image)
    np.testing.assert_array_equal(got.encoding.z, want.z)
    np.testing.assert_array_equal(got.encoding.reconstruction, want.reconstruction)
    np.testing.assert_array_equal(got.markers["vae"], want.z)
    np.testing.assert_array_equal(got.markers["ae"], enc.encode(ae, image).z)


def test_scatter_encodes_the_held_out_digits_with_each_bundled_autoencoder(vae):
    ae = fresh_handle("ae")
    asked = []

    def load(model_id):
        asked.append(model_id)
        return ae
    plots = jobs.scatter(job_context(), vae, {}, load)
    assert asked == ["zoo:digits-ae"]                   # the VAE's own plot uses the model itself
    assert plots["vae"].model is vae and plots["ae"].model is ae
    for name, handle in (("vae", vae), ("ae", ae)):
        want = enc.encode_dataset(handle)
        np.testing.assert_array_equal(plots[name].encoded.latents, want.latents)
        np.testing.assert_array_equal(plots[name].encoded.xy, want.xy)
    # a model already loaded is not loaded again; one that cannot be had leaves its plot empty
    assert jobs.scatter(None, vae, {"ae": ae}, load)["ae"].model is ae and asked == ["zoo:digits-ae"]

    def refuse(model_id):
        raise FileNotFoundError("not here")
    empty = jobs.scatter(None, vae, {}, refuse)["ae"]
    assert empty.encoded is None and empty.model is None
    assert empty.reason == "zoo:digits-ae not available (not here)"


def test_the_plot_of_a_model():
    assert enc.plot_for(fresh_handle("vae")) == "vae"
    assert enc.plot_for(fresh_handle("ae")) == "ae"
    assert enc.plot_for(fresh_handle("gan")) is None and enc.plot_for(None) is None


def test_results_for_export_carry_the_latents(vae):
    z = ls.random_latent(vae, 2)
    image = ls.decode(vae, z)
    grid = ls.decoded_grid("test:vae", z, image)
    assert grid.tiles.shape == (1, 32, 32, 3) and grid.tiles.dtype == np.uint8
    np.testing.assert_array_equal(grid.tiles[0, ..., 1], image)
    np.testing.assert_array_equal(grid.extra["latents"][0], z)
    assert grid.params["latent"] == pytest.approx(z.tolist())
    assert grid.titles[0].startswith(f"z = [{z[0]:+.2f}, ") and grid.titles[0].endswith(", …]")
    latents, frames = ls.interpolation_frames(vae, ls.latent_prior(vae), z, -z, 4, "linear")
    strip = ls.interpolation_grid("test:vae", latents, frames, "linear")
    np.testing.assert_array_equal(strip.tiles[..., 2], frames)
    assert strip.titles == ["t=0.00", "t=0.33", "t=0.67", "t=1.00"]
    assert strip.params == {"mode": "linear", "steps": 4}
    np.testing.assert_array_equal(strip.extra["latents"], latents)


def test_the_latent_modules_import_no_torch():
    import subprocess
    import sys
    code = ("import sys; import workbench.core.latent.jobs, workbench.core.latent.encoding; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
