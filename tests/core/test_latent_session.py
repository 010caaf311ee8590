import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.latent import animation
from workbench.core.latent import encoding as autoencoding
from workbench.core.latent import session as ls
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.zoo import generative as gen
from workbench.zoo.digits import digit_image, load_split

BUILDERS = {"ae": (lambda: gen.ConvAE(16), "autoencode"), "vae": (lambda: gen.ConvVAE(16), "autoencode"),
            "gan": (lambda: gen.Generator(32), "generate")}


def fresh_handle(kind: str, seed: int = 0) -> ModelHandle:
    """A handle around a freshly initialised bundled architecture (no trained weights needed)."""
    build, task = BUILDERS[kind]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = build().eval()
    pre = Preprocess(Geometry((gen.SIDE, gen.SIDE)), (0.0,), (1.0,), grayscale=True)
    return ModelHandle(id=f"test:{kind}", module=module, task=task, preprocess=pre, latent_dim=module.latent_dim)


@pytest.fixture(scope="module")
def vae():
    return fresh_handle("vae")


def test_decode_equals_the_models_own_decode(vae):
    z = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    with torch.no_grad():
        expected = vae.module.decode(torch.from_numpy(z)[None])[0, 0].numpy()
    image = ls.decode(vae, z)
    assert image.dtype == np.uint8 and image.shape == (32, 32)
    np.testing.assert_array_equal(image, np.round(expected * 255).astype(np.uint8))
    np.testing.assert_array_equal(ls.decode_batch(vae, np.stack([z, -z]))[0], image)


def test_single_latent_decode_uses_torchs_own_kernels_and_restores_onednn():
    g = fresh_handle("gan")
    zs = gen.noise(8, 32, 5)
    assert torch._C._get_mkldnn_enabled()      # torch's default
    with torch.no_grad():
        with_onednn = g.module(torch.from_numpy(zs)).numpy()
        torch._C._set_mkldnn_enabled(False)
        try:
            native = np.stack([g.module(torch.from_numpy(z)[None])[0].numpy() for z in zs])
        finally:
            torch._C._set_mkldnn_enabled(True)
    images = np.stack([ls.decode(g, z) for z in zs])
    assert torch._C._get_mkldnn_enabled(), "the decode must switch oneDNN back on"
    np.testing.assert_array_equal(images, np.round(native[:, 0].clip(0, 1) * 255).astype(np.uint8))
    # the kernels agree to float rounding: at most one grey level apart, anywhere
    assert np.abs(images.astype(int) - np.round(with_onednn[:, 0] * 255).astype(int)).max() <= 1
    with ls.single_latent_mode():
        assert not torch._C._get_mkldnn_enabled() and torch.get_num_threads() == 1
        assert torch.is_inference_mode_enabled()
    assert torch._C._get_mkldnn_enabled()


def test_gan_decodes_through_its_generator():
    g = fresh_handle("gan")
    z = ls.random_latent(g, seed=3)
    np.testing.assert_array_equal(z, gen.noise(1, 32, 3)[0])
    with torch.no_grad():
        expected = g.module(torch.from_numpy(z)[None])[0, 0].numpy()
    np.testing.assert_array_equal(ls.decode(g, z), np.round(expected * 255).astype(np.uint8))


def test_encode_and_reconstruct_round_trip(vae):
    image = digit_image(5)
    enc = autoencoding.encode(vae, image)
    assert not enc.inverted and enc.input.shape == (32, 32)
    x = torch.from_numpy(cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA)[..., 0] / 255.0).float()
    with torch.no_grad():
        mu = vae.module.encode(x[None, None])[0].numpy()
    np.testing.assert_allclose(enc.z, mu, atol=1e-5)
    np.testing.assert_array_equal(enc.reconstruction, ls.decode(vae, enc.z))
    recon = enc.reconstruction / 255.0
    assert enc.mse == pytest.approx(((recon - enc.input / 255.0) ** 2).mean(), abs=1e-4)


def test_ink_on_paper_is_inverted_to_the_digits_polarity(vae):
    image = digit_image(2)
    plain, paper = autoencoding.encode(vae, image), autoencoding.encode(vae, 255 - image)
    assert paper.inverted
    np.testing.assert_allclose(paper.z, plain.z, atol=1e-5)


def test_gan_cannot_encode():
    with pytest.raises(ValueError, match="no encoder"):
        autoencoding.encode(fresh_handle("gan"), digit_image(1))


def test_state_sliders_per_dimension_and_along_directions(vae):
    prior = ls.latent_prior(vae)
    np.testing.assert_allclose(prior.mean, 0, atol=0.06)
    np.testing.assert_allclose(prior.std, 1, atol=0.05)
    state = ls.LatentState(prior, np.zeros(16, np.float32))
    lo, hi = state.slider_ranges()
    np.testing.assert_allclose(hi - lo, 6 * prior.std)
    z = state.set_slider(4, 1.5)
    assert z[4] == 1.5 and np.count_nonzero(z) == 1
    dirs = ls.Directions(np.eye(16)[:3], np.array([2.0, 1.0, 1.0]))
    state.use_directions(dirs)
    np.testing.assert_array_equal(state.slider_values(), np.zeros(3))
    z = state.set_slider(0, 1.0)
    np.testing.assert_allclose(z[[0, 4]], [2.0, 1.5])
    state.set_latent(np.ones(16))
    np.testing.assert_array_equal(state.base, np.ones(16))
    np.testing.assert_array_equal(state.offsets, np.zeros(3))


