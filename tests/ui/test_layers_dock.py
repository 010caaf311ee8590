"""Layers panel: its controls change the layer objects and the canvas items."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core import colormaps
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer
from workbench.ui.layers_dock import LayersPanel


@pytest.fixture
def setup(bind, canvas):
    canvas.set_image(np.zeros((50, 60, 3), np.uint8))
    dock = bind(LayersPanel)
    data = np.linspace(-1, 3, 50 * 60, dtype=np.float32).reshape(50, 60)
    heat = HeatmapLayer(name="heat", data=data, levels=(-1.0, 3.0), colormap="viridis")
    canvas.add_layer(heat)
    box = BoxesLayer(name="boxes", boxes=np.array([[1, 1, 9, 9]], np.float32))
    canvas.add_layer(box)
    return canvas, dock, heat, box


def names(dock):
    return [dock.list.item(i).text() for i in range(dock.list.count())]


def test_lists_layers_topmost_first_and_selects_the_newest(setup):
    canvas, dock, heat, box = setup
    assert names(dock) == ["boxes", "heat", "image"]
    assert dock.current_layer_id() == box.id
    canvas.remove_layer(box.id)
    assert names(dock) == ["heat", "image"]


def test_heatmap_rows_show_only_for_heatmaps(setup):
    canvas, dock, heat, box = setup
    assert not dock.form.isRowVisible(dock.colormap)
    dock.select_layer(heat.id)
    assert dock.form.isRowVisible(dock.colormap) and dock.form.isRowVisible(dock.vmax)
    assert dock.colormap.currentText() == "viridis" and dock.vmax.value() == 3.0


def test_checkbox_toggles_visibility(setup):
    canvas, dock, heat, box = setup
    item = dock.list.item(1)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert heat.visible is False and not canvas.graphics(heat.id).root.isVisible()
    assert canvas.colorbar.isHidden()


def test_opacity_slider(setup):
    canvas, dock, heat, box = setup
    dock.opacity.setValue(25)
    assert box.opacity == 0.25 and canvas.graphics(box.id).root.opacity() == pytest.approx(0.25)


def test_colormap_combo_changes_the_lut(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    dock.colormap.setCurrentText("magma")
    assert heat.colormap == "magma"
    assert np.array_equal(canvas.graphics(heat.id).image_item.lut, colormaps.lut("magma"))
    assert canvas.colorbar.colormap == "magma"


def test_range_spin_boxes_change_the_levels(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    dock.vmax.setValue(2.0)
    dock.vmin.setValue(0.5)
    assert heat.levels == (0.5, 2.0)
    assert list(canvas.graphics(heat.id).image_item.levels) == [0.5, 2.0]
    dock.vmin.setValue(2.5)   # an empty range is refused
    assert heat.levels == (0.5, 2.0) and dock.vmin.value() == 0.5


def test_symmetric_and_percentile_clip(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    dock.symmetric.setChecked(True)
    assert heat.levels == (-3.0, 3.0)
    dock.vmax.setValue(2.0)
    assert heat.levels == (-2.0, 2.0)
    dock.symmetric.setChecked(False)
    assert heat.levels == (-1.0, 3.0)
    dock.clip.setCurrentIndex(dock.clip.findData(99.0))
    dock.clip.activated.emit(dock.clip.currentIndex())
    assert heat.levels[0] == pytest.approx(-1.0)
    assert heat.levels[1] == pytest.approx(float(np.percentile(heat.data, 99)), rel=1e-5)
    assert list(canvas.graphics(heat.id).image_item.levels) == pytest.approx(list(heat.levels))


def test_colorbar_toggle(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    assert not canvas.colorbar.isHidden()
    dock.show_colorbar.setChecked(False)
    assert heat.show_colorbar is False and canvas.colorbar.isHidden()


def test_remove_button(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    dock.remove.click()
    assert heat.id not in [l.id for l in canvas.layers()] and names(dock) == ["boxes", "image"]
    dock.select_layer(canvas.layers()[0].id)
    assert not dock.remove.isEnabled()


def test_follows_updates_made_elsewhere(setup):
    canvas, dock, heat, box = setup
    dock.select_layer(heat.id)
    heat.visible, heat.colormap = False, "hot"
    canvas.update_layer(heat)
    assert dock.list.item(1).checkState() == Qt.CheckState.Unchecked
    assert dock.colormap.currentText() == "hot"
