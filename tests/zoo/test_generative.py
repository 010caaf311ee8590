"""The bundled generative models reproduce their cards; the latent methods run on them."""
import json

import numpy as np
import pytest
import torch

from workbench import api
from workbench.cli import main as cli
from workbench.core.context import CancelToken, Cancelled
from workbench.core.runner import context, run_method
from workbench.plugins import default_registry
from workbench.zoo import generative, sample_quality
from workbench.zoo.catalogue import MODELS_DIR
from workbench.zoo.digits import load_split
from workbench.zoo.latent import grid_values
from workbench.zoo.metrics import fid, inception_score
from workbench.zoo.train_generative import reconstruction_mse, vae_bound

AUTOENCODERS = ["digits-ae", "digits-vae"]
GANS = ["digits-dcgan", "digits-sngan"]
CARD_KEYS = {"name", "task", "architecture", "data", "seed", "train_command", "train_seconds", "epochs",
             "metrics", "input_size", "grayscale", "params", "latent_dim"}


@pytest.fixture(scope="module")
def models():
    return {name: api.load_model(f"zoo:{name}") for name in AUTOENCODERS + GANS}


@pytest.fixture(scope="module")
def test_digits():
    return sample_quality.as_batch(load_split("test")[0][:200])


@torch.no_grad()
def decode(handle, latents: np.ndarray) -> np.ndarray:
    return handle.module.decode(torch.from_numpy(np.asarray(latents, np.float32)))[:, 0].numpy()


@pytest.mark.parametrize("name", AUTOENCODERS + GANS)
def test_card_and_weights(models, name):
    h = models[name]
    card = h.card
    assert CARD_KEYS <= set(card)
    assert card["name"] == name and card["train_command"] == f"workbench train {name}"
    assert card["task"] == h.task == generative.SPECS[name].task
    assert card["latent_dim"] == h.latent_dim == h.module.latent_dim
    assert card["params"] == sum(p.numel() for p in h.module.parameters())
    assert card["train_seconds"] > 0 and card["input_size"] == [32, 32]
    assert (MODELS_DIR / f"{name}.safetensors").stat().st_size < 5_000_000
    with torch.no_grad():
        out = h.module(h.example_input())
    assert out.shape == (1, 1, 32, 32) and 0 <= float(out.min()) and float(out.max()) <= 1
    json.dumps(card)


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_reconstruction_error_matches_the_card(models, test_digits, name):
    h = models[name]
    mse = reconstruction_mse(h.module, test_digits)
    card_mse = h.card["metrics"]["test_reconstruction_mse"]
    assert mse == pytest.approx(card_mse, rel=0.2)
    # far better than drawing every digit as the mean training digit
    mean_digit = sample_quality.as_batch(load_split("train")[0]).mean(0, keepdim=True)
    assert mse < 0.25 * float(((test_digits - mean_digit) ** 2).mean())
    assert h.module.encode(test_digits[:4]).shape == (4, h.latent_dim)


def test_vae_bound_matches_the_card(models, test_digits):
    vae = models["digits-vae"].module
    mu, logvar = vae.encode_dist(test_digits[:8])
    torch.testing.assert_close(vae.encode(test_digits[:8]), mu)
    bound = vae_bound(vae, test_digits)
    card = models["digits-vae"].card["metrics"]
    assert bound["negative_elbo_per_image"] == pytest.approx(card["test_negative_elbo_per_image"], rel=0.05)
    assert bound["kl_per_image"] == pytest.approx(card["test_kl_per_image"], rel=0.1)


def fid_is_and_classes(images) -> tuple[float, float, np.ndarray]:
    feats, probs = sample_quality.extract(images)
    counts = np.bincount(probs.argmax(1), minlength=10)
    return fid(feats, sample_quality.held_out_features()), inception_score(probs)[0], counts


@pytest.mark.parametrize("name", AUTOENCODERS + GANS)
def test_samples_look_like_digits_as_the_card_says(models, name):
    h = models[name]
    card = h.card["metrics"]
    score, inception, counts = fid_is_and_classes(h.module.sample(500, seed=0))
    assert (counts >= 10).sum() >= 8
    assert score <= 1.1 * card["fid"]
    assert inception >= 0.9 * card["is_mean"]
    if name in GANS:
        # untrained weights of the same net are nowhere near
        untrained = generative.SPECS[name].build().eval()
        assert fid_is_and_classes(untrained.sample(500, seed=0))[0] > 3 * card["fid"]


def test_sample_method_decodes_its_latents(models):
    h = models["digits-dcgan"]
    grid = api.run("sample", h, n=6, seed=3)
    assert grid.tiles.shape == (6, 32, 32, 3) and grid.extra["latents"].shape == (6, h.latent_dim)
    np.testing.assert_allclose(grid.tiles[..., 0], decode(h, grid.extra["latents"]), atol=1e-6)
    np.testing.assert_array_equal(grid.tiles[..., 0], grid.tiles[..., 2])
    np.testing.assert_array_equal(api.run("sample", h, n=6, seed=3).tiles, grid.tiles)
    assert np.abs(api.run("sample", h, n=6, seed=4).tiles - grid.tiles).mean() > 0.05
    truncated = api.run("sample", h, n=50, seed=3, truncation=0.5).extra["noise"]
    assert np.abs(truncated).max() <= 0.5


