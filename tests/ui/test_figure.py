"""Figure export: the files hold what the layers say, in every format."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from workbench.core import colormaps
from workbench.core.results import ActivationGrid, Curves, Heatmap, ImageGrid
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, ImageLayer, MaskLayer, PointsLayer
from workbench.figure import render
from workbench.figure.paint import box_label_placements, paint_layers


@pytest.fixture(autouse=True)
def _app(qapp):
    # a QApplication must exist before export would create a bare QGuiApplication
    return qapp


def rgb_at(img: QImage, x: int, y: int) -> np.ndarray:
    c = img.pixelColor(x, y)
    return np.array([c.red(), c.green(), c.blue()])


def gray_image(w=64, h=64, v=100):
    return ImageLayer(name="image", image=np.full((h, w, 3), v, np.uint8))


def red_box(box=(8, 8, 40, 40), text=""):
    return BoxesLayer(name="boxes", boxes=np.array([box], np.float32), texts=[text] if text else [],
                      colors=[(255, 0, 0)], line_width=2.0)


def test_png_box_edge_is_drawn_where_the_box_is(tmp_path):
    path = render.export_layers([gray_image(), red_box()], tmp_path / "f.png", scale=1.0)
    img = QImage(str(path))
    # at scale 1, 64 px is enlarged to 512 px: 8 figure px per image px, box left edge at x = 64
    assert (img.width(), img.height()) == (512, 512)
    assert np.array_equal(rgb_at(img, 64, 200), [255, 0, 0])
    assert np.array_equal(rgb_at(img, 200, 64), [255, 0, 0])
    assert np.array_equal(rgb_at(img, 100, 200), [100, 100, 100])   # inside the box: the image
    assert np.array_equal(rgb_at(img, 400, 400), [100, 100, 100])   # outside


def test_png_size_follows_scale(tmp_path):
    layers = [gray_image(100, 80)]
    a = QImage(str(render.export_layers(layers, tmp_path / "a.png", scale=1)))
    b = QImage(str(render.export_layers(layers, tmp_path / "b.png", scale=3)))
    assert (a.width(), a.height()) == (512, 410)     # small images: the long side enlarged to 512
    assert (b.width(), b.height()) == (1536, 1229)   # and the scale multiplies that
    big = [gray_image(1000, 800)]
    c = QImage(str(render.export_layers(big, tmp_path / "c.png", scale=0.5)))
    assert (c.width(), c.height()) == (500, 400)


def test_png_heatmap_colour_is_blended_with_its_opacity(tmp_path):
    data = np.zeros((64, 64), np.float32)
    data[:, 32:] = 1.0
    heat = HeatmapLayer(name="h", data=data, colormap="viridis", levels=(0.0, 1.0), opacity=0.6,
                        show_colorbar=False)
    img = QImage(str(render.export_layers([gray_image(), heat], tmp_path / "h.png")))
    lut = colormaps.lut("viridis").astype(float)
    for x, entry in ((100, 0), (400, 255)):
        expected = 0.4 * 100 + 0.6 * lut[entry]
        assert np.abs(rgb_at(img, x, 256) - expected).max() <= 2


def test_mask_and_points_are_painted(tmp_path):
    masks = np.zeros((1, 64, 64), bool)
    masks[0, 40:60, 40:60] = True
    layers = [gray_image(v=0), MaskLayer(name="m", masks=masks, colors=[(0, 255, 0)], opacity=1.0),
              PointsLayer(name="p", points=np.array([[10.0, 10.0]]), colors=[(0, 0, 255)], size=12)]
    img = QImage(str(render.export_layers(layers, tmp_path / "m.png")))
    assert np.array_equal(rgb_at(img, 50 * 8, 50 * 8), [0, 255, 0])
    assert np.array_equal(rgb_at(img, 80, 80), [0, 0, 255])
    assert np.array_equal(rgb_at(img, 200, 200), [0, 0, 0])


def test_hidden_layers_are_not_exported(tmp_path):
    box = red_box()
    box.visible = False
    img = QImage(str(render.export_layers([gray_image(), box], tmp_path / "f.png")))
    assert np.array_equal(rgb_at(img, 64, 200), [100, 100, 100])


def test_colorbar_shows_the_top_visible_heatmap(tmp_path):
    heat = HeatmapLayer(name="h", data=np.zeros((64, 64), np.float32), colormap="viridis", levels=(0.0, 5.0))
    layers = [gray_image(), heat]
    fig = render.layers_figure(layers, 1.0)
    assert fig.colorbar is not None and fig.colorbar.left() > fig.panel.right()
    img = QImage(str(render.export_layers(layers, tmp_path / "c.png")))
    assert img.width() == round(fig.size[0]) and img.width() > 512
    lut = colormaps.lut("viridis")
    column = np.array([rgb_at(img, round(fig.colorbar.left()) + 5, y) for y in range(img.height())])
    top = np.flatnonzero(np.abs(column - lut[255].astype(int)).max(axis=1) <= 3)
    bottom = np.flatnonzero(np.abs(column - lut[0].astype(int)).max(axis=1) <= 3)
    assert len(top) and len(bottom) and top.max() < bottom.min()   # high values on top
    heat.visible = False
    assert render.layers_figure(layers, 2.0).colorbar is None


def test_title_adds_a_band_with_text(tmp_path):
    plain = QImage(str(render.export_layers([gray_image(v=255)], tmp_path / "a.png")))
    titled = QImage(str(render.export_layers([gray_image(v=255)], tmp_path / "b.png", title="Grad-CAM")))
    assert titled.height() > plain.height()
    band = np.array([[rgb_at(titled, x, y) for x in range(0, titled.width(), 2)] for y in range(2, 30)])
    assert band.min() < 100     # dark title text on a white page


def test_svg_embeds_the_image_and_draws_boxes_and_labels_as_vectors(tmp_path):
    path = render.export_layers([gray_image(), red_box(text="cat 0.93")], tmp_path / "f.svg")
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.findall(f".//{ns}image")
    red = [g for g in root.iter(f"{ns}g") if g.get("stroke") == "#ff0000"]
    assert any(g.find(f"{ns}rect") is not None or g.find(f"{ns}path") is not None for g in red)
    assert "cat 0.93" in [(t.text or "").strip() for t in root.iter(f"{ns}text")]


def test_pdf_is_a_pdf_page_of_the_figure_size(tmp_path):
    layers = [gray_image(), red_box(text="cat")]
    path = render.export_layers(layers, tmp_path / "f.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert box and (float(box.group(1)), float(box.group(2))) == (512.0, 512.0)


def test_unknown_suffix_names_the_supported_ones(tmp_path):
    with pytest.raises(ValueError, match=r"\.png.*\.svg.*\.pdf"):
        render.export_layers([gray_image()], tmp_path / "f.jpg")
    assert not (tmp_path / "f.jpg").exists()


def test_paint_layers_paints_several_panels_on_one_page():
    img = QImage(200, 100, QImage.Format.Format_RGB32)
    img.fill(QColor(255, 255, 255))
    painter = QPainter(img)
    paint_layers(painter, QRectF(0, 0, 100, 100), [gray_image(v=10)])
    paint_layers(painter, QRectF(100, 0, 100, 100), [gray_image(v=200)])
    painter.end()
    assert np.array_equal(rgb_at(img, 50, 50), [10, 10, 10])
    assert np.array_equal(rgb_at(img, 150, 50), [200, 200, 200])


def ground_truth_and_proposals():
    """Two box layers over one shape, as the training-loss view draws them: the proposals on top."""
    gt = BoxesLayer(name="ground truth", boxes=np.array([[8, 16, 40, 48], [30, 20, 56, 50]], np.float32),
                    texts=["circle", "star"], colors=[(255, 0, 0)])
    proposals = BoxesLayer(name="proposals", boxes=np.array([[9, 16, 41, 47], [40, 4, 60, 12]], np.float32),
                           texts=["circle p=0.83", "star p=0.10"], colors=[(0, 0, 255)], scores=[0.83, 0.1])
    return [gray_image(), gt, proposals]


def test_labels_of_different_box_layers_do_not_overlap_the_top_layer_placing_first(tmp_path):
    layers = ground_truth_and_proposals()
    fig = render.layers_figure(layers, 1.0)
    placed = box_label_placements(layers, (fig.panel.width(), fig.panel.height()), fig.unit)
    labels = [(i, p) for i in (1, 2) for p in placed[i]]
    assert len(labels) == 4                                  # every label found a place
    for k, (_, a) in enumerate(labels):
        assert not any(a.overlaps(b.x, b.y, b.w, b.h) for _, b in labels[k + 1:])
    top = {p.index: p.where for p in placed[2]}
    low = {p.index: p.where for p in placed[1]}
    assert top[0] == "above" and low[0] == "inside"          # the proposal keeps the best place
    # read back: each label is painted in its own layer's colour, none covered by another
    px = png_pixels(render.export_layers(layers, tmp_path / "f.png"))
    for i, own, other in ((1, (255, 0, 0), (0, 0, 255)), (2, (0, 0, 255), (255, 0, 0))):
        for p in placed[i]:
            x, y = round(fig.panel.left() + p.x), round(fig.panel.top() + p.y)
            inner = px[y + 2:y + round(p.h) - 2, x + 2:x + round(p.w) - 2]
            share = [(np.abs(inner - rgb).max(axis=-1) <= 10).mean() for rgb in (own, other)]
            assert share[0] > 0.3 and share[1] < 0.2
    # hidden, the top layer gives its places back
    layers[2].visible = False
    alone = box_label_placements(layers, (fig.panel.width(), fig.panel.height()), fig.unit)
    assert 2 not in alone and {p.index: p.where for p in alone[1]}[0] == "above"


def test_labels_are_painted_over_the_box_lines_of_higher_layers(tmp_path):
    layers = ground_truth_and_proposals()
    fig = render.layers_figure(layers, 1.0)
    placed = box_label_placements(layers, (fig.panel.width(), fig.panel.height()), fig.unit)
    circle = next(p for p in placed[1] if p.index == 0)          # the ground truth's, inside its box
    edge = layers[2].boxes[0][0] * fig.panel.width() / 64         # the proposal's left line runs through it
    assert circle.x + 3 < edge < circle.x + circle.w - 3
    px = png_pixels(render.export_layers(layers, tmp_path / "f.png"))
    x, top = round(fig.panel.left() + edge), round(fig.panel.top() + circle.y)
    crossing = px[top + 2:top + round(circle.h) - 2, x - 1:x + 2].reshape(-1, 3)
    near = lambda rgb: np.abs(crossing.astype(int) - rgb).max(axis=-1) <= 40   # noqa: E731
    assert not near((0, 0, 255)).any() and not near((0, 0, 0)).any()         # no line, no line outline
    assert near((255, 0, 0)).mean() > 0.5                                    # the label's own red
    # below the label the same line is drawn as usual
    below = px[top + round(circle.h) + 4:top + round(circle.h) + 20, x - 1:x + 2].reshape(-1, 3)
    assert (np.abs(below.astype(int) - (0, 0, 255)).max(axis=-1) <= 40).mean() > 0.2


def test_export_grid_places_tiles_in_a_near_square_grid(tmp_path):
    colours = np.array([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1)], np.float32)
    tiles = np.broadcast_to(colours[:, None, None, :], (5, 16, 16, 3)).copy()
    grid = ImageGrid(tiles=tiles, titles=[f"t{i}" for i in range(5)])
    img = QImage(str(render.export_grid(grid, tmp_path / "g.png")))
    # 5 tiles -> 3 columns x 2 rows; sample the middle of each tile's cell
    cell_w = img.width() / 3
    assert img.width() >= 512
    for i, colour in enumerate(colours):
        r, c = divmod(i, 3)
        x = int(cell_w * (c + 0.5))
        y = int(img.height() / 2 * (r + 0.4))
        assert np.array_equal(rgb_at(img, x, y), colour * 255), i


def test_export_grid_titles_only_when_tiles_are_large(tmp_path):
    tiles = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    titled = ImageGrid(tiles=tiles, titles=["a", "b", "c", "d"])
    untitled = ImageGrid(tiles=tiles)
    a = QImage(str(render.export_grid(titled, tmp_path / "a.png")))
    b = QImage(str(render.export_grid(untitled, tmp_path / "b.png")))
    assert a.height() > b.height() and a.width() == b.width()
    many = ImageGrid(tiles=np.zeros((400, 3, 3), np.float32), titles=[str(i) for i in range(400)])
    c = QImage(str(render.export_grid(many, tmp_path / "c.png", columns=20)))
    tile_px = (c.width() - 21 * 3) / 20
    assert tile_px < 48 and c.height() == c.width()   # 20 x 20 tiny tiles: no title rows


def test_export_grid_svg_and_pdf(tmp_path):
    grid = ImageGrid(tiles=np.random.default_rng(0).random((3, 20, 20)).astype(np.float32),
                     titles=["x0", "x1", "x2"])
    svg = ET.parse(render.export_grid(grid, tmp_path / "g.svg")).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f".//{ns}image")) == 3
    assert {"x0", "x1", "x2"} <= {(t.text or "").strip() for t in svg.iter(f"{ns}text")}
    assert render.export_grid(grid, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_export_result_heatmap_over_image_with_title_and_colorbar(tmp_path):
    image = np.full((64, 64, 3), 50, np.uint8)
    result = Heatmap(heatmap=np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64), title="occlusion")
    img = QImage(str(render.export_result(result, image, tmp_path / "r.png")))
    assert img.width() > 512 and img.height() > 512     # colorbar on the right, title on top


def test_export_result_grids_go_to_export_grid(tmp_path):
    result = ActivationGrid(tiles=np.ones((4, 10, 10), np.float32))
    img = QImage(str(render.export_result(result, None, tmp_path / "g.png")))
    assert img.width() == img.height()   # 2 x 2 grid of square tiles, no colorbar
    with pytest.raises(ValueError, match="npz"):
        render.export_result(Curves(), None, tmp_path / "c.png")


def test_ensure_gui_app_creates_one_offscreen_app_for_the_cli(tmp_path):
    code = textwrap.dedent(f"""
        import os
        os.environ.pop("QT_QPA_PLATFORM", None)
        import numpy as np
        from PySide6.QtGui import QGuiApplication
        from workbench.figure import render
        from workbench.core.canvas_layers import BoxesLayer, ImageLayer
        assert QGuiApplication.instance() is None
        app = render.ensure_gui_app()
        assert render.ensure_gui_app() is app and QGuiApplication.platformName() == "offscreen"
        layers = [ImageLayer(name="i", image=np.zeros((32, 32, 3), np.uint8)),
                  BoxesLayer(name="b", boxes=np.array([[2, 2, 20, 20]]), texts=["dog"])]
        print(render.export_layers(layers, {str(tmp_path / 'cli.png')!r}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert QImage(str(tmp_path / "cli.png")).width() == 512


# --- colorbars: one number format per bar, no label touching another --------------------------

LEVELS = [(-2.0721, 2.0721), (0.0, 1.0), (0.0, 1.12), (0.003, 0.97), (12.0, 13.7), (-0.0125, 0.0125),
          (3.2e-5, 9.9e-5), (-1234567.0, 23456789.0), (0.0, 255.0), (-7.5, 0.25)]


def label_format(label: str) -> tuple[int, str]:
    """(decimals, exponent suffix) of a colorbar label."""
    m = re.fullmatch(r"-?\d+(?:\.(\d+))?(e-?\d+)?", label)
    assert m, label
    return len(m.group(1) or ""), m.group(2) or ""


@pytest.mark.parametrize("levels", LEVELS)
def test_colorbar_labels_share_one_format_and_keep_apart(levels):
    from workbench.figure.colorbar import bar_ticks, colorbar_font, ticks
    from PySide6.QtGui import QFontMetricsF
    label_h = QFontMetricsF(colorbar_font(12)).height()
    for bar_h in (60.0, 100.0, 240.0, 600.0):
        shown = bar_ticks(levels, bar_h, label_h)
        assert shown[0][0] == levels[0] and shown[-1][0] == levels[1]      # both ends always labelled
        assert len({label_format(label) for _, label in shown}) == 1, shown
        ys = [bar_h * (v - levels[0]) / (levels[1] - levels[0]) for v, _ in shown]
        assert all(b - a >= label_h for a, b in zip(ys, ys[1:])), (bar_h, shown)
    for lo_label, hi_label in [(ticks(levels)[0][1], ticks(levels)[-1][1])]:
        # the ends are rounded to within half a percent of the range, in the ticks' format
        span = levels[1] - levels[0]
        for label, value in ((lo_label, levels[0]), (hi_label, levels[1])):
            assert abs(float(label) - value) <= 0.0051 * span


def test_painted_colorbar_labels_are_separate_lines_of_text():
    """Text rows of a short painted bar: one block per tick, none merged into its neighbour."""
    from workbench.figure.colorbar import bar_ticks, colorbar_font, colorbar_width, paint_colorbar
    from PySide6.QtGui import QFontMetricsF
    levels, font_px, height = (0.0, 1.12), 12, 110
    width = int(colorbar_width(levels, font_px)) + 2
    img = QImage(width, height, QImage.Format.Format_RGB32)
    img.fill(QColor(255, 255, 255))
    painter = QPainter(img)
    paint_colorbar(painter, QRectF(0, 0, width, height), "viridis", levels, font_px)
    painter.end()
    fm = QFontMetricsF(colorbar_font(font_px))
    text_x = int(font_px * (1.1 + 0.35 + 0.3)) + 1
    ink = [any(img.pixelColor(x, y).value() < 128 for x in range(text_x, width)) for y in range(height)]
    blocks = sum(1 for y in range(height) if ink[y] and (y == 0 or not ink[y - 1]))
    expected = bar_ticks(levels, height - fm.height(), fm.height())
    assert blocks == len(expected) >= 2
    assert [label for _, label in expected][-1] == "1.12" and "1.00" not in [l for _, l in expected]


# --- grid labels: never cut -------------------------------------------------------------------

def svg_texts(path) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [(t.text or "").strip() for t in ET.parse(path).getroot().iter(f"{ns}text") if (t.text or "").strip()]


def test_a_2d_sweep_is_labelled_at_the_edges_with_every_value_whole(tmp_path):
    from workbench.figure.montage import sweep_labels
    xs, ys = [-1.0, 0.0, 1.0], [0.5, -0.5, -1.5]
    titles = [f"z3={x:+.2f}, z17={y:+.2f}" for y in ys for x in xs]
    columns, rows = sweep_labels(titles, 3, 3)
    assert columns == ["z3=-1.00", "z3=+0.00", "z3=+1.00"] and rows == ["z17=+0.50", "z17=-0.50", "z17=-1.50"]
    grid = ImageGrid(tiles=np.random.default_rng(0).random((9, 28, 28)).astype(np.float32), titles=titles,
                     title="latent dims 3 (x) and 17 (y)")
    texts = svg_texts(render.export_grid(grid, tmp_path / "m.svg"))
    assert sorted(t for t in texts if t.startswith("z")) == sorted(columns + rows)   # each once, whole
    assert not any("…" in t for t in texts)
    plain = QImage(str(render.export_grid(ImageGrid(tiles=grid.tiles), tmp_path / "p.png")))
    labelled = QImage(str(render.export_grid(grid, tmp_path / "m.png")))
    assert labelled.width() > plain.width()             # a band of row labels on the left
    assert sweep_labels(titles[:-1] + ["z3=+1.00, z17=+9.00"], 3, 3) is None   # not a sweep
    assert sweep_labels([f"t{i}" for i in range(9)], 3, 3) is None


def test_long_tile_titles_wrap_and_keep_every_word(tmp_path):
    titles = [f"seed {i} sample with a long description number {i}" for i in range(4)]
    grid = ImageGrid(tiles=np.zeros((4, 24, 24), np.float32), titles=titles, title="a " * 60 + "end")
    texts = svg_texts(render.export_grid(grid, tmp_path / "g.svg"))
    assert not any("…" in t for t in texts)
    words = " ".join(texts).split()
    for title in titles + [grid.title]:
        for word in title.split():
            assert word in words
    assert sum(1 for t in texts if t.startswith("seed")) == 4 and len(texts) > 4 + 1   # wrapped lines
    title_lines = [t for t in texts if t.startswith("a a")]
    assert len(title_lines) >= 2 and title_lines[-1].endswith("end")


def test_a_long_figure_title_wraps_instead_of_being_cut(tmp_path):
    title = "Integrated gradients of class 'hexagon' against a blurred baseline, 64 steps, Riemann trapezoid"
    texts = svg_texts(render.export_layers([gray_image()], tmp_path / "t.svg", title=title))
    assert " ".join(texts) == title and len(texts) == 2


# --- segmentation: one class -> colour mapping in canvas, figure and legend ---------------------

def test_segmentation_colours_match_in_canvas_figure_and_legend(bind, canvas, tmp_path):
    from workbench.core.canvas_layers import SegmentationLayer, class_color
    from workbench.ui.detection.segmentation_legend import CLASS_ROLE, SegmentationLegend
    from PySide6.QtGui import QIcon
    grey = 90
    mask = np.zeros((40, 60), np.int64)
    mask[2:18, 2:20], mask[22:38, 30:50], mask[5:20, 40:48] = 2, 5, 13   # 13: past the palette
    canvas.set_image(np.full((40, 60, 3), grey, np.uint8))
    legend = bind(SegmentationLegend)
    layer = SegmentationLayer(name="seg", mask=mask, label_names=[f"class{i}" for i in range(14)], opacity=0.5)
    canvas.add_layer(layer)
    drawn = canvas.graphics(layer.id).image_item.image
    figure = QImage(str(render.export_layers(canvas.layers(), tmp_path / "s.png", scale=8)))
    fig = render.layers_figure(canvas.layers(), 8)
    fig_colours = {figure.pixelColor(x, y).getRgb()[:3] for x in range(0, figure.width(), 2)
                   for y in range(0, figure.height(), 2)}
    rows = {legend.list.item(i).data(CLASS_ROLE): legend.list.item(i) for i in range(legend.list.count())}
    for c, (y, x) in {2: (10, 10), 5: (30, 35), 13: (12, 44)}.items():
        colour = class_color(c)
        assert tuple(drawn[y, x, :3]) == colour and drawn[y, x, 3] == round(0.5 * 255)      # canvas
        px = figure.pixelColor(int(fig.panel.left() + (x + 0.5) * fig.panel.width() / 60),
                               int(fig.panel.top() + (y + 0.5) * fig.panel.height() / 40))
        blend = [0.5 * v + 0.5 * grey for v in colour]
        assert max(abs(a - b) for a, b in zip(px.getRgb()[:3], blend)) <= 2                 # figure mask
        assert colour in fig_colours                                                          # figure legend
        icon = rows[c].icon()
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected):                                # dock legend
            sw = icon.pixmap(14, 14, mode).toImage()
            assert sw.pixelColor(7, 7).getRgb()[:3] == colour, (c, mode)


# --- the GUI's figure of a result is the CLI's figure of it ------------------------------------

def png_pixels(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return raw[:, :img.width() * 3].reshape(img.height(), img.width(), 3).copy()


@pytest.fixture
def window(make_window):
    from tests.tiny import builtin_registry
    w = make_window()
    w.workspace.set_registry(builtin_registry())
    return w


def cli_figure(tmp_path, *args) -> np.ndarray:
    from workbench import cli
    out = tmp_path / "cli.png"
    assert cli.main(["run", *args, "--out", str(out)]) == 0
    return png_pixels(out)


def gui_figure(window, tab: str, tmp_path) -> np.ndarray:
    window.views.setCurrentWidget(window.panel(tab))
    assert window.export_figure(str(tmp_path / "gui.png"), 1.0) is not None
    return png_pixels(tmp_path / "gui.png")


def test_gui_and_cli_figures_of_an_attribution_map_are_identical(qtbot, window, bundled, tmp_path):
    from workbench import api
    image = api.load_image("sample:digit-3")
    window.workspace.set_model(bundled("digits-cnn"))
    window.workspace.set_image(image, "sample:digit-3")
    dock = window.panel("attributionDock")
    dock.select_method("occlusion")
    with qtbot.waitSignal(dock.explain(None).done, timeout=90000):
        pass
    qtbot.waitUntil(lambda: window.workspace.result("image") is dock.heatmap, timeout=5000)
    cli = cli_figure(tmp_path, "occlusion", "--model", "zoo:digits-cnn", "--image", "sample:digit-3")
    gui = gui_figure(window, "imageTab", tmp_path)
    assert gui.shape == cli.shape and np.array_equal(gui, cli)      # the title included
    # the same result shown by any other panel (the Method dock) draws the same figure
    window.workspace.show(api.run("occlusion", bundled("digits-cnn"), image))
    assert np.array_equal(gui_figure(window, "imageTab", tmp_path), cli)


def test_gui_and_cli_figures_of_an_activation_grid_are_identical(qtbot, window, bundled, tmp_path):
    from workbench import api
    image = api.load_image("sample:shapes-0")
    window.workspace.set_image(image, "sample:shapes-0")
    window.workspace.show(api.run("activations", bundled("shapes-cnn"), image, layer="features.conv3"))
    cli = cli_figure(tmp_path, "activations", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0",
                     "--set", "layer=features.conv3")
    gui = gui_figure(window, "gridTab", tmp_path)
    assert gui.shape == cli.shape and np.array_equal(gui, cli)
