import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.tiny import tiny_handle
from workbench.core import jobs
from workbench.ui.model_dock import ModelPanel

RANDOM_SHAPES = "zoo:shapes-cnn?weights=none"   # no trained weights needed
ENTRIES = [
    {"id": "zoo:shapes-cnn", "task": "classify", "source": "bundled", "weights": "/m/shapes-cnn.safetensors",
     "available": True, "status": "available"},
    {"id": "torchvision:fasterrcnn_resnet50_fpn", "task": "detect", "source": "torch hub cache",
     "weights": "/hub/x.pth", "available": False, "status": "missing: /hub/x.pth"},
]


@pytest.fixture
def panel(bind):
    return bind(ModelPanel)


def layer_rows(panel):
    return [panel.layers.topLevelItem(i) for i in range(panel.layers.topLevelItemCount())]


def test_the_panel_declares_where_it_lives(panel):
    assert (ModelPanel.title, ModelPanel.area, ModelPanel.object_name) == ("Model", "left", "modelDock")
    assert panel.isVisible() and panel.info.text() == "No model loaded"


def test_catalogue_fills_the_combo_with_task_and_weights(panel):
    panel.set_catalogue(ENTRIES)
    assert panel.model_ids() == ["zoo:shapes-cnn", "torchvision:fasterrcnn_resnet50_fpn"]
    assert panel.combo.itemText(0) == "zoo:shapes-cnn  (classify, bundled, ready)"
    assert panel.combo.itemText(1) == "torchvision:fasterrcnn_resnet50_fpn  (detect, torch hub cache, weights missing)"
    assert "/hub/x.pth" in panel.combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    panel.combo.setCurrentIndex(1)
    panel.set_catalogue(ENTRIES[::-1])  # a refresh keeps the selection
    assert panel.combo.currentData() == "torchvision:fasterrcnn_resnet50_fpn"


def test_refresh_fetches_the_catalogue_on_the_worker(panel, qtbot, monkeypatch):
    import threading

    from workbench.core import sources
    threads = []

    def fake_catalogue():
        threads.append(threading.current_thread())
        return ENTRIES

    monkeypatch.setattr(sources, "catalogue", fake_catalogue)
    ticket = panel.refresh_catalogue()
    with qtbot.waitSignal(ticket.finished, timeout=20000):
        pass
    assert ticket.result == ENTRIES
    assert panel.model_ids() == [e["id"] for e in ENTRIES]
    assert threads and threads[0] is not threading.main_thread()


def test_load_runs_on_the_engine_and_the_workspace_gets_the_model(panel, workspace, qtbot):
    with qtbot.waitSignal(workspace.modelChanged, timeout=60000) as blocker:
        ticket = panel.load(RANDOM_SHAPES)
    handle = blocker.args[0]
    assert ticket.key == "model" and ticket.result is handle
    assert handle.task == "classify" and workspace.handle is handle
    assert "classify" in panel.info.text() and RANDOM_SHAPES in panel.info.text()
    rows = layer_rows(panel)
    assert [r.text(0) for r in rows] == [l.name for l in handle.layers()]
    conv1 = next(r for r in rows if r.text(0) == "features.conv1")
    assert conv1.text(1) == "Conv2d" and conv1.text(2) == "1×16×64×64"
    assert panel.combo.currentData() == RANDOM_SHAPES


def test_a_failed_load_keeps_the_previous_model(panel, workspace, qtbot):
    with qtbot.waitSignal(workspace.modelChanged, timeout=60000):
        panel.load(RANDOM_SHAPES)
    before = workspace.handle
    ticket = panel.load("zoo:no-such-model")
    with qtbot.waitSignal(ticket.failed, timeout=20000) as blocker:
        pass
    assert "no-such-model" in blocker.args[0]
    assert workspace.handle is before
    assert "Could not load zoo:no-such-model" in panel.info.text()
    assert [r.text(0) for r in layer_rows(panel)] == [l.name for l in before.layers()]


def test_a_model_set_elsewhere_is_listed_and_a_double_click_names_its_layer(panel, workspace, qtbot):
    handle = tiny_handle()
    workspace.set_model(handle)
    assert "test:tiny" in panel.info.text() and "3 classes" in panel.info.text()
    rows = layer_rows(panel)
    assert [r.text(0) for r in rows] == ["conv1", "act1", "conv2", "act2", "pool", "fc"]
    assert rows[2].text(1) == "Conv2d" and rows[2].text(2) == "1×6×8×8"
    with qtbot.waitSignal(workspace.layerChanged) as blocker:
        panel.layers.itemDoubleClicked.emit(rows[2], 0)
    assert blocker.args == ["conv2"] and workspace.layer == "conv2"


@pytest.fixture
def pickled_file(tmp_path):
    """A whole pickled module: the loader refuses it unless told to trust the file."""
    import torch
    from torch import nn
    path = tmp_path / "full.pt"
    torch.save(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()), path)
    return f"file:{path}"


def test_the_load_job_asks_for_trust_instead_of_failing(pickled_file):
    refused = jobs.load_model(None, pickled_file)
    assert isinstance(refused, jobs.NeedsTrust) and refused.model_id == pickled_file
    assert "pickle" in refused.message.lower()
    trusted = jobs.load_model(None, pickled_file, trust_pickle=True)
    assert [l.name for l in trusted.layers()] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="no-such-model"):
        jobs.load_model(None, "zoo:no-such-model")


def test_a_pickled_model_asks_before_loading_and_loads_when_trusted(panel, workspace, engine, qtbot, pickled_file):
    failures = []
    engine.submitted.connect(lambda t: t.failed.connect(lambda *a: failures.append(a)))
    panel.load(pickled_file)
    qtbot.waitUntil(lambda: panel.trust_prompt is not None, timeout=30000)
    assert panel.trust_prompt.isVisible() and "pickled" in panel.trust_prompt.text()
    assert workspace.handle is None and f"{pickled_file} is a pickled model" == panel.info.text()
    with qtbot.waitSignal(workspace.modelChanged, timeout=60000) as blocker:
        panel.trust_prompt.button(QMessageBox.StandardButton.Yes).click()
    assert blocker.args[0].id == pickled_file and workspace.handle is blocker.args[0]
    assert [l.name for l in blocker.args[0].layers()] == ["0", "1", "2"]
    assert [r.text(0) for r in layer_rows(panel)] == ["0", "1", "2"]
    assert failures == []  # the refusal is a question, not an error


def test_declining_trust_loads_nothing(panel, workspace, qtbot, pickled_file):
    panel.load(pickled_file)
    qtbot.waitUntil(lambda: panel.trust_prompt is not None, timeout=30000)
    with qtbot.waitSignal(panel.message) as blocker:
        panel.trust_prompt.button(QMessageBox.StandardButton.No).click()
    assert "not loaded" in blocker.args[0]
    qtbot.wait(300)
    assert workspace.handle is None and panel.trust_prompt is None
