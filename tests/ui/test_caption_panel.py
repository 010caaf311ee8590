"""The Captions tab on the bundled captioner: the caption as clickable words, stepping (buttons,
slider, arrow keys) changes the map shown without running again, the beam size runs again, and a
model that writes no captions gets a clear hint."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.tiny import builtin_registry, tiny_handle
from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.samples import sample_image
from workbench.ui.caption.panel import KEY, CaptionPanel
from workbench.ui.panels import PANELS, Deferred

TIMEOUT_MS = 30000
SCENE = "scene-1000001"


@pytest.fixture
def jobs(engine):
    tickets = []
    engine.submitted.connect(tickets.append)
    yield tickets
    engine.submitted.disconnect(tickets.append)


def captioned(qtbot, jobs, count=1):
    mine = lambda: [t for t in jobs if t.key == KEY]   # noqa: E731
    qtbot.waitUntil(lambda: len(mine()) >= count and mine()[count - 1].ended, timeout=TIMEOUT_MS)
    assert mine()[count - 1].state == "done", mine()[count - 1].error
    qtbot.wait(10)
    return mine()[count - 1].result


@pytest.fixture
def panel(bind, workspace, bundled, jobs):
    workspace.set_registry(builtin_registry())
    workspace.set_model(bundled("shapes-captioner"))
    workspace.set_image(sample_image(SCENE))
    p = bind(CaptionPanel)
    p.resize(900, 650)
    return p


def shown_map(p):
    return next(l for l in p.canvas.scene.layers if isinstance(l, HeatmapLayer)).data


def test_the_tab_is_listed_for_caption_models():
    entry = next(e for e in PANELS if isinstance(e, Deferred) and e.object_name == "captionTab")
    assert entry.path == "workbench.ui.caption.panel:CaptionPanel" and entry.tasks == ("caption",)


def test_the_caption_is_shown_as_words_and_each_step_shows_that_words_map(qtbot, panel, jobs):
    result = captioned(qtbot, jobs)
    assert len(result.words) >= 3
    assert [b.text() for b in panel.words.buttons] == result.words
    assert panel.word_index() == 0 and panel.words.buttons[0].isChecked()
    first = shown_map(panel).copy()
    np.testing.assert_allclose(first, result.map_on_image(0), atol=1e-6)

    panel.stepper.next.click()
    assert panel.word_index() == 1 and panel.words.buttons[1].isChecked()
    second = shown_map(panel)
    np.testing.assert_allclose(second, result.map_on_image(1), atol=1e-6)
    assert not np.allclose(first, second)
    assert panel.stepper.slider.value() == 1

    last = len(result.words) - 1
    panel.words.buttons[last].click()
    assert panel.word_index() == last and not panel.stepper.next.isEnabled()
    qtbot.keyClick(panel.canvas, Qt.Key.Key_Left)
    assert panel.word_index() == last - 1
    panel.stepper.slider.setValue(2)
    assert panel.word_index() == 2
    np.testing.assert_allclose(shown_map(panel), result.map_on_image(2), atol=1e-6)
    assert result.words[2] in panel.canvas.scene.title
    assert len([t for t in jobs if t.key == KEY]) == 1      # stepping ran nothing


def test_hovering_the_image_reports_the_words_attention_there(qtbot, panel, jobs):
    result = captioned(qtbot, jobs)
    messages = []
    panel.statusMessage.connect(messages.append)
    panel.select_word(1)
    row, col = np.unravel_index(int(np.argmax(result.maps[1])), result.grid_hw)
    panel.canvas.imageHovered.emit((col + 0.5) * 8, (row + 0.5) * 8)    # 128 px over 16 cells
    assert messages[-1] == f'"{result.words[1]}" attends {result.maps[1].max():.1%} to cell ({row}, {col})'


def test_the_beam_size_and_a_new_image_run_again(qtbot, panel, workspace, jobs):
    captioned(qtbot, jobs)
    panel.stepper.beam.setValue(3)
    result = captioned(qtbot, jobs, 2)
    assert result.beam_size == 3 and result.params["beam_size"] == 3
    assert panel.current_result().beam_size == 3 and "beam 3" in panel.status.text()
    workspace.set_image(sample_image("scene-1000002"))
    again = captioned(qtbot, jobs, 3)
    assert panel.current_result().words == again.words


def test_a_model_that_writes_no_captions_gets_a_hint(qtbot, bind, workspace):
    workspace.set_registry(builtin_registry())
    workspace.set_model(tiny_handle())
    p = bind(CaptionPanel)
    assert "writes no captions" in p.hint() and p.canvas.scene is None
    with pytest.raises(ValueError, match="nothing to export"):
        p.export_figure("x.png")
