"""Super-resolution in core: the downsample and bicubic against OpenCV, PSNR / SSIM against
scikit-image, the two modes' inputs and refusals, gray in gray out, the method's result and npz,
and the loupe's geometry."""
import json

import cv2
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from workbench import api
from workbench.core.results.restore import load_result
from workbench.core.results.superres import SuperResolution
from workbench.core.samples import sample_image
from workbench.core.results import loupe
from workbench.core.superres import upscale
from workbench.zoo.superres_quality import psnr, ssim


def rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_area_downsample_is_opencvs_inter_area():
    image = rgb(64, 48)
    expected = cv2.resize(image, (12, 16), interpolation=cv2.INTER_AREA)
    assert np.abs(upscale.area_downsample(image).astype(int) - expected).max() <= 1


def test_bicubic_is_opencvs_inter_cubic_inside_the_border():
    low = rgb(16, 20, seed=1)
    expected = cv2.resize(low, (80, 64), interpolation=cv2.INTER_CUBIC)
    ours = upscale.bicubic(low)
    assert ours.shape == (64, 80, 3)
    assert np.abs(ours[8:-8, 8:-8].astype(int) - expected[8:-8, 8:-8]).max() <= 1


def test_psnr_and_ssim_agree_with_scikit_image():
    a, b = rgb(32, 32, 2), rgb(32, 32, 3)
    b = np.clip(a.astype(int) + np.random.default_rng(4).integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-9)
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255, channel_axis=2), abs=1e-12)
    assert psnr(a, a) == float("inf")


def test_compare_mode_crops_to_a_multiple_of_four_and_shrinks():
    image = rgb(70, 45)
    low, truth = upscale.prepare(image, "compare")
    assert truth.shape == (68, 44, 3) and low.shape == (17, 11, 3)
    np.testing.assert_array_equal(truth, image[:68, :44])
    low, truth = upscale.prepare(image, "upscale")
    assert truth is None and low.shape == image.shape


@pytest.mark.parametrize("mode, shape, words", [
    ("compare", (12, 40, 3), "at least 16"), ("compare", (2100, 40, 3), "up to 2048"),
    ("upscale", (600, 40, 3), "up to 512"), ("sideways", (40, 40, 3), "not one of")])
def test_images_that_do_not_fit_a_mode_are_refused_in_words(mode, shape, words):
    with pytest.raises(ValueError, match=words):
        upscale.prepare(np.zeros(shape, np.uint8), mode)


def test_the_method_scores_bicubic_and_the_model_against_the_image():
    image = sample_image("scene-1")
    r = api.run("superres", "zoo:sr-gan", image)
    assert isinstance(r, SuperResolution) and r.models == ["zoo:sr-gan"] and r.names == ["bicubic", "sr-gan"]
    assert r.low.shape == (32, 32, 3) and r.bicubic.shape == (128, 128, 3) and r.sr.shape == (1, 128, 128, 3)
    np.testing.assert_array_equal(r.original, image)
    np.testing.assert_array_equal(r.low, upscale.area_downsample(image))
    assert r.psnr[0] == pytest.approx(peak_signal_noise_ratio(image, r.bicubic, data_range=255))
    assert r.psnr[1] == pytest.approx(peak_signal_noise_ratio(image, r.sr[0], data_range=255))
    assert r.ssim[1] == pytest.approx(structural_similarity(image, r.sr[0], data_range=255, channel_axis=2))
    assert not r.gray and r.scored and "PSNR" in r.score_text(1)


def test_upscale_mode_enlarges_the_image_itself_with_nothing_to_score():
    image = sample_image("shapes-2")[::4, ::4].copy()          # 32x32
    r = api.run("superres", "zoo:sr-pixel", image, mode="upscale")
    assert r.low.shape == (32, 32, 3) and r.sr.shape == (1, 128, 128, 3)
    assert r.original is None and r.psnr == [] and not r.scored
    assert [t for t, _ in r.panels()][-1].startswith("input (32×32")


def test_a_gray_image_comes_out_gray():
    image = sample_image("digit-3")
    r = api.run("superres", "zoo:sr-gan", image)
    assert r.gray
    for picture in (r.bicubic, r.sr[0]):
        assert (picture[..., 0] == picture[..., 1]).all() and (picture[..., 1] == picture[..., 2]).all()
    assert r.psnr[1] == pytest.approx(peak_signal_noise_ratio(image[..., 0], r.sr[0][..., 0], data_range=255))


def test_the_npz_holds_every_picture_and_comes_back_whole(tmp_path):
    r = api.run("superres", "zoo:sr-gan", sample_image("scene-2"))
    r.save_npz(tmp_path / "sr.npz")
    with np.load(tmp_path / "sr.npz") as saved:
        assert set(saved.files) == {"low", "bicubic", "sr", "original", "input", "params"}
        np.testing.assert_array_equal(saved["sr"], r.sr)
        meta = json.loads(str(saved["params"]))
    assert meta["kind"] == "superres" and meta["models"] == ["zoo:sr-gan"] and meta["psnr"] == r.psnr
    again = load_result(tmp_path / "sr.npz")
    assert isinstance(again, SuperResolution) and again.psnr == r.psnr
    np.testing.assert_array_equal(again.bicubic, r.bicubic)


def test_the_loupe_region_stays_inside_and_magnifies_by_whole_pixels():
    assert loupe.region((128, 128), (64, 64), 4) == (48, 48, 32, 32)
    assert loupe.region((128, 128), (2, 125), 4) == (0, 96, 32, 32)
    image = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)
    view = loupe.magnify(image, (4, 8, 4, 4), (16, 16))
    np.testing.assert_array_equal(view[::4, ::4], image[8:12, 4:8])
    np.testing.assert_array_equal(view[3::4, 3::4], image[8:12, 4:8])


def test_the_default_loupe_sits_on_the_edges():
    image = np.zeros((64, 64, 3), np.uint8)
    image[40:, 40:] = 255                      # one corner: the edges are around (40, 40)
    x, y = loupe.busiest_point(image, 4)
    assert abs(x - 40) <= 8 and abs(y - 40) <= 8


def test_the_result_views_and_grid_show_the_same_region_of_each_picture():
    r = api.run("superres", "zoo:sr-gan", sample_image("scene-1"))
    r.loupe = [100.0, 20.0, 4.0]
    left, top, w, h = r.loupe_rect()
    assert (left, top, w, h) == (84, 4, 32, 32)
    views = r.loupe_views()
    assert [t.split(" ×")[0] for t, _ in views] == ["bicubic", "sr-gan", "original"]
    np.testing.assert_array_equal(views[2][1][::4, ::4], r.original[4:36, 84:116])
    grid = r.as_grid()
    assert grid.tiles.shape == (6, 128, 128, 3) and grid.titles[3].startswith("bicubic ×4")
