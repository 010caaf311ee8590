"""Canvas: layers become pyqtgraph items, clicks map to image pixels and pick boxes."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsRectItem

from workbench.core import colormaps
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, MaskLayer, PointsLayer
from workbench.ui.canvas import Canvas, pick_box
from workbench.ui.canvas_items import BoxLabel


@pytest.fixture
def canvas(qtbot):
    c = Canvas()
    qtbot.addWidget(c)
    c.resize(500, 400)
    c.set_image(np.full((80, 100, 3), 90, np.uint8))
    return c


def heat(**kw):
    data = np.linspace(0, 2, 80 * 100, dtype=np.float32).reshape(80, 100)
    return HeatmapLayer(name="heat", data=data, levels=(0.0, 2.0), colormap="viridis", **kw)


def boxes(name="boxes", rows=((0, 0, 90, 70), (20, 10, 50, 40))):
    return BoxesLayer(name=name, boxes=np.array(rows, np.float32), texts=[f"b{i}" for i in range(len(rows))],
                      colors=[(255, 0, 0), (0, 0, 255), (0, 255, 0)][:len(rows)])


def test_set_image_makes_the_first_layer_and_clears_overlays(canvas, qtbot):
    canvas.add_layer(heat())
    with qtbot.waitSignal(canvas.layersChanged):
        canvas.set_image(np.zeros((30, 40, 3), np.uint8))
    (only,) = canvas.layers()
    assert only.kind == "image" and canvas.image().shape == (30, 40, 3)
    x_range, y_range = canvas.viewbox.viewRange()
    assert x_range[0] <= 0.5 and x_range[1] >= 39.5 and y_range[0] <= 0.5 and y_range[1] >= 29.5
    with pytest.raises(ValueError):
        canvas.set_image(np.zeros((30, 40, 3), np.float32))


def test_heatmap_item_gets_the_layer_lut_levels_and_opacity(canvas):
    layer = heat(opacity=0.4)
    lid = canvas.add_layer(layer)
    g = canvas.graphics(lid)
    assert np.array_equal(g.image_item.lut, colormaps.lut("viridis"))
    assert list(g.image_item.levels) == [0.0, 2.0]
    # the opacity is the map's own, so the wash dimming the image under it keeps its own
    assert g.image_item.opacity() == pytest.approx(0.4) and g.root.opacity() == 1.0
    layer.colormap, layer.levels = "inferno", (0.5, 1.5)
    canvas.update_layer(layer)
    assert np.array_equal(g.image_item.lut, colormaps.lut("inferno"))
    assert list(g.image_item.levels) == [0.5, 1.5]


def test_an_update_names_its_source_while_it_is_delivered(canvas):
    """A panel that updates a layer can tell its own update from another panel's, even when a
    listener updates a layer in turn."""
    layer = heat()
    canvas.add_layer(layer)
    panel, other, seen = object(), object(), []

    def listen(_layer_id):
        seen.append(canvas.update_source)
        if len(seen) == 1:
            canvas.update_layer(layer, by=other)
            seen.append(canvas.update_source)

    canvas.layerUpdated.connect(listen)
    canvas.update_layer(layer, by=panel)
    assert seen == [panel, other, panel] and canvas.update_source is None


def test_layers_order_add_remove_and_signals(canvas, qtbot):
    with qtbot.waitSignal(canvas.layersChanged):
        hid = canvas.add_layer(heat())
    bid = canvas.add_layer(boxes())
    assert [l.kind for l in canvas.layers()] == ["image", "heatmap", "boxes"]
    assert canvas.graphics(bid).root.zValue() > canvas.graphics(hid).root.zValue()
    root = canvas.graphics(hid).root
    with qtbot.waitSignal(canvas.layersChanged):
        canvas.remove_layer(hid)
    assert root.scene() is None
    with pytest.raises(KeyError):
        canvas.layer(hid)
    assert [l.id for l in canvas.layers()][1:] == [bid]
    with pytest.raises(ValueError):
        canvas.add_layer(canvas.layer(bid))
    canvas.clear_overlays()
    assert len(canvas.layers()) == 1


def test_replace_overlays_emits_once(canvas, qtbot):
    canvas.add_layer(heat())
    seen = []
    canvas.layersChanged.connect(lambda: seen.append(1))
    canvas.replace_overlays([boxes(), boxes("more")])
    assert seen == [1]
    assert [l.name for l in canvas.layers()] == ["image", "boxes", "more"]


def test_visibility_hides_the_items(canvas):
    layer = boxes()
    lid = canvas.add_layer(layer)
    assert canvas.graphics(lid).root.isVisible()
    layer.visible = False
    canvas.update_layer(layer)
    assert not canvas.graphics(lid).root.isVisible()


def test_boxes_become_rects_with_labels_and_selection_highlight(canvas):
    lid = canvas.add_layer(boxes())
    g = canvas.graphics(lid)
    rects = [i for i in g.items if isinstance(i, QGraphicsRectItem)]
    assert len(rects) == 2
    assert rects[1].rect().getCoords() == (20.0, 10.0, 50.0, 40.0)
    assert rects[0].pen().color().getRgb()[:3] == (255, 0, 0) and rects[0].pen().isCosmetic()
    labels = [i.text() for i in g.items if isinstance(i, BoxLabel)]
    assert labels == ["b0", "b1"]
    canvas.select_box(lid, 1)
    rects = [i for i in g.items if isinstance(i, QGraphicsRectItem)]
    assert len(rects) == 3 and any(r.pen().color().getRgb()[:3] == (255, 255, 255) for r in rects)
    canvas.select_box(None)
    assert len([i for i in g.items if isinstance(i, QGraphicsRectItem) and i.isVisible()]) == 2


def test_redrawing_boxes_reuses_items_and_hides_spares(canvas):
    layer = boxes()
    lid = canvas.add_layer(layer)
    g = canvas.graphics(lid)
    first = list(g.items)
    layer.boxes, layer.texts = layer.boxes[:1], layer.texts[:1]
    canvas.update_layer(layer)
    assert g.items == first
    visible = [i for i in g.items if i.isVisible()]
    assert len([i for i in visible if isinstance(i, QGraphicsRectItem)]) == 1
    assert [i.text() for i in visible if isinstance(i, BoxLabel)] == ["b0"]


def test_masks_use_the_rgba_alpha_and_points_a_scatter(canvas):
    masks = np.zeros((1, 80, 100), bool)
    masks[0, :10, :10] = True
    mid = canvas.add_layer(MaskLayer(name="m", masks=masks, colors=[(0, 255, 0)], opacity=0.5))
    g = canvas.graphics(mid)
    assert g.root.opacity() == 1.0
    assert tuple(g.image_item.image[5, 5]) == (0, 255, 0, 128) and g.image_item.image[50, 50, 3] == 0
    pid = canvas.add_layer(PointsLayer(name="p", points=np.array([[1.0, 2.0], [3.0, 4.0]])))
    (scatter,) = canvas.graphics(pid).items
    assert scatter.data["x"].tolist() == [1.0, 3.0]


def test_colorbar_follows_the_top_visible_heatmap(canvas):
    assert canvas.colorbar.isHidden()
    a = heat()
    canvas.add_layer(a)
    assert not canvas.colorbar.isHidden() and canvas.colorbar.levels == (0.0, 2.0)
    b = HeatmapLayer(name="b", data=np.zeros((80, 100), np.float32), levels=(-3.0, 3.0), colormap="coolwarm")
    canvas.add_layer(b)
    assert canvas.colorbar.colormap == "coolwarm"
    b.show_colorbar = False
    canvas.update_layer(b)
    assert canvas.colorbar.colormap == "viridis"
    a.visible = False
    canvas.update_layer(a)
    assert canvas.colorbar.isHidden()


def test_colorbar_paints_the_colormap(canvas, qtbot):
    canvas.add_layer(heat())
    canvas.show()
    qtbot.waitExposed(canvas)
    shot = canvas.colorbar.grab().toImage()
    bar = canvas.colorbar.bar_rect()
    x = int(bar.left()) + 5
    column = [shot.pixelColor(x, y).getRgb()[:3] for y in range(shot.height())]
    lut = colormaps.lut("viridis")
    assert any(np.abs(np.array(c) - lut[255]).max() <= 3 for c in column[: shot.height() // 3])
    assert any(np.abs(np.array(c) - lut[0]).max() <= 3 for c in column[-shot.height() // 3:])


def test_click_maps_to_image_pixels(canvas, qtbot):
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.fit()
    pos = canvas.map_from_image(30.5, 20.5)
    x, y = canvas.map_to_image(pos)
    assert abs(x - 30.5) < 0.5 and abs(y - 20.5) < 0.5
    with qtbot.waitSignal(canvas.clicked) as blocker:
        qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    cx, cy = blocker.args
    assert abs(cx - 30.5) < 0.5 and abs(cy - 20.5) < 0.5


def test_drag_is_not_a_click(canvas, qtbot):
    canvas.show()
    qtbot.waitExposed(canvas)
    seen = []
    canvas.clicked.connect(lambda x, y: seen.append((x, y)))
    viewport = canvas.view.viewport()
    before = canvas.viewbox.viewRange()
    start = canvas.map_from_image(20, 20)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, start + QPoint(12 * step, 8 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 40))
    assert canvas.viewbox.viewRange() != before   # the drag panned the view
    assert seen == []


def test_box_click_picks_the_smallest_box_and_selects_it(canvas, qtbot):
    canvas.show()
    qtbot.waitExposed(canvas)
    lid = canvas.add_layer(boxes())
    canvas.fit()
    viewport = canvas.view.viewport()
    with qtbot.waitSignal(canvas.boxClicked) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.map_from_image(30, 20))
    assert blocker.args == [lid, 1] and canvas.selected_box() == (lid, 1)
    with qtbot.waitSignal(canvas.boxClicked) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.map_from_image(80, 60))
    assert blocker.args == [lid, 0]


def test_pick_box_prefers_the_topmost_visible_layer():
    lower, upper = boxes("lower"), boxes("upper", rows=((25, 15, 95, 75),))
    assert pick_box([lower, upper], 30, 20) == (upper.id, 0)
    assert pick_box([lower, upper], 10, 5) == (lower.id, 0)
    upper.visible = False
    assert pick_box([lower, upper], 30, 20) == (lower.id, 1)
    assert pick_box([lower], 99, 79) is None


def test_export_draws_the_canvas_layers(canvas, tmp_path):
    canvas.add_layer(BoxesLayer(name="b", boxes=np.array([[10, 10, 50, 50]], np.float32), colors=[(255, 0, 0)]))
    path = canvas.export(tmp_path / "c.png", scale=600 / 512)   # 100 px enlarged to 512, then 600
    img = QImage(str(path))
    assert (img.width(), img.height()) == (600, 480)
    assert img.pixelColor(60, 150).getRgb()[:3] == (255, 0, 0)
    assert img.pixelColor(150, 150).getRgb()[:3] == (90, 90, 90)
