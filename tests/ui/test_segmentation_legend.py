"""Segmentation panel: per-class toggles and opacity change the overlay on the canvas live."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from workbench.core.results import SegMask
from workbench.core.canvas_layers import SegmentationLayer, class_color
from workbench.core.renderers import layers_for
from workbench.engine import Engine
from workbench.figure.render import export_result
from workbench.ui.detection.segmentation_legend import CLASS_ROLE, SegmentationLegend
from workbench.ui.settings import Settings
from workbench.ui.window import MainWindow

NAMES = ["background", "circle", "square", "triangle"]


def class_map():
    mask = np.zeros((40, 60), np.int64)
    mask[5:15, 5:20] = 1
    mask[20:35, 30:50] = 3
    return mask


@pytest.fixture
def setup(bind, canvas):
    canvas.set_image(np.full((40, 60, 3), 90, np.uint8))
    legend = bind(SegmentationLegend)
    layer = SegmentationLayer(name="seg", mask=class_map(), label_names=NAMES)
    canvas.add_layer(layer)
    return canvas, legend, layer


def test_the_panel_declares_itself():
    assert (SegmentationLegend.title, SegmentationLegend.area, SegmentationLegend.object_name) == (
        "Segmentation", "right", "segmentationDock")


def rows(legend):
    return {legend.list.item(i).data(CLASS_ROLE): legend.list.item(i) for i in range(legend.list.count())}


def drawn(canvas, layer):
    """The RGBA pixels the canvas shows for the layer."""
    return canvas.graphics(layer.id).image_item.image


def test_lists_the_classes_present_with_their_pixel_share(setup):
    _canvas, legend, _layer = setup
    items = rows(legend)
    assert sorted(items) == [0, 1, 3]                    # square (2) is not in the map
    assert items[1].text().startswith("circle") and "6.2%" in items[1].text()   # 150 / 2400 px
    assert items[3].text().startswith("triangle") and "12.5%" in items[3].text()
    assert items[0].checkState() == Qt.CheckState.Unchecked   # background starts hidden
    assert items[1].checkState() == Qt.CheckState.Checked


def test_unticking_a_class_clears_its_pixels_on_the_canvas(setup):
    canvas, legend, layer = setup
    mask = class_map()
    before = drawn(canvas, layer).copy()
    assert (before[mask == 1, 3] > 0).all() and (before[mask == 1, :3] == class_color(1)).all()
    rows(legend)[1].setCheckState(Qt.CheckState.Unchecked)
    after = drawn(canvas, layer)
    assert 1 in layer.hidden
    assert (after[mask == 1, 3] == 0).all()
    np.testing.assert_array_equal(after[mask == 3], before[mask == 3])
    rows(legend)[0].setCheckState(Qt.CheckState.Checked)  # show background
    assert (drawn(canvas, layer)[mask == 0, 3] > 0).all()
    legend.set_class_visible(1, True)
    assert rows(legend)[1].checkState() == Qt.CheckState.Checked
    assert (drawn(canvas, layer)[mask == 1, 3] > 0).all()


def test_opacity_slider_sets_the_overlay_alpha(setup):
    canvas, legend, layer = setup
    legend.opacity.setValue(80)
    assert layer.opacity == pytest.approx(0.8)
    assert (drawn(canvas, layer)[class_map() == 3, 3] == round(0.8 * 255)).all()


def test_a_canvas_click_selects_the_class_under_it(setup):
    canvas, legend, _layer = setup
    canvas.clicked.emit(35.5, 25.2)                      # inside the triangle block
    assert legend.list.currentItem().data(CLASS_ROLE) == 3
    assert "triangle" in legend.summary.text()
    assert legend.pick(100.0, 5.0) is None               # off the image


def test_follows_the_canvas_and_asks_to_be_raised_by_a_new_segmentation(qtbot, setup):
    canvas, legend, layer = setup
    raised = []
    legend.raiseRequested.connect(lambda: raised.append(True))
    legend.opacity.setValue(30)              # the same layer, edited: no raise
    canvas.remove_layer(layer.id)
    assert legend.list.count() == 0 and legend.layer() is None
    assert raised == []
    canvas.add_layer(SegmentationLayer(name="other", mask=np.full((40, 60), 2), label_names=NAMES))
    assert sorted(rows(legend)) == [2]
    assert raised == [True]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_export_shows_the_visible_classes(setup, tmp_path, suffix):
    canvas, legend, layer = setup
    legend.set_class_visible(3, False)
    path = legend.export_figure(tmp_path / f"seg{suffix}", scale=8)
    assert path.stat().st_size > 500
    if suffix == ".png":
        out = QImage(str(path))
        colours = {out.pixelColor(x, y).getRgb()[:3] for x in range(0, out.width(), 3)
                   for y in range(0, out.height(), 3)}
        blend = lambda c: tuple(round(0.5 * v + 0.5 * 90) for v in c)   # noqa: E731
        near = lambda c: any(max(abs(a - b) for a, b in zip(c, got)) <= 2 for got in colours)   # noqa: E731
        assert near(blend(class_color(1))) and not near(blend(class_color(3)))
    canvas.remove_layer(layer.id)
    with pytest.raises(ValueError, match="no segmentation"):
        legend.export_figure(tmp_path / f"none{suffix}")


def test_exported_figure_has_the_overlay_and_a_legend(tmp_path):
    image = np.full((64, 64, 3), 90, np.uint8)
    result = SegMask(mask=np.pad(np.full((32, 32), 3), 16), label_names=NAMES, title="seg")
    out = QImage(str(export_result(result, image, tmp_path / "s.png", scale=8)))
    centre = out.pixelColor(out.width() // 2, out.height() // 2)
    blend = [round(0.5 * c + 0.5 * 90) for c in class_color(3)]
    assert abs(centre.red() - blend[0]) <= 2 and abs(centre.blue() - blend[2]) <= 2
    corner = QImage(out).copy(out.width() * 3 // 4, 0, out.width() // 4, out.height() // 4)
    swatch = [(corner.pixelColor(x, y).red(), corner.pixelColor(x, y).green(), corner.pixelColor(x, y).blue())
              for x in range(corner.width()) for y in range(corner.height())]
    assert class_color(3) in swatch        # the legend's swatch for the triangle class


def test_the_window_brings_the_legend_forward_for_a_segmentation(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SETTINGS", str(tmp_path / "settings.ini"))
    engine = Engine(device="cpu")
    try:
        window = MainWindow(engine, Settings())
        qtbot.addWidget(window)
        window.show()
        window.workspace.set_image(np.full((40, 60, 3), 90, np.uint8), "grey")
        legend = window.panel("segmentationDock")
        assert legend.visibleRegion().isEmpty()     # a tab behind the Layers dock
        window.workspace.show(SegMask(mask=class_map(), label_names=NAMES, title="seg"))
        assert not legend.visibleRegion().isEmpty()
        assert sorted(rows(legend)) == [0, 1, 3]
        assert isinstance(layers_for(window.workspace.result("image"))[0], SegmentationLayer)
    finally:
        engine.shutdown(10000)
