"""The Batch dock: a batch's items listed and sorted, one opened onto the canvas as computed, a batch
run from the window with progress and Cancel, and the Run > Batch… dialog."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from workbench.core.batch.items import load_item_image
from workbench.core.batch.jobs import BatchRequest
from workbench.core.batch.run import run_batch
from workbench.core.results import Heatmap
from workbench.core.results.restore import load_result
from workbench.plugins import default_registry
from workbench.ui.batch.dialog import BatchDialog
from workbench.ui.batch.panel import EMPTY_TEXT, BatchPanel

MODEL = "zoo:shapes-cnn"


@pytest.fixture(scope="module")
def saliency_batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "saliency"
    run_batch(default_registry().get("saliency"), MODEL, "dataset:shapes:6", out)
    return out


def test_an_opened_batch_lists_its_items_and_sorts_by_any_column(qtbot, bind, saliency_batch):
    panel = bind(BatchPanel)
    assert panel.summary.text() == EMPTY_TEXT
    with qtbot.waitSignal(panel.open_folder(str(saliency_batch)).done, timeout=30000):
        pass
    model = panel.model
    assert model.rowCount() == 6 and model.columns[:2] == ["key", "status"]
    assert model.columns[2:5] == ["target", "target_label", "signed"]       # the result's own columns next
    assert model.columns[-6:] == ["label", "error", "seconds", "worker", "image", "npz"]
    assert panel.summary.text().startswith("saliency on zoo:shapes-cnn: 6 items, 0 failed")
    column = model.columns.index("target")
    panel.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    shown = [model.row(i)["target"] for i in range(6)]
    assert shown == sorted(shown, reverse=True)
    panel.table.sortByColumn(model.columns.index("key"), Qt.SortOrder.AscendingOrder)
    assert [model.row(i)["key"] for i in range(6)] == sorted(model.row(i)["key"] for i in range(6))


def test_a_click_opens_the_items_image_and_result_as_if_just_computed(qtbot, bind, workspace, saliency_batch):
    panel = bind(BatchPanel)
    with qtbot.waitSignal(panel.open_folder(str(saliency_batch)).done, timeout=30000):
        pass
    row = panel.model.row(3)
    with qtbot.waitSignal(workspace.resultChanged, timeout=30000) as shown:
        panel.table.clicked.emit(panel.model.index(3, 0))
    view, result = shown.args
    assert view == "image" and isinstance(result, Heatmap)
    assert np.array_equal(workspace.image, load_item_image(row["image"])) and workspace.image_name == row["key"]
    saved = load_result(saliency_batch / row["npz"])
    np.testing.assert_array_equal(result.heatmap, saved.heatmap)
    assert result.target == row["target"] and result.method == "saliency"


def test_a_batch_runs_from_the_window_with_progress_and_can_be_cancelled(qtbot, bind, tmp_path):
    panel = bind(BatchPanel)
    statuses = []
    panel.statusMessage.connect(statuses.append)
    method = default_registry().get("feature-vector")
    with qtbot.waitSignal(panel.start(BatchRequest(method, MODEL, "dataset:shapes:4", str(tmp_path / "a"), {})).done,
                          timeout=120000):
        pass
    assert panel.model.rowCount() == 4 and not panel.running
    assert any(s.startswith("batch feature-vector: 4/4 images, 0 failed") for s in statuses)
    assert not panel.progress.isVisible() and not panel.cancel_button.isVisible()

    ticket = panel.start(BatchRequest(method, MODEL, "dataset:shapes:400", str(tmp_path / "b"), {}))
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=120000)
    with qtbot.waitSignal(ticket.cancelled, timeout=60000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.index is not None and panel.index.folder == str(tmp_path / "b"), timeout=30000)
    assert 0 < panel.model.rowCount() < 400          # what was done before Cancel is kept, and listed
    panel.shutdown()


def test_the_dialog_asks_for_what_is_missing_and_builds_the_request(qtbot):
    registry = default_registry()
    methods = {name: registry.get(name) for name in ("saliency", "occlusion")}
    dialog = BatchDialog(MODEL, methods, "occlusion", {"occlusion": {"window": 8}})
    qtbot.addWidget(dialog)
    assert dialog.method.currentText() == "occlusion" and "window=8" in dialog.params.text()
    dialog._accept()
    assert dialog.result() == 0 and "an output folder" in dialog.problem.text()
    dialog.out.setText("/tmp/somewhere")
    dialog.method.setCurrentText("saliency")
    assert dialog.params.text() == "Parameters: the method's defaults"
    request = dialog.request()
    assert (request.method.name, request.model, request.images, request.out, request.params) == \
        ("saliency", MODEL, "dataset:digits", "/tmp/somewhere", {})


def test_the_window_offers_open_batch_and_run_batch(make_window):
    window = make_window()
    texts = {a.text().replace("&", "") for menu in window.menuBar().actions() for a in menu.menu().actions()}
    assert {"Open Batch…", "Batch…", "Cancel Batch"} <= texts
    assert window.panel("batchDock").title == "Batch"
