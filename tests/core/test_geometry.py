import numpy as np
import pytest

from workbench.core.geometry import Geometry


def test_stretch_covers_whole_image_and_maps_boxes():
    g = Geometry((64, 64))
    assert g.crop_box((100, 200)) == (0, 0, 200, 100)
    b = g.boxes_to_image(np.array([[0, 0, 32, 64]]), (100, 200))
    np.testing.assert_allclose(b, [[0, 0, 100, 100]])


def test_shorter_side_resize_and_centre_crop_box():
    g = Geometry((224, 224), "shorter", 256, (224, 224))
    x0, y0, x1, y1 = g.crop_box((256, 512))  # scale 1: resized 256x512, crop centred
    assert (x0, y0, x1, y1) == pytest.approx((144, 16, 368, 240))


def test_map_to_image_places_map_inside_crop_and_fills_outside():
    g = Geometry((4, 4), "shorter", 4, (4, 4))
    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    out = g.map_to_image(m, (8, 16), fill=-1)  # crop covers x 4..12 of the 16-wide image
    assert out.shape == (8, 16)
    assert (out[:, :4] == -1).all() and (out[:, 12:] == -1).all()
    assert out[0, 4] == pytest.approx(0.0) and out[7, 11] == pytest.approx(15.0)


def test_map_to_image_identity_when_sizes_match():
    g = Geometry((5, 7))
    m = np.random.RandomState(0).randn(5, 7).astype(np.float32)
    np.testing.assert_allclose(g.map_to_image(m, (5, 7)), m, atol=1e-6)
