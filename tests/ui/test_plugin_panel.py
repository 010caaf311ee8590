"""The example plugin: a method whose result is a new type with its own renderer, and a panel."""
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.core.renderers import renderer_for
from workbench.plugins import default_registry, plugin_panels
from workbench.ui.panel import Panel


def picture(h=30, w=40, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def histogram_plugin():
    default_registry()
    panels = [cls for cls in plugin_panels() if cls.__name__ == "HistogramPanel"]
    assert panels, "the histogram plugin's panel was not found"
    return panels[0]


def test_the_plugin_method_returns_its_own_result_type_with_its_renderer(tmp_path):
    from workbench import api
    image = picture()
    result = api.run("channel-histogram", "zoo:shapes-cnn?weights=none", image, bins=16)
    assert type(result).__name__ == "Histogram"
    edges = np.linspace(0, 256, 17)
    for c in range(3):
        np.testing.assert_array_equal(result.counts[c], np.histogram(image[..., c], bins=edges)[0])
    renderer = renderer_for(result)
    assert renderer.view == "histogram" and renderer.figure.endswith("figure:export_histogram")
    from workbench.figure.render import export_result
    small = QImage(str(export_result(result, image, tmp_path / "h1.png", scale=1.0)))
    large = QImage(str(export_result(result, image, tmp_path / "h2.png", scale=2.0)))
    assert large.width() == 2 * small.width() and large.height() == 2 * small.height()
    assert "<svg" in export_result(result, image, tmp_path / "h.svg").read_text()
    assert export_result(result, image, tmp_path / "h.pdf").read_bytes().startswith(b"%PDF")


def test_the_plugin_panel_follows_the_workspace_image(bind, workspace, histogram_plugin, tmp_path):
    panel = bind(histogram_plugin)
    assert isinstance(panel, Panel) and panel.area == "right"
    image = picture()
    workspace.set_image(image, "p")
    x, y = panel.curves[0].getData()
    assert len(x) == 64 and y.sum() == image.shape[0] * image.shape[1]
    np.testing.assert_array_equal(y, np.histogram(image[..., 0], bins=np.linspace(0, 256, 65))[0])
    panel.bins.setValue(8)
    assert len(panel.curves[2].getData()[1]) == 8
    assert panel.export_figure(tmp_path / "p.png").stat().st_size > 0


def test_the_window_adds_plugin_panels_when_the_registry_arrives(make_window, histogram_plugin):
    window = make_window()
    assert "Histogram" not in {d.windowTitle() for d in window.docks}
    window.workspace.set_registry(default_registry())
    assert "Histogram" in {d.windowTitle() for d in window.docks}
    window.workspace.set_registry(default_registry())   # a second registry adds no second panel
    assert [d.windowTitle() for d in window.docks].count("Histogram") == 1


def test_a_panel_is_one_class_and_one_entry(make_window, monkeypatch):
    """A newcomer's panel: a Panel subclass added to PANELS; the window is not edited."""
    from PySide6.QtWidgets import QLabel, QVBoxLayout

    from workbench.ui import panels, window as window_module

    class Notes(Panel):
        title, area, object_name = "Notes", "tab", "notesTab"

        def __init__(self):
            super().__init__()
            self.label = QLabel("no image")
            QVBoxLayout(self).addWidget(self.label)

        def bind(self, workspace, engine, canvas):
            workspace.imageChanged.connect(lambda img: self.label.setText(f"{img.shape[1]}x{img.shape[0]}"))

    monkeypatch.setattr(window_module, "PANELS", panels.PANELS + [Notes])
    window = make_window()
    notes = window.panel("notesTab")
    assert window.views.tabText(window.views.indexOf(notes)) == "Notes"
    window.workspace.set_image(picture(), "p")
    assert notes.label.text() == "40x30"