def test_autoencoder_samples_come_from_its_fitted_prior(models, test_digits):
    ae = models["digits-ae"]
    grid = api.run("sample", ae, n=400, seed=0)
    z = grid.extra["latents"]
    codes = ae.module.encode(test_digits).detach().numpy()
    # the prior is a Gaussian fitted to the training codes: the samples match the codes' spread
    np.testing.assert_allclose(z.mean(0), codes.mean(0), atol=0.35 * codes.std(0).mean())
    assert np.std(z) == pytest.approx(np.std(codes), rel=0.25)


def test_interpolate_npz_holds_frames_and_latents(models, tmp_path):
    h = models["digits-vae"]
    path = tmp_path / "interp.npz"
    assert cli(["run", "interpolate", "--model", "zoo:digits-vae", "--set", "steps=7",
                "--set", "seed_a=5", "--set", "seed_b=9", "--npz", str(path)]) == 0
    with np.load(path) as f:
        frames, latents = f["frames"], f["latents"]
        params = json.loads(str(f["params"]))
    assert frames.shape == (7, 32, 32, 3) and latents.shape == (7, h.latent_dim)
    assert params["params"]["mode"] == "spherical"
    np.testing.assert_allclose(frames[0, ..., 0], decode(h, latents[:1])[0], atol=1e-6)
    np.testing.assert_allclose(frames[-1, ..., 0], decode(h, latents[-1:])[0], atol=1e-6)
    np.testing.assert_allclose(latents[0], generative.noise(1, h.latent_dim, 5)[0], atol=1e-6)
    np.testing.assert_allclose(latents[-1], generative.noise(1, h.latent_dim, 9)[0], atol=1e-6)
    # the first frame is the first tile of the sample grid with the same seed
    np.testing.assert_allclose(frames[0], api.run("sample", h, n=1, seed=5).tiles[0], atol=1e-6)
    line = api.run("interpolate", h, steps=5, mode="linear", seed_a=5, seed_b=9).extra["latents"]
    np.testing.assert_allclose(np.diff(line, 2, axis=0), 0, atol=1e-5)
    assert np.abs(frames[0] - frames[-1]).mean() > 0.05


def test_manifold_grid_over_two_dimensions(models):
    h = models["digits-vae"]
    grid = api.run("manifold", h, dim_x=2, dim_y=7, n=5, span=1.5)
    z = grid.extra["latents"]
    assert grid.tiles.shape == (25, 32, 32, 3) and z.shape == (25, h.latent_dim)
    values = grid_values(5, 1.5, "gaussian")
    np.testing.assert_allclose(z[:5, 2], values, atol=1e-6)
    np.testing.assert_allclose(z[::5, 7], values[::-1], atol=1e-6)
    np.testing.assert_allclose(np.delete(z, [2, 7], axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(grid.tiles[..., 0], decode(h, z), atol=1e-6)
    ae = api.run("manifold", models["digits-ae"], n=3)
    assert ae.tiles.shape == (9, 32, 32, 3) and len(ae.titles) == 9


def test_fid_method_writes_the_card_scores(models, tmp_path):
    path = tmp_path / "fid.npz"
    assert cli(["run", "fid", "--model", "zoo:digits-dcgan", "--set", "n=500", "--npz", str(path)]) == 0
    card = models["digits-dcgan"].card["metrics"]
    with np.load(path) as f:
        for key in ("fid", "kid_mean", "is_mean"):
            assert float(f[key]) == pytest.approx(card[key], rel=1e-3, abs=1e-4)
        assert f["class_counts"].shape == (10,) and int(f["class_counts"].sum()) == 500


def test_methods_report_progress_and_stop_on_cancel(models):
    h = models["digits-sngan"]
    seen = []
    run_method(default_registry().get("sample"), context(h, None), {"n": 200}, on_progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert len(fractions) == 4 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    token = CancelToken()
    with pytest.raises(Cancelled):
        run_method(default_registry().get("sample"), context(h, None, cancel=token), {"n": 256},
                   on_progress=lambda p: token.cancel())


def test_methods_are_registered_for_latent_models_only():
    reg = default_registry()
    for name in ("sample", "interpolate", "manifold", "fid"):
        m = reg.get(name)
        assert set(m.tasks) == {"generate", "autoencode"} and not m.needs_image
        assert m.is_generator()


ABOVE_ZOO = ("workbench.core", "workbench.engine", "workbench.ui", "workbench.figure", "workbench.api",
             "workbench.cli", "workbench.plugins", "workbench.app")


def test_zoo_imports_nothing_above_it():
    """DESIGN: ui -> engine -> core -> zoo; zoo is the ground floor and reaches up to nobody."""
    import ast
    from pathlib import Path

    import workbench.zoo

    offenders = []
    for path in sorted(Path(workbench.zoo.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom) and node.module == "workbench":
                names = [f"workbench.{a.name}" for a in node.names]
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names
                          if any(n == up or n.startswith(up + ".") for up in ABOVE_ZOO)]
    assert not offenders, offenders


def test_core_metrics_and_latent_are_the_zoo_functions():
    from workbench.core.latent import paths as core_latent
    from workbench.core import metrics as core_metrics
    from workbench.zoo import latent as zoo_latent
    from workbench.zoo import metrics as zoo_metrics

    assert core_metrics.fid is zoo_metrics.fid and api.fid is zoo_metrics.fid
    assert core_metrics.kid is zoo_metrics.kid and core_metrics.inception_score is zoo_metrics.inception_score
    assert core_latent.principal_directions is zoo_latent.principal_directions
    assert sample_quality.fid is zoo_metrics.fid
