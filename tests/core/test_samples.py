import numpy as np
import pytest

from workbench.core.images import ImageError, save_image
from workbench.core.samples import resolve_image, sample_image, sample_names


def test_menu_lists_every_kind():
    names = sample_names()
    assert names[:6] == [f"shapes-{i}" for i in range(6)]
    assert [f"scene-{i}" for i in range(4)] == [n for n in names if n.startswith("scene-")]
    assert [f"digit-{i}" for i in range(10)] == [n for n in names if n.startswith("digit-")]


@pytest.mark.parametrize("name", ["shapes-0", "scene-1", "digit-3"])
def test_samples_are_rgb_and_deterministic(name):
    a, b = sample_image(name), sample_image(name)
    assert a.dtype == np.uint8 and a.shape == (128, 128, 3)
    np.testing.assert_array_equal(a, b)
    assert a.std() > 5  # a picture, not a flat fill


def test_samples_come_from_the_bundled_datasets():
    from workbench.zoo.digits import digit_image
    from workbench.zoo.shapes import render_scene, render_shape
    np.testing.assert_array_equal(sample_image("shapes-4"), render_shape(seed=4, size=128)[0])
    np.testing.assert_array_equal(sample_image("scene-2"), render_scene(seed=2).image)
    np.testing.assert_array_equal(sample_image("digit-7"), digit_image("7", split="test"))


def test_digit_sample_has_the_named_class():
    from workbench.zoo.digits import find_class, load_split, to_rgb
    images, labels = load_split("test")
    index = find_class(5, "test")
    assert labels[index] == 5
    np.testing.assert_array_equal(sample_image("digit-5"), to_rgb(images[index], 128))


def test_different_seeds_differ():
    assert not np.array_equal(sample_image("shapes-0"), sample_image("shapes-1"))
    assert not np.array_equal(sample_image("digit-0"), sample_image("digit-1"))


@pytest.mark.parametrize("bad", ["cat-1", "shapes", "shapes-x", "digit-12", ""])
def test_unknown_sample_names_list_the_kinds(bad):
    with pytest.raises(ImageError, match="shapes-N or scene-N|digit-0 to digit-9"):
        sample_image(bad)


def test_resolve_image_takes_samples_and_paths(tmp_path):
    np.testing.assert_array_equal(resolve_image("sample:scene-0"), sample_image("scene-0"))
    np.testing.assert_array_equal(resolve_image("SAMPLE:shapes-2"), sample_image("shapes-2"))
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    path = save_image(tmp_path / "p.png", pixels)
    np.testing.assert_array_equal(resolve_image(str(path)), pixels)
    np.testing.assert_array_equal(resolve_image(path), pixels)
    with pytest.raises(ImageError, match="not found"):
        resolve_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="unknown sample 'nothing-1'"):
        resolve_image("sample:nothing-1")
