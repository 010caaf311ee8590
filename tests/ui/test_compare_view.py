"""The compare view: several methods on one image and target, one engine key each, shared levels."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench.core.display import DisplayOptions, display_levels, shared_levels
from workbench.ui.attribution_dock import AttributionDock
from workbench.ui.compare_view import CompareView, compare_key

TIMEOUT_MS = 30000
METHODS = ["saliency", "gradient-x-input", "gradcam"]





@pytest.fixture
def view(qtbot, engine):
    v = CompareView(engine)
    qtbot.addWidget(v)
    v.set_registry(builtin_registry())
    v.set_model(tiny_handle())
    v.set_image(picture())
    v.resize(900, 600)
    v.show()
    return v


def run_all(qtbot, view, methods=METHODS, target=None):
    view.set_target(target)
    view.set_checked(methods)
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(view.results) == len(methods), timeout=TIMEOUT_MS)


def test_each_method_runs_under_its_own_key(qtbot, view):
    keys = []
    view.engine.done.connect(lambda key, _r: keys.append(key))
    run_all(qtbot, view, target=2)
    assert sorted(keys) == sorted(compare_key(m) for m in METHODS)
    assert [p.title for p in view.panels()] == [builtin_registry().get(m).title for m in METHODS]
    for m in METHODS:
        assert view.results[m].method == m and view.results[m].target == 2
    assert "3 of 3" in view.status.text()


def test_shared_normalisation_gives_every_panel_the_same_levels(qtbot, view):
    run_all(qtbot, view)
    maps = [view.results[m].heatmap for m in METHODS]
    view.set_display(DisplayOptions("signed", 99.0, shared=True))
    levels = [p.layer.levels for p in view.panels()]
    assert levels == [pytest.approx(shared_levels(maps, "signed", 99.0))] * 3

    view.set_display(DisplayOptions("signed", 99.0, shared=False))
    levels = [p.layer.levels for p in view.panels()]
    assert levels == [pytest.approx(display_levels(m, "signed", 99.0)) for m in maps]
    assert len({tuple(np.round(lv, 9)) for lv in levels}) == 3


def test_absolute_mode_makes_every_panel_non_negative(qtbot, view):
    run_all(qtbot, view)
    assert any(view.results[m].heatmap.min() < 0 for m in METHODS)
    for shared in (True, False):
        view.set_display(DisplayOptions("absolute", 100.0, shared=shared))
        for panel in view.panels():
            assert panel.layer.levels[0] == 0 and panel.layer.levels[1] > 0
            assert panel.layer.data.min() >= 0


def test_panels_are_painted_where_the_layout_puts_them(qtbot, view):
    run_all(qtbot, view)
    shot = view.canvas.grab().toImage()
    background = shot.pixelColor(2, 2)
    for i in range(len(METHODS)):
        centre = view.canvas.panel_rect(i).center().toPoint()
        assert shot.pixelColor(centre) != background


def test_a_new_image_clears_the_comparison_and_a_new_target_reruns_it(qtbot, view):
    run_all(qtbot, view, target=0)
    view.set_target(1)
    assert view.results == {} and view.methods == METHODS
    qtbot.waitUntil(lambda: len(view.results) == len(METHODS), timeout=TIMEOUT_MS)
    assert {r.target for r in view.results.values()} == {1}
    view.set_image(picture(seed=1))
    assert view.methods == [] and view.panels() == []


def test_export_writes_every_format_with_method_names(qtbot, view, tmp_path):
    run_all(qtbot, view)
    titles = [builtin_registry().get(m).title for m in METHODS]
    svg = view.export(tmp_path / "c.svg")
    texts = " ".join(t.strip() for t in ET.parse(svg).getroot().itertext())
    assert all(t in texts for t in titles)
    png = QImage(str(view.export(tmp_path / "c.png")))
    columns = view.canvas.current_layout().columns  # the figure keeps the columns shown on screen
    rows = -(-len(METHODS) // columns)
    # 32x24 panels are enlarged to 256x192 in the figure
    assert columns * 256 < png.width() < columns * 256 + 400
    assert rows * 192 < png.height() < rows * (192 + 60) + 40
    pdf = view.export(tmp_path / "c.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_dock_drives_the_compare_view(qtbot, engine):
    dock, view = AttributionDock(engine), CompareView(engine)
    qtbot.addWidget(dock)
    qtbot.addWidget(view)
    view.follow(dock)
    dock.set_registry(builtin_registry())
    dock.set_model(tiny_handle())
    dock.set_image(picture())
    assert view.registry is dock.registry and view.handle is dock.handle and view.image is dock.image
    view.set_checked(["saliency", "gradcam"])
    view.compare()
    qtbot.waitUntil(lambda: len(view.results) == 2, timeout=TIMEOUT_MS)
    dock.explain(2)
    assert view.target == 2
    qtbot.waitUntil(lambda: len(view.results) == 2 and {r.target for r in view.results.values()} == {2},
                    timeout=TIMEOUT_MS)
    dock.shared.setChecked(True)
    assert view.options.shared
    levels = {p.layer.levels for p in view.panels()}
    assert len(levels) == 1
