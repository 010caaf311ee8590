"""The Compare tab: several methods on one image and target, one engine key each, shared levels."""
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtGui import QImage

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench import plugins
from workbench.core.attribution.display import DisplayOptions, display_levels, shared_levels
from workbench.core.attribution.methods import BUILTIN_ORDER
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.registry import Method
from workbench.core.results import Heatmap
from workbench.ui.attribution.compare import ComparePanel, compare_key
from workbench.ui.attribution.dock import AttributionPanel

TIMEOUT_MS = 30000
METHODS = ["saliency", "gradient-x-input", "gradcam"]


@pytest.fixture
def view(bind, workspace):
    workspace.set_registry(builtin_registry())
    workspace.set_model(tiny_handle())
    workspace.set_image(picture())
    v = bind(ComparePanel)
    v.resize(900, 600)
    return v


def run_all(qtbot, view, methods=METHODS, target=None):
    view.workspace.set_target(target)
    view.set_checked(methods)
    view.compare_button.click()
    qtbot.waitUntil(lambda: len(view.results) == len(methods), timeout=TIMEOUT_MS)


def test_each_method_runs_under_its_own_key(qtbot, view, engine):
    keys = []
    engine.submitted.connect(lambda ticket: keys.append(ticket.key))
    run_all(qtbot, view, target=2)
    assert sorted(keys) == sorted(compare_key(m) for m in METHODS)
    assert {m: t.key for m, t in view.tickets.items()} == {m: compare_key(m) for m in METHODS}
    assert [c.title for c in view.cells()] == [builtin_registry().get(m).title for m in METHODS]
    for m in METHODS:
        assert view.results[m].method == m and view.results[m].target == 2
    assert "3 of 3" in view.status.text()
    assert view.current_result() is view.results[METHODS[0]]


def test_shared_normalisation_gives_every_panel_the_same_levels(qtbot, view, workspace):
    run_all(qtbot, view)
    maps = [view.results[m].heatmap for m in METHODS]
    workspace.set_display(DisplayOptions("signed", 99.0, shared=True))
    levels = [c.layer.levels for c in view.cells()]
    assert levels == [pytest.approx(shared_levels(maps, "signed", 99.0))] * 3

    workspace.set_display(DisplayOptions("signed", 99.0, shared=False))
    levels = [c.layer.levels for c in view.cells()]
    assert levels == [pytest.approx(display_levels(m, "signed", 99.0)) for m in maps]
    assert len({tuple(np.round(lv, 9)) for lv in levels}) == 3


def test_absolute_mode_makes_every_panel_non_negative(qtbot, view, workspace):
    run_all(qtbot, view)
    assert any(view.results[m].heatmap.min() < 0 for m in METHODS)
    for shared in (True, False):
        workspace.set_display(DisplayOptions("absolute", 100.0, shared=shared))
        for cell in view.cells():
            assert cell.layer.levels[0] == 0 and cell.layer.levels[1] > 0
            assert cell.layer.data.min() >= 0


def test_panels_are_painted_where_the_layout_puts_them(qtbot, view):
    run_all(qtbot, view)
    shot = view.grid.grab().toImage()
    background = shot.pixelColor(2, 2)
    for i in range(len(METHODS)):
        centre = view.grid.cell_rect(i).center().toPoint()
        assert shot.pixelColor(centre) != background


def test_a_new_image_clears_the_comparison_and_a_new_target_reruns_it(qtbot, view, workspace):
    run_all(qtbot, view, target=0)
    workspace.set_target(1)
    assert view.results == {} and view.methods == METHODS
    qtbot.waitUntil(lambda: len(view.results) == len(METHODS), timeout=TIMEOUT_MS)
    assert {r.target for r in view.results.values()} == {1}
    workspace.set_image(picture(seed=1))
    assert view.methods == [] and view.cells() == [] and view.current_result() is None


def test_a_new_model_clears_the_comparison_without_running_it_again(qtbot, view, workspace, engine):
    run_all(qtbot, view, target=2)
    submitted = []
    engine.submitted.connect(submitted.append)
    workspace.set_model(tiny_handle(seed=1))   # resets the target to the top prediction first
    qtbot.wait(50)
    assert view.methods == [] and view.results == {}
    assert [t.key for t in submitted if t.key.startswith("compare:")] == []


