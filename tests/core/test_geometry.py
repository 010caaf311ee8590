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


def _remap_reference(g: Geometry, m: np.ndarray, image_hw: tuple[int, int], fill: float) -> np.ndarray:
    """Bilinear sampling with replicated borders by cv2.remap (only for sides under 32,767 px)."""
    import cv2
    H, W = image_hw
    x0, y0, x1, y1 = g.crop_box(image_hw)
    cx, cy = np.arange(W) + 0.5, np.arange(H) + 0.5
    in_x, in_y = (cx >= x0) & (cx <= x1), (cy >= y0) & (cy <= y1)
    mx, my = np.meshgrid(((cx - x0) / (x1 - x0) * m.shape[1] - 0.5)[in_x].astype(np.float32),
                         ((cy - y0) / (y1 - y0) * m.shape[0] - 0.5)[in_y].astype(np.float32))
    out = np.full((H, W), fill, np.float32)
    if mx.size:
        out[np.ix_(in_y, in_x)] = cv2.remap(m, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def test_map_to_image_is_bilinear_with_replicated_borders_like_remap():
    rng = np.random.default_rng(0)
    for _ in range(60):
        if rng.random() < 0.5:
            g = Geometry(tuple(int(v) for v in rng.integers(3, 40, 2)))
        else:
            side = int(rng.integers(4, 40))
            crop = (int(rng.integers(1, side + 1)), int(rng.integers(1, side + 1)))
            g = Geometry(crop, "shorter", side, crop)
        m = rng.standard_normal(tuple(int(v) for v in rng.integers(1, 25, 2))).astype(np.float32)
        hw = tuple(int(v) for v in rng.integers(1, 200, 2))
        np.testing.assert_allclose(g.map_to_image(m, hw, fill=-5), _remap_reference(g, m, hw, -5), atol=1e-4)


@pytest.mark.parametrize("image_hw", [(3, 40000), (40000, 3), (2, 32767)])
def test_map_to_image_handles_sides_past_the_opencv_limit(image_hw):
    H, W = image_hw
    ramp = np.tile(np.arange(8, dtype=np.float32), (4, 1)) + 10 * np.arange(4, dtype=np.float32)[:, None]
    out = Geometry((4, 8)).map_to_image(ramp, image_hw)
    assert out.shape == image_hw and out.dtype == np.float32
    x = np.clip((np.arange(W) + 0.5) / W * 8 - 0.5, 0, 7)
    y = np.clip((np.arange(H) + 0.5) / H * 4 - 0.5, 0, 3)
    np.testing.assert_allclose(out, x[None, :] + 10 * y[:, None], atol=1e-4)


def test_a_centre_crop_on_a_40000_px_side_fills_outside_it():
    g = Geometry((4, 4), "shorter", 4, (4, 4))       # the centre 3x3 of a 3x40000 image is seen
    out = g.map_to_image(np.arange(16, dtype=np.float32).reshape(4, 4), (3, 40000), fill=-1)
    x0, _, x1, _ = g.crop_box((3, 40000))
    inside = (np.arange(40000) + 0.5 >= x0) & (np.arange(40000) + 0.5 <= x1)
    assert inside.sum() == 3 and (out[:, ~inside] == -1).all()
    xs = np.clip((np.arange(40000)[inside] + 0.5 - x0) / (x1 - x0) * 4 - 0.5, 0, 3)
    ys = np.clip((np.arange(3) + 0.5) / 3 * 4 - 0.5, 0, 3)
    np.testing.assert_allclose(out[:, inside], 4 * ys[:, None] + xs[None, :], atol=1e-4)
    boxes = g.boxes_to_image(np.array([[0, 0, 4, 4]]), (3, 40000))
    np.testing.assert_allclose(boxes, [[x0, 0, x1, 3]], rtol=1e-6)


def test_a_layer_channel_maps_onto_a_40000_px_image():
    from workbench.core.results import ActivationGrid
    tiles = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    grid = ActivationGrid(tiles=tiles, titles=["0", "1"], layer="conv", geometry=Geometry((4, 4)),
                          image_hw=(3, 40000))
    hm = grid.channel_heatmap(1)
    assert hm.heatmap.shape == (3, 40000)
    ys = np.clip((np.arange(3) + 0.5) / 3 * 4 - 0.5, 0, 3)
    np.testing.assert_allclose(hm.heatmap[:, 0], 16 + 4 * ys, atol=1e-4)    # column 0 of the channel
    np.testing.assert_allclose(hm.heatmap[:, -1], 19 + 4 * ys, atol=1e-4)   # its last column
