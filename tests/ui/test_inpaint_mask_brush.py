"""The mask brush on the main canvas: a drag paints the workspace's mask (left), erases (erase mode or a
right drag), clear and invert work, the overlay shows it translucent over the image, and nothing painted
is lost when the canvas's overlays are replaced by a new result."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.inpaint import masks as M
from workbench.ui.mask_brush import ERASE, OVERLAY_RGBA, MaskBrush
from workbench.ui.mask_tools import mask_tools


@pytest.fixture
def brush(qtbot, canvas, workspace):
    canvas.resize(400, 400)
    canvas.show()
    qtbot.waitExposed(canvas)
    b = MaskBrush.for_canvas(canvas, workspace)
    workspace.imageChanged.connect(canvas.set_image)
    workspace.set_image(np.full((100, 100, 3), 90, np.uint8), "grey")
    assert MaskBrush.for_canvas(canvas, workspace) is b          # one brush per canvas
    return b


def _send(canvas, kind, x, y, button):
    pos = QPointF(canvas.map_from_image(x, y))
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, canvas.view.viewport().mapToGlobal(pos), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.view.viewport(), event)


def drag(canvas, points, button=Qt.MouseButton.LeftButton):
    _send(canvas, QEvent.Type.MouseButtonPress, *points[0], button)
    for x, y in points[1:]:
        _send(canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton)
    _send(canvas, QEvent.Type.MouseButtonRelease, *points[-1], button)


def test_a_drag_paints_the_mask_and_erase_takes_it_back(brush, canvas, workspace):
    drag(canvas, [(20.5, 50.5), (80.5, 50.5)])
    assert workspace.mask is None, "the brush is off: a drag pans, it paints nothing"
    brush.set_active(True)
    brush.set_radius(4)
    drag(canvas, [(20.5, 50.5), (50.5, 50.5), (80.5, 50.5)])
    m = workspace.mask
    assert m is not None and m[50, 20:81].all() and m[47, 50] and m[53, 50]      # radius 4 (to a pixel:
    assert not m[44, 50] and not m[56, 50] and not m[50, 10] and not m[20, 50]   # the mouse is in screen pixels)
    painted = int(m.sum())
    assert brush.overlay.isVisible()
    rgba = brush.overlay.image
    assert rgba.shape == (100, 100, 4) and tuple(rgba[50, 50]) == OVERLAY_RGBA and rgba[10, 10, 3] == 0

    drag(canvas, [(50.5, 50.5)], Qt.MouseButton.RightButton)           # a right drag erases
    assert not workspace.mask[50, 48:53].any() and workspace.mask[50, 30]
    brush.set_mode(ERASE)
    drag(canvas, [(20.5, 50.5), (35.5, 50.5)])
    assert not workspace.mask[50, 20:36].any() and workspace.mask[50, 70]
    assert 0 < int(workspace.mask.sum()) < painted


def test_clear_invert_and_the_overlay_survive_a_new_result(brush, canvas, workspace):
    workspace.set_mask(M.centre_square((100, 100)))
    canvas.replace_overlays([HeatmapLayer(name="a result", data=np.ones((100, 100), np.float32))])
    assert brush.overlay.isVisible() and brush.overlay.scene() is canvas.view.scene()
    assert workspace.mask.sum() == 38 * 38
    assert brush.invert() and workspace.mask.sum() == 100 * 100 - 38 * 38
    brush.clear()
    assert workspace.mask is None and not brush.overlay.isVisible()


def test_the_bar_drives_the_brush_and_saves_and_loads_the_mask(qtbot, brush, canvas, workspace, tmp_path):
    bar = mask_tools(canvas, workspace)
    qtbot.addWidget(bar)
    assert bar.brush is brush and bar.isHidden()          # shown while the brush is on or a hole exists
    bar.brush_button.click()
    assert brush.active
    bar.size.setValue(7)
    assert brush.radius == 7
    bar.erase_radio.click()
    assert brush.mode == ERASE
    assert "no hole" in bar.count.text() and not bar.save_button.isEnabled()
    workspace.set_mask(M.centre_square((100, 100)))
    assert bar.count.text() == "hole: 1444 px" and bar.save_button.isEnabled()
    assert bar.save(tmp_path / "m.png")
    bar.clear_button.click()
    assert workspace.mask is None
    assert bar.load(tmp_path / "m.png") and workspace.mask.sum() == 1444
    messages = []
    bar.message.connect(messages.append)
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert not bar.load(tmp_path / "bad.png") and "bad.png" in messages[-1] and workspace.mask.sum() == 1444


def test_the_brush_bar_fits_over_the_canvas_at_the_default_window_size(qtbot, make_window):
    from tests.ui.test_layout_fit import cut_off
    from workbench.core.samples import sample_image
    window = make_window()
    window.workspace.set_image(sample_image("digit-3"), "digit-3")
    image_tab = window.panel("imageTab")
    assert image_tab.mask_tools.isHidden()                      # no brush, no hole: no bar
    image_tab.mask_tools.brush_button.setChecked(True)
    qtbot.waitUntil(lambda: image_tab.mask_tools.isVisible())
    window.workspace.set_mask(M.centre_square((128, 128)))
    qtbot.wait(100)
    assert cut_off(image_tab) == []
