import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from workbench.ui.model_dock import ModelDock

RANDOM_SHAPES = "zoo:shapes-cnn?weights=none"   # no trained weights needed
ENTRIES = [
    {"id": "zoo:shapes-cnn", "task": "classify", "source": "bundled", "weights": "/m/shapes-cnn.safetensors",
     "available": True, "status": "available"},
    {"id": "torchvision:fasterrcnn_resnet50_fpn", "task": "detect", "source": "torch hub cache",
     "weights": "/hub/x.pth", "available": False, "status": "missing: /hub/x.pth"},
]


@pytest.fixture
def dock(qtbot, engine):
    d = ModelDock(engine)
    qtbot.addWidget(d)
    return d


def test_catalogue_fills_the_combo_with_task_and_weights(dock):
    dock.set_catalogue(ENTRIES)
    assert dock.model_ids() == ["zoo:shapes-cnn", "torchvision:fasterrcnn_resnet50_fpn"]
    assert dock.combo.itemText(0) == "zoo:shapes-cnn  (classify, bundled, ready)"
    assert dock.combo.itemText(1) == "torchvision:fasterrcnn_resnet50_fpn  (detect, torch hub cache, weights missing)"
    assert "/hub/x.pth" in dock.combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    dock.combo.setCurrentIndex(1)
    dock.set_catalogue(ENTRIES[::-1])  # a refresh keeps the selection
    assert dock.combo.currentData() == "torchvision:fasterrcnn_resnet50_fpn"


def test_refresh_fetches_the_catalogue_on_the_worker(dock, engine, qtbot, monkeypatch):
    import threading

    from workbench.core import sources
    threads = []

    def fake_catalogue():
        threads.append(threading.current_thread())
        return ENTRIES

    monkeypatch.setattr(sources, "catalogue", fake_catalogue)
    with qtbot.waitSignal(engine.done, timeout=20000):
        dock.refresh_catalogue()
    assert dock.model_ids() == [e["id"] for e in ENTRIES]
    assert threads and threads[0] is not threading.main_thread()


def test_load_runs_on_the_engine_and_lists_the_layers(dock, qtbot):
    with qtbot.waitSignal(dock.modelLoaded, timeout=60000) as blocker:
        dock.load(RANDOM_SHAPES)
    handle = blocker.args[0]
    assert handle.task == "classify" and dock.handle is handle
    assert "classify" in dock.info.text() and RANDOM_SHAPES in dock.info.text()
    rows = [dock.layers.topLevelItem(i) for i in range(dock.layers.topLevelItemCount())]
    assert [r.text(0) for r in rows] == [l.name for l in handle.layers()]
    conv1 = next(r for r in rows if r.text(0) == "features.conv1")
    assert conv1.text(1) == "Conv2d" and conv1.text(2) == "1×16×64×64"
    assert dock.combo.currentData() == RANDOM_SHAPES


def test_a_failed_load_keeps_the_previous_model(dock, engine, qtbot):
    with qtbot.waitSignal(dock.modelLoaded, timeout=60000):
        dock.load(RANDOM_SHAPES)
    before = dock.handle
    with qtbot.waitSignal(engine.failed, timeout=20000) as blocker:
        dock.load("zoo:no-such-model")
    assert "no-such-model" in blocker.args[1]
    assert dock.handle is before
    assert "Could not load" in dock.info.text()


@pytest.fixture
def pickled_file(tmp_path):
    """A whole pickled module: the loader refuses it unless told to trust the file."""
    import torch
    from torch import nn
    path = tmp_path / "full.pt"
    torch.save(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()), path)
    return f"file:{path}"


def test_a_pickled_model_asks_before_loading_and_loads_when_trusted(dock, engine, qtbot, pickled_file):
    failures = []
    engine.failed.connect(lambda *a: failures.append(a))
    dock.load(pickled_file)
    qtbot.waitUntil(lambda: dock.trust_prompt is not None, timeout=30000)
    assert dock.trust_prompt.isVisible() and "pickled" in dock.trust_prompt.text()
    assert dock.handle is None
    with qtbot.waitSignal(dock.modelLoaded, timeout=60000) as blocker:
        dock.trust_prompt.button(QMessageBox.StandardButton.Yes).click()
    assert blocker.args[0].id == pickled_file
    assert [l.name for l in blocker.args[0].layers()] == ["0", "1", "2"]
    assert failures == []  # the refusal is a question, not an error


def test_declining_trust_loads_nothing(dock, qtbot, pickled_file):
    dock.load(pickled_file)
    qtbot.waitUntil(lambda: dock.trust_prompt is not None, timeout=30000)
    with qtbot.waitSignal(dock.message) as blocker:
        dock.trust_prompt.button(QMessageBox.StandardButton.No).click()
    assert "not loaded" in blocker.args[0]
    qtbot.wait(300)
    assert dock.handle is None and dock.trust_prompt is None