def test_export_writes_every_format_with_method_names(qtbot, view, tmp_path):
    run_all(qtbot, view)
    titles = [builtin_registry().get(m).title for m in METHODS]
    svg = view.export_figure(tmp_path / "c.svg")
    texts = " ".join(t.strip() for t in ET.parse(svg).getroot().itertext())
    assert all(t in texts for t in titles)
    png = QImage(str(view.export_figure(tmp_path / "c.png")))
    columns = view.grid.current_layout().columns  # the figure keeps the columns shown on screen
    rows = -(-len(METHODS) // columns)
    # 32x24 panels are enlarged to 256x192 in the figure
    assert columns * 256 < png.width() < columns * 256 + 400
    assert rows * 192 < png.height() < rows * (192 + 60) + 40
    pdf = view.export_figure(tmp_path / "c.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_png_export_scale_sets_the_size(qtbot, view, tmp_path):
    run_all(qtbot, view)
    columns = view.grid.current_layout().columns
    small = QImage(str(view.export_figure(tmp_path / "s.png", scale=1.0)))    # 256x192 panels
    large = QImage(str(view.export_figure(tmp_path / "l.png", scale=2.0)))    # 512x384 panels
    assert columns * 256 < small.width() < columns * 256 + 400
    assert columns * 512 < large.width() < columns * 512 + 600
    assert large.height() > small.height() + 192


def test_exporting_nothing_says_why(view, tmp_path):
    with pytest.raises(ValueError, match="run a comparison first"):
        view.export_figure(tmp_path / "c.png")


def detector_handle():
    return ModelHandle(id="test:tiny-detector", module=tiny_handle().module, task="detect",
                       preprocess=Preprocess(Geometry((16, 16))), labels=["a", "b", "c"])


def test_a_non_classifier_explains_why_the_tab_is_empty(bind, workspace, tmp_path):
    workspace.set_registry(builtin_registry())
    workspace.set_model(detector_handle())
    workspace.set_image(picture())
    view = bind(ComparePanel)
    assert view.checks == {} and not view.compare_button.isEnabled()
    assert "detect model" in view.grid.HINT and "classifier" in view.grid.HINT
    with pytest.raises(ValueError, match="nothing to export: .*classifier"):
        view.export_figure(tmp_path / "c.png")
    workspace.set_registry(plugins.default_registry())   # the edge baseline explains no class: it applies
    assert list(view.checks) == ["edge-baseline"] and view.compare_button.isEnabled()
    assert "detect model" in view.grid.HINT and "Compare" in view.grid.HINT
    with pytest.raises(ValueError, match="run a comparison first"):
        view.export_figure(tmp_path / "c.png")


def test_the_edge_baseline_plugin_can_be_compared(qtbot, bind, workspace):
    workspace.set_registry(plugins.default_registry())
    workspace.set_model(tiny_handle())
    workspace.set_image(picture())
    view = bind(ComparePanel)
    names = list(view.checks)
    assert names[:len(BUILTIN_ORDER)] == list(BUILTIN_ORDER) and "edge-baseline" in names[len(BUILTIN_ORDER):]
    view.set_checked(["saliency", "edge-baseline"])
    view.compare()
    qtbot.waitUntil(lambda: len(view.results) == 2, timeout=TIMEOUT_MS)
    assert [c.title for c in view.cells()] == ["Saliency (gradient)", "Edge baseline"]
    assert view.results["edge-baseline"].heatmap.shape == picture().shape[:2]


@dataclass
class NoParams:
    pass


def test_a_method_registered_with_the_attribution_kind_is_offered(qtbot, bind, workspace):
    registry = builtin_registry()
    registry.add(Method(name="flat", tasks=("classify",), params=NoParams, kind="attribution", title="A flat map",
                        run=lambda ctx, p: Heatmap(method="flat", heatmap=np.ones(ctx.image.shape[:2], np.float32))))
    workspace.set_registry(registry)
    workspace.set_model(tiny_handle())
    workspace.set_image(picture())
    view = bind(ComparePanel)
    assert list(view.checks) == list(BUILTIN_ORDER) + ["flat"]
    view.set_checked(["flat"])
    view.compare()
    qtbot.waitUntil(lambda: "flat" in view.results, timeout=TIMEOUT_MS)
    assert [c.title for c in view.cells()] == ["A flat map"]


def test_the_attribution_panel_and_the_compare_tab_share_the_workspace(qtbot, bind, workspace):
    dock, view = bind(AttributionPanel), bind(ComparePanel)
    workspace.set_registry(builtin_registry())
    workspace.set_model(tiny_handle())
    workspace.set_image(picture())
    assert list(view.checks) == dock.method_names()
    view.set_checked(["saliency", "gradcam"])
    view.compare()
    qtbot.waitUntil(lambda: len(view.results) == 2, timeout=TIMEOUT_MS)
    dock.explain(2)
    assert workspace.target == 2
    qtbot.waitUntil(lambda: len(view.results) == 2 and {r.target for r in view.results.values()} == {2},
                    timeout=TIMEOUT_MS)
    dock.shared.setChecked(True)
    assert view.options.shared and workspace.display.shared
    levels = {c.layer.levels for c in view.cells()}
    assert len(levels) == 1
