"""Grid view: a montage of tiles; clicks pick tiles."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from workbench.core import colormaps
from workbench.core.results import ImageGrid
from workbench.figure.montage import grid_shape
from workbench.ui.grid_view import GridView


@pytest.fixture
def view(qtbot):
    v = GridView()
    qtbot.addWidget(v)
    v.resize(500, 500)
    v.show()
    qtbot.waitExposed(v)
    return v


def rgb_grid(n=10):
    colours = np.random.default_rng(1).random((n, 3)).astype(np.float32)
    tiles = np.broadcast_to(colours[:, None, None, :], (n, 8, 8, 3)).copy()
    return ImageGrid(tiles=tiles, titles=[f"tile {i}" for i in range(n)], title="grid"), colours


def click(qtbot, view, x, y):
    pos = view.view.mapFromScene(view.viewbox.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_near_square_layout():
    assert grid_shape(10) == (3, 4) and grid_shape(16) == (4, 4) and grid_shape(3, columns=5) == (1, 3)


def test_rgb_tiles_shown_as_they_are(view):
    grid, colours = rgb_grid()
    view.set_grid(grid)
    montage = view.image_item.image
    for i in (0, 6, 9):
        r = view.tile_rect(i)
        assert np.array_equal(montage[int(r.center().y()), int(r.center().x())],
                              np.round(colours[i] * 255).astype(np.uint8))
    assert view.tile_rect(1).left() - view.tile_rect(0).right() == 2   # thin gap


def test_click_on_a_tile_emits_its_index_and_highlights_it(view, qtbot):
    grid, _ = rgb_grid()
    view.set_grid(grid)
    r = view.tile_rect(6)
    with qtbot.waitSignal(view.tileClicked) as blocker:
        click(qtbot, view, r.center().x(), r.center().y())
    assert blocker.args == [6] and view.selected() == 6
    assert view.highlight.isVisible() and view.highlight.rect() == r
    assert "tile 6" in view.title.text()


def test_click_in_a_gap_picks_nothing(view, qtbot):
    grid, _ = rgb_grid()
    view.set_grid(grid)
    seen = []
    view.tileClicked.connect(seen.append)
    gap_x = view.tile_rect(0).right() + 1
    click(qtbot, view, gap_x, view.tile_rect(0).center().y())
    assert seen == [] and view.selected() is None


def test_scalar_tiles_own_range_or_shared(view):
    tiles = np.stack([np.linspace(0, 1, 64), np.linspace(0, 10, 64)]).reshape(2, 8, 8).astype(np.float32)
    view.set_grid(ImageGrid(tiles=tiles))
    top = colormaps.lut("gray")[255]
    m = view.image_item.image
    corner = lambda i: m[int(view.tile_rect(i).bottom()) - 1, int(view.tile_rect(i).right()) - 1]
    assert np.array_equal(corner(0), top) and np.array_equal(corner(1), top)
    view.shared.setChecked(True)
    m = view.image_item.image
    assert corner(0)[0] < 40 and np.array_equal(corner(1), top)


def test_signed_tiles_use_a_diverging_map_and_colormap_choice(view):
    tiles = np.stack([np.full((4, 4), -1.0), np.full((4, 4), 1.0)]).astype(np.float32)
    view.set_grid(ImageGrid(tiles=tiles))
    m = view.image_item.image
    c0 = view.tile_rect(0).center()
    assert np.array_equal(m[int(c0.y()), int(c0.x())], colormaps.lut("coolwarm")[0])
    view.colormap.setCurrentText("viridis")
    m = view.image_item.image
    assert np.array_equal(m[int(c0.y()), int(c0.x())], colormaps.lut("viridis")[0])


def test_export_uses_the_view_settings(view, tmp_path):
    tiles = np.stack([np.full((4, 4), -1.0), np.full((4, 4), 1.0)]).astype(np.float32)
    view.set_grid(ImageGrid(tiles=tiles))
    view.colormap.setCurrentText("viridis")
    img = QImage(str(view.export(tmp_path / "g.png", scale=2)))
    c = img.pixelColor(img.width() // 4, img.height() // 2)
    assert np.array_equal(c.getRgb()[:3], colormaps.lut("viridis")[0])


def test_clear(view):
    grid, _ = rgb_grid()
    view.set_grid(grid)
    view.select(3)
    view.clear()
    assert view.selected() is None and view.grid() is None and not view.highlight.isVisible()
    with pytest.raises(ValueError):
        view.export("x.png")


def test_a_small_grid_names_its_tiles_a_large_one_on_hover(view):
    grid, _ = rgb_grid(6)
    view.set_grid(grid)
    assert view.captions() == [f"tile {i}" for i in range(6)]
    positions = [(item.pos().x(), item.pos().y()) for item in view._captions]
    assert positions == [(view.tile_rect(i).left(), view.tile_rect(i).top()) for i in range(6)]
    big, _ = rgb_grid(30)
    view.set_grid(big)
    assert view.captions() == []
    view.set_grid(grid)
    view.clear()
    assert view.captions() == []
