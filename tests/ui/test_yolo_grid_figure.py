"""The yolo-grid result drawn: its canvas layers and its exported figure, a panel per stage."""
import numpy as np
import pytest

from tests.tiny import builtin_registry
from workbench.core import runner
from workbench.core.renderers import layers_for, renderer_for
from workbench.core.sources import load_model
from workbench.zoo import detection_data as data


@pytest.fixture(scope="module")
def grid_result():
    yolo = load_model("zoo:shapes-yolo")
    scene = data.scenes("test", 1)[0]
    result = runner.run_method(builtin_registry().get("yolo-grid"), runner.context(yolo, scene.image),
                               {"score_threshold": 0.2})
    return result, scene.image


def test_the_canvas_shows_the_class_map_the_grid_the_responsible_cells_and_the_detections(grid_result):
    result, _ = grid_result
    layers = {l.name: l for l in layers_for(result)}
    heat = next(l for l in layers.values() if l.kind == "heatmap")
    assert heat.data.shape == result.image_hw
    assert len(layers["grid cells"].boxes) == 64
    assert len(result.boxes) >= 1
    responsible = np.unique(result.detection_cells)
    assert len(layers["responsible cells"].boxes) == len(responsible)
    np.testing.assert_allclose(np.sort(layers["responsible cells"].boxes, 0), np.sort(result.cells[responsible], 0))
    np.testing.assert_allclose(layers["after NMS"].boxes, result.boxes)


def test_the_figure_has_a_panel_per_stage(grid_result, tmp_path, qtbot):
    from workbench.figure.render import export_result
    result, image = grid_result
    assert renderer_for(result).figure == "workbench.figure.yolo:export_yolo"
    one_panel = export_result(result, None, tmp_path / "alone.png")
    path = export_result(result, image, tmp_path / "g.png")
    from PySide6.QtGui import QImage
    wide, alone = QImage(str(path)), QImage(str(one_panel))
    # the class map, a confidence panel per box slot, before NMS, after NMS: five side by side
    assert wide.width() > 4 * wide.height()
    assert alone.width() > 0
