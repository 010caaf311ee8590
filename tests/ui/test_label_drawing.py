"""Readable at their defaults, on the canvas and in figures: box labels placed and outlined,
candidates before NMS dashed, the image dimmed under diverging maps, a legend for proposal
colours, and a note for all-zero maps."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QImage

from workbench import api
from workbench.core import colormaps
from workbench.core.attribution.notes import ZERO_GRADIENT
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, ImageLayer
from workbench.core.detection.view import PROPOSAL_COLORMAP, DetectionView, build_layers
from workbench.core.results import Heatmap
from workbench.figure import render
from workbench.ui.canvas_items import BoxLabel, OutlinedBox
from workbench.ui.detection.dock import DetectionPanel
from workbench.ui.image_view import ImageView
from workbench.ui.layers_dock import LayersPanel
from tests.core.test_detection_view import synthetic

RED, BLUE, YELLOW = (255, 0, 0), (0, 0, 255), (255, 255, 0)


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def pixels(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    return np.frombuffer(img.constBits(), np.uint8, img.bytesPerLine() * h).reshape(h, -1)[:, :w * 3] \
        .reshape(h, w, 3).astype(int)


def image_layer(v=100, rgb=None, side=64) -> ImageLayer:
    image = np.zeros((side, side, 3), np.uint8)
    image[:] = rgb if rgb is not None else (v, v, v)
    return ImageLayer(name="image", image=image)


def near(region: np.ndarray, rgb, tol=40) -> float:
    """Share of the pixels of ``region`` within ``tol`` of ``rgb``."""
    return float((np.abs(region - np.array(rgb)).max(axis=-1) <= tol).mean())


# --- the CLI's detection figure ------------------------------------------------------------------
def test_detect_figure_draws_only_boxes_above_the_default_threshold(bundled, tmp_path):
    """`workbench run detect --model zoo:shapes-fasterrcnn --image sample:scene-1 --out f.png`."""
    image = api.load_image("sample:scene-1")
    result = api.run("detect", bundled("shapes-fasterrcnn"), image)
    assert (result.scores < DetectionView().score_threshold).any()
    figure = pixels(render.export_result(result, image, tmp_path / "f.png"))
    base = [ImageLayer(name="image", image=image)]
    as_panel = build_layers(result, DetectionView())
    panel = pixels(render.export_layers(base + as_panel.layers, tmp_path / "p.png", title=result.title))
    everything = build_layers(result, DetectionView(score_threshold=0.0))
    loose = pixels(render.export_layers(base + everything.layers, tmp_path / "a.png", title=result.title))
    assert len(as_panel.rows) < len(everything.rows) == len(result.boxes)
    assert np.array_equal(figure, panel) and not np.array_equal(figure, loose)


# --- labels in figures ---------------------------------------------------------------------------
def two_boxes(scores=(0.3, 0.9), **kw) -> BoxesLayer:
    box = (8, 16, 56, 56)   # figure px: 64..448 x 128..448 at 8 px per image px
    return BoxesLayer(name="b", boxes=np.array([box, box], np.float32), texts=["low 0.30", "high 0.90"],
                      colors=[RED, BLUE], scores=list(scores), **kw)


def test_figure_puts_the_best_label_above_and_the_next_inside(tmp_path):
    px = pixels(render.export_layers([image_layer(), two_boxes()], tmp_path / "f.png"))
    above, inside = px[116:126, 68:110], px[131:141, 68:110]
    assert near(above, BLUE) > 0.5 > near(above, RED)       # "high" takes the best place
    assert near(inside, RED) > 0.5 > near(inside, BLUE)     # "low" moves inside, not on top of it
    swapped = pixels(render.export_layers([image_layer(), two_boxes(scores=(0.9, 0.3))], tmp_path / "g.png"))
    assert near(swapped[116:126, 68:110], RED) > 0.5


def test_a_label_with_no_free_place_is_dropped(tmp_path):
    layer = two_boxes()
    layer.boxes = np.repeat(layer.boxes[:1], 4, axis=0)
    layer.texts, layer.colors, layer.scores = ["a", "b", "c", "d"], [RED, BLUE, (0, 255, 0), YELLOW], [.9, .8, .7, .6]
    px = pixels(render.export_layers([image_layer(), layer], tmp_path / "f.png"))
    assert near(px[116:126, 66:72], RED) > 0.5 and near(px[131:141, 66:72], BLUE) > 0.5
    assert near(px[451:461, 66:72], (0, 255, 0)) > 0.5                        # below the box
    yellow = np.argwhere(np.abs(px - YELLOW).max(axis=-1) <= 10)                # "d": its line, no label
    on_line = np.isin(yellow[:, 0], np.arange(126, 131)) | np.isin(yellow[:, 0], np.arange(446, 451)) | \
        np.isin(yellow[:, 1], np.arange(62, 67)) | np.isin(yellow[:, 1], np.arange(446, 451))
    assert len(yellow) and on_line.all()


def test_box_lines_have_a_dark_outline_and_labels_a_contrasting_text(tmp_path):
    box = BoxesLayer(name="b", boxes=np.array([[8, 16, 56, 56]], np.float32), texts=["cat 0.93"], colors=[YELLOW])
    px = pixels(render.export_layers([image_layer(v=230), box], tmp_path / "f.png"))
    assert near(px[300, 63:65], YELLOW, tol=10) == 1.0        # the line itself
    assert px[300, 62].max() < 150 and px[300, 65].max() < 150  # dark on both sides of it, on a light image
    label = px[116:128, 66:100]
    assert near(label, YELLOW, tol=10) > 0.5 and (label.max(axis=-1) < 80).any()   # black text on yellow


def test_dashed_boxes_alternate_and_solid_ones_do_not(tmp_path):
    dashed = BoxesLayer(name="b", boxes=np.array([[8, 8, 56, 56]], np.float32), colors=[RED], dashed=True)
    px = pixels(render.export_layers([image_layer(), dashed], tmp_path / "d.png"))
    edge = px[64, 100:400]
    assert 0.25 < near(edge, RED, tol=60) < 0.75
    dashed.dashed = False
    solid = pixels(render.export_layers([image_layer(), dashed], tmp_path / "s.png"))
    assert near(solid[64, 100:400], RED, tol=60) == 1.0


# --- dimming the image under a diverging map -----------------------------------------------------
def test_figure_dims_a_saturated_image_under_a_signed_map(tmp_path):
    data = np.zeros((64, 64), np.float32)
    heat = HeatmapLayer.auto("h", data, signed=True, show_colorbar=False)
    assert heat.dim_image == 0.5
    px = pixels(render.export_layers([image_layer(rgb=RED), heat], tmp_path / "d.png"))[256, 256]
    zero = colormaps.lut(heat.colormap)[128][:3].astype(float)
    washed = 0.5 * np.array(RED) + 0.5 * np.array(heat.wash_color())
    assert np.abs(px - (0.4 * washed + 0.6 * zero)).max() <= 3
    heat.dim_image = 0.0
    plain = pixels(render.export_layers([image_layer(rgb=RED), heat], tmp_path / "p.png"))[256, 256]
    assert np.abs(plain - (0.4 * np.array(RED) + 0.6 * zero)).max() <= 3
    assert (px[0] - px[1]) < (plain[0] - plain[1]) - 40      # the red reads far less as attribution


def test_canvas_dims_the_image_and_the_layers_panel_sets_how_much(qtbot, bind, canvas):
    canvas.set_image(np.zeros((40, 50, 3), np.uint8))
    layer = HeatmapLayer.auto("h", np.linspace(-1, 1, 2000, dtype=np.float32).reshape(40, 50))
    lid = canvas.add_layer(layer)
    g = canvas.graphics(lid)
    assert g.wash is not None and g.wash.isVisible() and g.wash.opacity() == pytest.approx(0.5)
    assert g.wash.brush().color().getRgb()[:3] == layer.wash_color()
    assert g.wash.rect().getCoords() == (0, 0, 50, 40) and g.wash.zValue() < g.image_item.zValue()
    assert g.image_item.opacity() == pytest.approx(layer.opacity)
    panel = bind(LayersPanel)
    panel.select_layer(lid)
    assert panel.dim_image.value() == 50 and not panel.dim_image.isHidden()
    panel.dim_image.setValue(80)
    assert canvas.layer(lid).dim_image == pytest.approx(0.8) and g.wash.opacity() == pytest.approx(0.8)
    panel.dim_image.setValue(0)
    assert not g.wash.isVisible()


# --- labels and dashes on the canvas -------------------------------------------------------------
def visible_labels(g) -> list[BoxLabel]:
    return [l for l in g.labels if l.isVisible()]


def test_canvas_places_labels_without_overlap_best_on_top(canvas, qtbot):
    canvas.resize(500, 400)
    canvas.set_image(np.full((80, 100, 3), 90, np.uint8))
    canvas.show()
    qtbot.waitExposed(canvas)
    layer = BoxesLayer(name="b", boxes=np.array([[20, 30, 60, 70]] * 4, np.float32),
                       texts=["d 0.10", "b 0.80", "a 0.90", "c 0.50"], colors=[RED], scores=[0.1, 0.8, 0.9, 0.5])
    g = canvas.graphics(canvas.add_layer(layer))
    shown = visible_labels(g)
    assert sorted(l.text() for l in shown) == ["a 0.90", "b 0.80", "c 0.50"]   # no fourth place: dropped
    rects = [QRectF(QPointF(canvas.map_from_image(l.pos().x(), l.pos().y())), QSizeF(*l.size())) for l in shown]
    for i, a in enumerate(rects):   # on screen, where they are read
        assert not any(a.adjusted(1, 1, -1, -1).intersects(b) for b in rects[i + 1:])
    best = next(l for l in shown if l.text() == "a 0.90")
    assert best.pos().y() < 30 and best.zValue() == max(l.zValue() for l in shown)   # above the box, on top
    # boxes a pixel apart: at this zoom three labels fit; zoomed in, labels are small against the
    # boxes and are placed again, so every label finds a place
    layer.boxes = np.array([[20, 30 + k, 60, 70 + k] for k in range(5)], np.float32)
    layer.texts, layer.scores = [f"{k}" for k in range(5)], [0.9, 0.8, 0.7, 0.6, 0.5]
    canvas.update_layer(layer)
    assert len(visible_labels(g)) == 3
    canvas.viewbox.scaleBy((0.25, 0.25))
    qtbot.waitUntil(lambda: len(visible_labels(g)) == 5, timeout=2000)


def test_canvas_box_lines_are_outlined_and_candidates_dashed(canvas):
    canvas.set_image(np.full((80, 100, 3), 90, np.uint8))
    built = build_layers(synthetic(), DetectionView(score_threshold=0.0, stage="both"))
    for layer in built.layers:
        canvas.add_layer(layer)
    pre = canvas.graphics(built.layer("pre-nms").id)
    final = canvas.graphics(built.layer("detections").id)
    dashed = [b for b in pre.box_items if b.isVisible()]
    assert dashed and all(b.pen().style() == Qt.PenStyle.CustomDashLine for b in dashed)
    assert pre.root.opacity() < 1.0
    solid = [b for b in final.box_items if isinstance(b, OutlinedBox) and b.isVisible()]
    assert solid and all(b.pen().style() == Qt.PenStyle.SolidLine for b in solid)
    outline = solid[0].outline_pen()
    assert outline.color().getRgb()[:3] == (0, 0, 0) and outline.widthF() > solid[0].pen().widthF()


# --- proposals legend ----------------------------------------------------------------------------
def test_detection_panel_shows_a_legend_while_proposals_are_drawn(qtbot, bind, workspace, canvas, tmp_path):
    image = np.full((64, 64, 3), 90, np.uint8)
    workspace.set_image(image)
    canvas.set_image(image)
    panel = bind(DetectionPanel)
    workspace.show(synthetic())
    assert panel.proposal_legend.isHidden()
    panel.proposals.setChecked(True)
    assert not panel.proposal_legend.isHidden()
    assert panel.proposal_legend.text() == "objectness low..high"
    assert panel.proposal_legend.colormap == PROPOSAL_COLORMAP
    grab = panel.proposal_legend.grab().toImage()
    assert grab.width() > 40
    # the figure carries a colorbar for the proposals
    layers = canvas.layers()
    assert render.layers_figure(layers, 1.0).colorbar is not None
    panel.proposals.setChecked(False)
    assert panel.proposal_legend.isHidden()
    assert render.layers_figure(canvas.layers(), 1.0).colorbar is None


def test_the_panels_first_view_is_the_figures_view():
    shown, default = DetectionPanel().view(), DetectionView()
    assert (shown.score_threshold, shown.stage, shown.show_proposals, shown.top_k, shown.color_by) == (
        default.score_threshold, default.stage, default.show_proposals, default.top_k, default.color_by)


# --- all-zero maps -------------------------------------------------------------------------------
def test_the_image_tab_says_why_a_map_is_all_zero(qtbot, bind, workspace):
    workspace.set_image(np.full((16, 16, 3), 90, np.uint8))
    view = bind(ImageView)
    notes = []
    view.message.connect(notes.append)
    workspace.show(Heatmap(method="saliency", heatmap=np.zeros((16, 16), np.float32), target=0, signed=True,
                           title="saliency: a"))
    assert len(notes) == 1 and ZERO_GRADIENT in notes[0]
    workspace.show(Heatmap(method="saliency", heatmap=np.ones((16, 16), np.float32), target=0, title="saliency: a"))
    assert len(notes) == 1
