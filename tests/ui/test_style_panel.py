"""The Style tab: it runs with no model loaded (its extractor loads in the job), previews as it
optimises, stops, takes a style file, says what it needs, and exports the figure the CLI draws."""
import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from tests.tiny import builtin_registry
from workbench.core.samples import sample_image
from workbench.core.style.extractor import default_extractor, load_extractor
from workbench.core.hooks import hook_count
from workbench.core.style.layers import default_content_layer, default_style_layers, format_weights
from workbench.ui.style.panel import StylePanel

TIMEOUT_MS = 60000
SMALL = {"size": 48, "steps": 30, "preview_every": 10}


@pytest.fixture
def ready(qtbot, bind, workspace):
    workspace.set_registry(builtin_registry())
    panel = bind(StylePanel)
    qtbot.waitUntil(lambda: panel.controls.extractor.count() > 0, timeout=TIMEOUT_MS)
    return panel


def test_style_transfer_previews_as_it_runs_and_exports(qtbot, ready, workspace, tmp_path):
    panel = ready
    assert workspace.handle is None and panel.controls.extractor_id() == default_extractor()
    handle = load_extractor(default_extractor())
    qtbot.waitUntil(lambda: panel.controls.layers.placeholderText() != "", timeout=TIMEOUT_MS)
    assert panel.controls.layers.placeholderText() == format_weights(default_style_layers(handle))
    assert panel.controls.content_layer.placeholderText() == default_content_layer(handle)
    assert "Open an image" in panel.controls.note.text() and not panel.controls.run_button.isEnabled()
    workspace.set_image(sample_image("scene-1"), "scene-1")
    assert "128×128" in panel.controls.content_label.text() and panel.controls.run_button.isEnabled()
    panel.set_values({**SMALL, "style": "waves"})
    with qtbot.waitSignal(panel.run().done, timeout=TIMEOUT_MS):
        pass
    result = panel.current_result()
    assert panel.partials == 2 and result.step == result.steps == 30 and result.model == default_extractor()
    assert result.style_curve[-1] < 0.5 * result.style_curve[0]
    assert panel.preview.titles[:2] == ["content", "style: waves"]
    x, y = panel.style_line.getData()
    assert len(y) == 30 and 10 ** y[-1] == pytest.approx(result.style_curve[-1], rel=1e-4)   # log10 plotted
    assert "step 30/30" in panel.status.text() and not panel.controls.stop_button.isEnabled()
    png = panel.export_figure(tmp_path / "s.png", 2.0)
    assert QImage(str(png)).width() > QImage(str(panel.export_figure(tmp_path / "t.png", 1.0))).width()
    assert "<svg" in panel.export_figure(tmp_path / "s.svg").read_text()
    script = panel.export_script(tmp_path / "s.py")
    assert script.is_file() and (tmp_path / "s.figure.npz").is_file()


def test_texture_mode_runs_without_an_image_and_stop_keeps_the_preview(qtbot, ready, tmp_path):
    panel = ready
    Image.fromarray(np.tile(np.array([[0, 255], [255, 0]], np.uint8).repeat(8, 0).repeat(8, 1)[..., None], 3)
                    ).convert("RGB").resize((64, 64)).save(tmp_path / "checks.png")
    panel.set_values({"size": 48, "steps": 5000, "preview_every": 5, "mode": "texture",
                      "style": str(tmp_path / "checks.png")})
    assert panel.controls.style_box.currentText() == "checks.png" and not panel.controls.style_thumb.pixmap().isNull()
    ticket = panel.run()
    qtbot.waitUntil(lambda: panel.partials >= 2, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        panel.controls.stop_button.click()
    result = panel.current_result()
    assert result.mode == "texture" and result.content is None and 0 < result.step < 5000
    assert panel.preview.titles == ["style: checks.png", panel.preview.titles[1]]
    assert "stopped" in panel.status.text()
    assert hook_count(load_extractor(result.model).module) == 0


def test_a_bad_setting_is_a_message_and_the_content_button_opens_into_the_workspace(qtbot, ready, workspace,
                                                                                     tmp_path):
    panel = ready
    notes = []
    panel.message.connect(notes.append)
    Image.fromarray(sample_image("shapes-3")).save(tmp_path / "c.png")
    assert panel.open_content(tmp_path / "c.png") and workspace.image.shape == (128, 128, 3)
    assert not panel.open_content(tmp_path / "missing.png") and "Could not open missing.png" in notes[-1]
    panel.controls.extractor.setCurrentText("zoo:shapes-cnn?weights=none")
    panel.set_values({**SMALL, "style_layers": "relu1:1, relu9:2"})
    with qtbot.waitSignal(panel.run().failed, timeout=TIMEOUT_MS):
        pass
    assert "no layer 'relu9'" in notes[-1] and panel.current_result() is None
    with pytest.raises(ValueError, match="nothing to export"):
        panel.export_figure(tmp_path / "x.png")
