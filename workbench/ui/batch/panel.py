"""The Batch dock: a batch run's items in a sortable table; a click opens the item's image and its
result on the canvas as if just computed. Runs a batch too (Run > Batch…), on an engine of its own
so the window stays free for other work, with progress and Cancel here and in the status bar."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from workbench.core.batch import jobs
from workbench.core.renderers import IMAGE, renderer_for
from workbench.ui.batch.table import IndexModel
from workbench.ui.panel import RIGHT, Panel

INDEX_KEY, ITEM_KEY, RUN_KEY = "batch-index", "batch-item", "batch-run"
FIRST, LAST = ("key", "status"), ("label", "error", "seconds", "worker", "image", "npz")
EMPTY_TEXT = "No batch open: File > Open Batch… or Run > Batch…"


class BatchPanel(Panel):
    title = "Batch"
    area = RIGHT
    object_name = "batchDock"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index: jobs.BatchIndex | None = None
        self._runner = None               # the engine batches run on, made on the first run
        self._run = None
        self.summary = QLabel(EMPTY_TEXT)
        self.summary.setObjectName("batchSummary")
        self.summary.setWordWrap(True)
        self.model = IndexModel(self)
        self.table = QTableView()
        self.table.setObjectName("batchTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.clicked.connect(lambda index: self.open_row(index.row()))
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.open_button = QPushButton("Open Batch…")
        self.open_button.clicked.connect(self.open_dialog)
        self.progress = QProgressBar()
        self.progress.setObjectName("batchProgress")
        self.progress.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelBatch")
        self.cancel_button.clicked.connect(self.cancel)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(running)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.open_button)

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine = workspace, engine

    # opening a batch and its items

    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a batch folder")
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str):
        """Read the batch in ``folder`` (on the worker) and list its items; returns the ticket."""
        ticket = self.engine.submit(INDEX_KEY, jobs.open_index, str(folder))
        ticket.done.connect(self.set_index)
        ticket.failed.connect(lambda text: self.message.emit(f"Cannot open the batch in {folder}: {text}"))
        return ticket

    def set_index(self, index: jobs.BatchIndex) -> None:
        self.index = index
        self.model.set_index(display_order(index.columns), index.rows)
        self.table.resizeColumnsToContents()
        m = index.manifest
        self.summary.setText(f"{m.get('method', '?')} on {m.get('model', '?')}: {len(index.rows)} items, "
                             f"{index.failed} failed — {Path(index.folder).name}")
        self.summary.setToolTip(f"{index.folder}\nimages: {m.get('images', '')}\nparams: {m.get('params', {})}")
        self.raiseRequested.emit()

    def open_row(self, row: int):
        """Open one item: its image becomes the workbench's image and its result is shown."""
        if self.index is None or not 0 <= row < self.model.rowCount():
            return None
        self.table.selectionModel().select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                           | QItemSelectionModel.SelectionFlag.Rows)
        ticket = self.engine.submit(ITEM_KEY, jobs.open_item, self.index.folder, self.model.row(row))
        ticket.done.connect(self._show_item)
        ticket.failed.connect(self.message.emit)
        return ticket

    def _show_item(self, item: jobs.OpenedItem) -> None:
        self.workspace.set_image(item.image, item.key)
        if item.result is None:
            self.message.emit(f"{item.key} failed in the batch: {item.error}")
            return
        self.workspace.show(item.result, renderer_for(item.result).view or IMAGE)
        self.statusMessage.emit(f"{item.key}: {item.result.title or item.result.method}")

    # running a batch

    def start(self, request: jobs.BatchRequest):
        """Run ``request`` on the batch engine; its items list here as it goes. Returns the ticket."""
        if self._run is not None and not self._run.ended:
            self.message.emit("A batch is running: cancel it or wait for it before starting another")
            return None
        ticket = self._engine().submit(RUN_KEY, jobs.run, request)
        ticket.progress.connect(self._on_progress)
        ticket.done.connect(self._on_run_done)
        ticket.failed.connect(lambda text: self.message.emit(f"The batch stopped: {text}"))
        ticket.cancelled.connect(lambda: self.open_folder(request.out))
        ticket.finished.connect(self._on_run_finished)
        self._run = ticket
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.summary.setText(f"Running {request.method} over {request.images}…")
        self.raiseRequested.emit()
        return ticket

    def cancel(self) -> None:
        if self._run is not None and not self._run.ended:
            self._run.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop a running batch (what it finished stays) and the engine batches run on."""
        if self._runner is not None:
            self._runner.cancel()
            self._runner.shutdown(timeout_ms)

    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.ended

    def _engine(self):
        if self._runner is None:
            from workbench.engine import Engine
            self._runner = Engine(device=self.engine.device_name or "auto", parent=self)
        return self._runner

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(1000 * fraction))
        self.progress.setToolTip(text)
        self.summary.setText(text)
        self.statusMessage.emit(text)

    def _on_run_done(self, index: jobs.BatchIndex) -> None:
        self.set_index(index)
        self.message.emit(f"Batch done: {len(index.rows) - index.failed} items, {index.failed} failed, "
                          f"in {index.folder}")

    def _on_run_finished(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    # the Panel protocol: the dock draws nothing of its own to export

    def current_result(self) -> Any:
        return None


def display_order(columns: list[str]) -> list[str]:
    """The key and status, then the result's own columns, then where and how each item ran: in a
    narrow dock what differs between items comes first."""
    rest = [c for c in columns if c not in FIRST and c not in LAST]
    return [c for c in FIRST if c in columns] + rest + [c for c in LAST if c in columns]
