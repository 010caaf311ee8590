"""Inpainting masks and the workspace's painted mask: painting, erasing, inverting, PNG files
(white = hole), resampling to a model's size, and bad input refused without changing anything."""
import numpy as np
import pytest
from PIL import Image

from workbench.core.inpaint import masks as M
from workbench.core.workspace import MASK, Workspace


def test_a_stroke_paints_a_round_brush_along_its_path_and_erase_takes_it_back():
    m = M.paint(M.empty_mask((40, 60)), [(10.5, 20.5), (40.5, 20.5)], radius=3)
    assert m[20, 10:41].all() and m[17, 25] and m[23, 25]            # the line, 3 px either side
    assert not m[16, 25] and not m[24, 25] and not m[20, 45]          # and no further
    assert m[20, 7] and not m[20, 6]                                  # round caps of radius 3
    erased = M.paint(m, [(25.5, 20.5)], radius=2, hole=False)
    assert not erased[20, 23:28].any() and erased[20, 20] and erased[20, 30]
    assert m[20, 25], "painting returns a copy"
    np.testing.assert_array_equal(M.invert(m), ~m)


def test_masks_save_as_white_holes_and_load_back_at_the_image_size(tmp_path):
    m = M.centre_square((128, 128))
    assert m.sum() == 48 * 48 and m[40:88, 40:88].all()
    path = M.save_mask(tmp_path / "m.png", m)
    pixels = np.asarray(Image.open(path))
    assert pixels.dtype == np.uint8 and set(np.unique(pixels)) == {0, 255} and pixels[64, 64] == 255
    np.testing.assert_array_equal(M.load_mask(path), m)
    small = M.load_mask(path, (32, 32, 3))
    assert small.shape == (32, 32) and small[10:22, 10:22].all() and small.sum() == 144
    with pytest.raises(ValueError, match=".png"):
        M.save_mask(tmp_path / "m.jpg", m)
    with pytest.raises(ValueError, match="no file"):
        M.load_mask(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="bad.png"):
        M.load_mask(tmp_path / "bad.png")


def test_a_model_pixel_is_a_hole_when_a_quarter_of_it_is_painted():
    m = M.empty_mask((128, 128))
    m[0:2, 0:4] = True          # half of the first 4x4 block
    m[4:5, 4:8] = True          # a quarter of the next one
    m[8:9, 8:11] = True         # less than a quarter of the third
    small = M.to_size(m, (32, 32))
    assert small[0, 0] and small[1, 1] and not small[2, 2] and small.sum() == 2
    np.testing.assert_array_equal(M.to_size(M.centre_square((128, 128)), (32, 32)), M.centre_square((32, 32)))


def test_the_workspace_keeps_the_mask_across_runs_and_same_size_images_and_refuses_the_wrong_size():
    ws, seen = Workspace(), []
    ws.observe(MASK, seen.append)
    ws.set_image(np.zeros((20, 30, 3), np.uint8), "a")
    m = M.centre_square((20, 30))
    ws.set_mask(m)
    assert ws.mask is not None and ws.mask.sum() == m.sum() and len(seen) == 1
    with pytest.raises(ValueError, match="30x20"):
        ws.set_mask(np.ones((20, 20), bool))
    assert ws.mask.sum() == m.sum() and len(seen) == 1
    ws.show(__import__("workbench.core.results", fromlist=["Heatmap"]).Heatmap(
        method="t", heatmap=np.zeros((20, 30), np.float32)))
    ws.set_image(np.ones((20, 30, 3), np.uint8), "b")
    assert ws.mask is not None and ws.mask.sum() == m.sum()
    ws.set_image(np.ones((10, 10, 3), np.uint8), "c")
    assert ws.mask is None and seen[-1] is None
