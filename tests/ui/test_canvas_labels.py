"""Box labels of different layers on the canvas keep clear of each other, the top layer first."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF

from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer

BOX = (20, 30, 60, 70)


@pytest.fixture
def shown(canvas, qtbot):
    canvas.resize(500, 400)
    canvas.set_image(np.full((80, 100, 3), 90, np.uint8))
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


def two_layers():
    gt = BoxesLayer(name="ground truth", boxes=np.array([BOX, (70, 10, 90, 20)], np.float32),
                    texts=["circle", "star"], colors=[(255, 0, 0)])
    proposals = BoxesLayer(name="proposals", boxes=np.array([(21, 30, 61, 69)], np.float32),
                           texts=["circle p=0.83 cls 0.0030 box 0.0091"], colors=[(0, 0, 255)], scores=[0.83])
    return gt, proposals


def label_rects(canvas) -> dict[str, QRectF]:
    """Each visible label's rectangle in view pixels, where it is read."""
    t = canvas.view.viewportTransform()
    return {l.text(): l.deviceTransform(t).mapRect(QRectF(0, 0, *l.size()))
            for layer in canvas.layers() for l in getattr(canvas.graphics(layer.id), "labels", []) if l.isVisible()}


def assert_apart(rects: dict[str, QRectF]) -> None:
    items = list(rects.items())
    for k, (a, ra) in enumerate(items):
        for b, rb in items[k + 1:]:
            assert not ra.adjusted(0.5, 0.5, -0.5, -0.5).intersects(rb), (a, b)


def test_labels_of_two_layers_do_not_overlap_and_a_hidden_layer_gives_its_place_back(shown, qtbot):
    canvas = shown
    gt, proposals = two_layers()
    canvas.add_layer(gt)
    canvas.add_layer(proposals)
    box_top = canvas.map_from_image(*BOX[:2]).y()
    rects = label_rects(canvas)
    assert set(rects) == {"circle", "star", proposals.texts[0]}
    assert_apart(rects)
    assert rects[proposals.texts[0]].bottom() == pytest.approx(box_top, abs=1)   # the top layer: above
    assert rects["circle"].top() == pytest.approx(box_top, abs=1)                 # the one below: inside
    # zoomed out, labels are large against the boxes and placed again, still apart
    canvas.viewbox.scaleBy((2, 2))
    qtbot.waitUntil(lambda: canvas.map_from_image(*BOX[:2]).y() != box_top, timeout=2000)
    assert_apart(label_rects(canvas))
    canvas.fit()
    qtbot.waitUntil(lambda: canvas.map_from_image(*BOX[:2]).y() == box_top, timeout=2000)
    proposals.visible = False
    canvas.update_layer(proposals)
    rects = label_rects(canvas)
    assert set(rects) == {"circle", "star"}
    assert rects["circle"].bottom() == pytest.approx(box_top, abs=1)              # its best place back
    proposals.visible = True
    canvas.update_layer(proposals)
    assert label_rects(canvas)["circle"].top() == pytest.approx(box_top, abs=1)
    canvas.remove_layer(proposals.id)
    assert label_rects(canvas)["circle"].bottom() == pytest.approx(box_top, abs=1)


def test_replacing_overlays_places_labels_across_layers(shown):
    gt, proposals = two_layers()
    shown.replace_overlays([gt, proposals])
    rects = label_rects(shown)
    assert len(rects) == 3
    assert_apart(rects)


def test_labels_are_stacked_over_every_layers_graphics_and_follow_their_layer(shown):
    canvas = shown
    gt, proposals = two_layers()
    canvas.add_layer(gt)
    canvas.add_layer(proposals)
    heat = HeatmapLayer(name="heat", data=np.ones((80, 100), np.float32))
    canvas.add_layer(heat)
    g = canvas.graphics(gt.id)
    circle = next(l for l in g.labels if l.text() == "circle")
    line = canvas.graphics(proposals.id).box_items[0]
    heat_item = canvas.graphics(heat.id).image_item
    rect = label_rects(canvas)["circle"]
    edge = canvas.map_from_image(proposals.boxes[0][0], 0).x()       # the proposal's left line
    assert rect.left() + 2 < edge < rect.right() - 2                # runs through the lower layer's label
    under = canvas.view.items(QPoint(edge, round(rect.center().y())))
    assert {circle, line, heat_item} <= set(under)
    assert under.index(circle) < under.index(line) and under.index(circle) < under.index(heat_item)
    # the top layer's labels stay over the lower layer's
    top_label = canvas.graphics(proposals.id).labels[0]
    assert top_label.parentItem().zValue() > circle.parentItem().zValue()
    # opacity, visibility and removal of the layer reach its labels
    gt.opacity = 0.4
    canvas.update_layer(gt)
    assert circle.effectiveOpacity() == pytest.approx(0.4)
    gt.visible = False
    canvas.update_layer(gt)
    assert not circle.isVisible()
    canvas.remove_layer(gt.id)
    assert circle.scene() is None and line.scene() is canvas.view.scene()
