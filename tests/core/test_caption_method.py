"""The ``caption`` method: the words, one map per word on the token grid and on the image, the
word probabilities, in the result and its npz; selecting a word; clear messages for bad input."""
import json

import numpy as np
import pytest

from workbench import api
from workbench.core.geometry import Geometry
from workbench.core.renderers import renderer_for
from workbench.core.results.caption import CaptionAttention
from workbench.core.samples import sample_image

SCENE = "scene-1000003"


@pytest.fixture(scope="module")
def captioner():
    return api.load_model("zoo:shapes-captioner")


@pytest.fixture(scope="module")
def result(captioner):
    return api.run("caption", captioner, sample_image(SCENE))


def test_the_result_holds_words_maps_and_probabilities(result):
    n = len(result.words)
    assert n >= 3 and result.caption == " ".join(result.words)
    assert result.maps.shape == (n, 16, 16) and result.grid_hw == (16, 16)
    np.testing.assert_allclose(result.maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert result.probs.shape == (n,) and np.all((result.probs > 0) & (result.probs <= 1))
    assert result.word == 0 and result.heatmap.shape == (128, 128)
    np.testing.assert_allclose(result.attribution, result.maps[0])
    assert renderer_for(result).figure == "workbench.figure.caption:export_caption"


def test_the_maps_on_the_image_follow_the_handles_geometry(captioner, result):
    # a wider image is stretched to 128x128 by the bundled preprocessing: the maps stretch back
    wide = np.repeat(sample_image(SCENE), 2, axis=1)
    other = api.run("caption", captioner, wide)
    assert other.words == result.words and other.image_maps().shape == (len(result.words), 128, 256)
    expected = Geometry((128, 128), "stretch").map_to_image(result.maps[1], (128, 256))
    np.testing.assert_allclose(other.at(1).heatmap, expected, atol=1e-5)


def test_selecting_a_word_shows_its_map(result):
    second = result.at(1)
    assert second.word == 1 and second.params["word"] == 1
    np.testing.assert_allclose(second.attribution, result.maps[1])
    assert not np.allclose(second.heatmap, result.heatmap)
    assert f'"{result.words[1]}"' in second.title
    with pytest.raises(IndexError, match="the caption has"):
        result.at(len(result.words))


def test_the_npz_holds_the_words_and_one_map_per_word(result, tmp_path):
    path = result.save_npz(tmp_path / "c.npz")
    data = np.load(path)          # plain arrays: no pickle needed for the words
    words = [str(w) for w in data["words"]]
    assert words == result.words
    assert data["maps"].shape == (len(words), 16, 16)
    assert data["maps_on_image"].shape == (len(words), 128, 128)
    np.testing.assert_allclose(data["word_probs"], result.probs)
    meta = json.loads(str(data["params"]))
    assert meta["method"] == "caption" and meta["caption"] == result.caption and meta["beam_size"] == 1


def test_beam_size_and_max_words(captioner, result):
    beam = api.run("caption", captioner, sample_image(SCENE), beam_size=3)
    assert beam.beam_size == 3 and beam.log_prob >= result.log_prob - 1e-5
    short = api.run("caption", captioner, sample_image(SCENE), max_words=2)
    assert short.words == result.words[:2]


@pytest.mark.parametrize("values, fragment", [
    ({"beam_size": 0}, "beam_size: 0 is outside"), ({"beam_size": 11}, "outside \\[1, 10\\]"),
    ({"word": 20}, "word 20: the caption")])
def test_bad_parameters_get_a_clear_message(captioner, values, fragment):
    with pytest.raises(ValueError, match=fragment):
        api.run("caption", captioner, sample_image(SCENE), **values)


def test_without_an_image_it_captions_the_first_validation_scene(captioner):
    from workbench.core.methods.caption import DEFAULT_SAMPLE
    out = api.run("caption", captioner, None)
    assert out.image is not None and np.array_equal(out.image, sample_image(DEFAULT_SAMPLE))


def test_only_captioners_are_accepted():
    from tests.tiny import tiny_handle
    with pytest.raises(ValueError, match="does not apply to a classify model"):
        api.run("caption", tiny_handle(), sample_image(SCENE))


def test_the_figure_has_the_image_and_a_strip_of_maps(result, tmp_path):
    from PIL import Image

    from workbench.figure.render import export_result
    png = export_result(result, sample_image(SCENE), tmp_path / "c.png")
    w, h = Image.open(png).size
    assert h > 512 + 100 and w >= 512          # the image at 512 px, the strip under it
    assert export_result(result, None, tmp_path / "c.svg").read_text().count("<image") >= 1 + len(result.words)
    assert isinstance(result, CaptionAttention)