def test_principal_directions_of_a_generator_follow_its_first_layer():
    g = fresh_handle("gan")
    fc = g.module.net.fc
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((fc.out_features, 32)))
    v, _ = np.linalg.qr(rng.standard_normal((32, 32)))
    spectrum = 8.0 * 0.7 ** np.arange(32)
    with torch.no_grad():
        fc.weight.copy_(torch.from_numpy(u * spectrum @ v.T))
    dirs = ls.principal_directions(g, k=4)
    np.testing.assert_allclose(np.linalg.norm(dirs.vectors, axis=1), 1.0, atol=1e-9)
    # the first layer is linear, so its principal directions are its top right singular vectors
    for got, want in zip(dirs.vectors, v.T[:4]):
        assert abs(got @ want) > 0.95
    np.testing.assert_allclose(dirs.std, 1.0, atol=0.1)


def test_principal_directions_of_an_autoencoder_use_its_decoder():
    ae = fresh_handle("ae")
    dirs = ls.principal_directions(ae, k=3)
    _, _, vt = np.linalg.svd(ae.module.decoder.fc.weight.detach().double().numpy())
    assert abs(dirs.vectors[0] @ vt[0]) > 0.9


def test_manifold_grid_sweeps_two_dims_around_the_base(vae):
    prior = ls.latent_prior(vae)
    base = np.full(16, 0.5, np.float32)
    grid = ls.manifold(vae, prior, base, 2, 7, n=4, span=2.0, spacing="linear")
    assert grid.tiles.shape == (16, 32, 32, 3) and len(grid.titles) == 16
    z = grid.extra["latents"]
    np.testing.assert_allclose(z[:, [0, 1, 3]], 0.5, atol=1e-6)
    assert z[0, 2] < z[3, 2] and z[0, 7] > z[12, 7]
    np.testing.assert_array_equal(grid.tiles[5, ..., 0], ls.decode(vae, z[5]))


def test_interpolation_paths_end_at_a_and_b(vae):
    prior = ls.latent_prior(vae)
    a, b = ls.random_latent(vae, 0), ls.random_latent(vae, 1)
    for mode in ls.MODES:
        z, frames = ls.interpolation_frames(vae, prior, a, b, 7, mode)
        np.testing.assert_allclose(z[[0, -1]], np.stack([a, b]), atol=1e-5)
        assert frames.shape == (7, 32, 32)
    lin = ls.interpolation_path(prior, a, b, 5, "linear")
    sph = ls.interpolation_path(prior, a, b, 5, "spherical")
    s = prior.standardise
    assert np.linalg.norm(s(sph[2])) > np.linalg.norm(s(lin[2]))


def test_encoded_dataset_projects_with_pca(vae):
    enc = autoencoding.encode_dataset(vae, limit=60)
    _, labels = load_split("test")
    np.testing.assert_array_equal(enc.labels, labels[:60])
    assert enc.latents.shape == (60, 16) and enc.xy.shape == (60, 2)
    np.testing.assert_allclose(enc.project(enc.latents), enc.xy, atol=1e-9)
    var = enc.xy.var(0)
    assert var[0] >= var[1]
    # the first axis carries at least as much variance as any single latent coordinate
    assert var[0] >= enc.latents.var(0).max() - 1e-9


def _frames(n=6, side=32):
    ramp = np.linspace(0, 255, n).astype(np.uint8)
    return np.stack([np.full((side, side), v, np.uint8) for v in ramp])


def test_gif_has_every_frame_and_loops(tmp_path):
    path = animation.write_gif(_frames(), tmp_path / "a.gif", fps=10)
    with Image.open(path) as im:
        assert im.n_frames == 6 and im.info["loop"] == 0 and im.info["duration"] == 100
        assert im.size == (256, 256)
        im.seek(5)
        assert np.asarray(im.convert("L"))[100, 100] == 255


def test_mp4_has_every_frame(tmp_path):
    path = animation.write_mp4(_frames(9), tmp_path / "a.mp4", fps=10)
    assert path.stat().st_size > 0
    cap = cv2.VideoCapture(str(path))
    count, last = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        count, last = count + 1, frame
    cap.release()
    assert count == 9 and last.shape == (256, 256, 3)
    assert abs(int(last[128, 128, 0]) - 255) < 8


def test_animation_refuses_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="gif"):
        animation.write_animation(_frames(), tmp_path / "a.avi")
    with pytest.raises(ValueError, match="uint8"):
        animation.write_gif(np.zeros((3, 8, 8)), tmp_path / "b.gif")


def test_dimension_effects_find_the_coordinates_the_decoder_uses():
    ae = fresh_handle("ae")
    with torch.no_grad():
        ae.module.decoder.fc.weight[:, [1, 5, 9]] = 0     # three coordinates the decoder ignores
    effects = ls.dimension_effects(ae, ls.latent_prior(ae))
    assert effects.shape == (16,)
    np.testing.assert_array_equal(effects[[1, 5, 9]], 0)
    assert np.all(np.delete(effects, [1, 5, 9]) > 0)
