"""Compare figures: panels in a grid with method names, one colorbar or one per panel, every format."""
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.core import colormaps
from workbench.core.canvas_layers import HeatmapLayer
from workbench.figure.compare import CompareCell, compare_layout, export_compare, fit_layout

NAMES = ["Saliency", "Grad-CAM", "SmoothGrad", "Occlusion"]
VALUES = [0.2, 0.4, 0.6, 0.8]
IMAGE = np.full((24, 32, 3), (0, 200, 0), np.uint8)   # 32x24 -> 256x192 panels in the figure


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def panels(names=NAMES):
    """Opaque constant heatmaps, so each panel is one known colour."""
    return [CompareCell(n, HeatmapLayer(name=n, data=np.full((24, 32), v, np.float32), colormap="viridis",
                                         levels=(0.0, 1.0), opacity=1.0)) for n, v in zip(names, VALUES)]


def as_array(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def panel_boxes(arr: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of the largest area of each panel's colour."""
    boxes = []
    for v in VALUES:
        colour = colormaps.apply(np.array([[v]], np.float32), "viridis", (0.0, 1.0))[0, 0]
        mask = np.all(arr == colour, axis=2).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        x, y, w, h, _ = max(stats[1:], key=lambda s: s[4])
        boxes.append((int(x), int(y), int(w), int(h)))
    return boxes


def non_white(arr: np.ndarray) -> np.ndarray:
    return np.any(arr < 245, axis=2)


def test_png_has_a_two_by_two_grid_of_titled_panels_and_one_colorbar(tmp_path):
    arr = as_array(export_compare(tmp_path / "f.png", IMAGE, panels(), shared=True, columns=2))
    boxes = panel_boxes(arr)
    assert all((w, h) == (256, 192) for _, _, w, h in boxes)
    lefts, tops = [b[0] for b in boxes], [b[1] for b in boxes]
    assert lefts[0] == lefts[2] < lefts[1] == lefts[3]        # panel order: row by row
    assert tops[0] == tops[1] < tops[2] == tops[3]
    for x, y, w, _ in boxes:                                  # a title above each panel
        assert non_white(arr[max(0, y - 20):y - 2, x:x + w]).sum() > 30
    right_of_col0 = arr[tops[0]:tops[0] + 192, lefts[0] + 256:lefts[1]]
    assert not non_white(right_of_col0).any()                 # no colorbar between panels
    right_of_all = arr[tops[0]:tops[2] + 192, lefts[1] + 256:]
    assert non_white(right_of_all).sum() > 1000               # the shared colorbar


def test_separate_ranges_put_a_colorbar_beside_every_panel(tmp_path):
    arr = as_array(export_compare(tmp_path / "f.png", IMAGE, panels(), shared=False, columns=2))
    boxes = panel_boxes(arr)
    for x, y, w, h in boxes:
        beside = arr[y:y + h, x + w:x + w + 40]
        assert non_white(beside).sum() > 500


def test_one_row_layout(tmp_path):
    arr = as_array(export_compare(tmp_path / "f.png", IMAGE, panels(), shared=True, columns=4))
    boxes = panel_boxes(arr)
    assert len({b[1] for b in boxes}) == 1
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes) and len({b[0] for b in boxes}) == 4


def test_svg_and_pdf_hold_the_method_names(tmp_path):
    svg = export_compare(tmp_path / "f.svg", IMAGE, panels(), shared=True)
    texts = [t.strip() for t in ET.parse(svg).getroot().itertext() if t.strip()]
    for name in NAMES:
        assert name in texts
    pdf = export_compare(tmp_path / "f.pdf", IMAGE, panels(), shared=True).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_a_pending_panel_shows_its_note(tmp_path):
    pending = panels()[:1] + [CompareCell("Occlusion", None, "running… 40%")]
    svg = export_compare(tmp_path / "f.svg", IMAGE, pending, shared=True)
    assert "running… 40%" in [t.strip() for t in ET.parse(svg).getroot().itertext()]


def test_fit_layout_picks_the_columns_that_give_the_largest_panels():
    wide = fit_layout(4, (32, 24), (2000, 300), 12.0, 60.0, shared=True)
    tall = fit_layout(4, (32, 24), (300, 2000), 12.0, 60.0, shared=True)
    assert (wide.columns, tall.columns) == (4, 1)
    for layout, space in ((wide, (2000, 300)), (tall, (300, 2000))):
        assert layout.size[0] <= space[0] + 1e-6 and layout.size[1] <= space[1] + 1e-6
    square = compare_layout(4, (100, 100), 12.0, 50.0, shared=False, columns=2)
    assert len(square.bars) == 4 and len(square.panels) == 4
    assert not any(square.panels[i].intersects(square.bars[j]) for i in range(4) for j in range(4))


def test_exporting_nothing_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nothing to export"):
        export_compare(tmp_path / "f.png", IMAGE, [], shared=True)
    with pytest.raises(ValueError, match="unsupported format"):
        export_compare(tmp_path / "f.gif", IMAGE, panels(), shared=True)
