"""Widgets of the detection panels: a scrolling body, labelled sliders, the class list and the
table of detections."""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QScrollArea, QSlider, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from workbench.core.detection.view import Row

COLUMNS = ("#", "Class", "Score", "Box")


def set_scrolling_body(panel: QWidget, body: QWidget) -> None:
    """Lay ``body`` into ``panel`` inside a scroll area, so a tall panel scrolls rather than
    raise the main window's minimum size."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(body)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(scroll)


def labelled_slider(lo: int, hi: int, value: int, fmt) -> tuple[QSlider, QLabel, QHBoxLayout]:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(lo, hi)
    slider.setValue(value)
    label = QLabel(fmt(value))
    label.setMinimumWidth(44)
    slider.valueChanged.connect(lambda v: label.setText(fmt(v)))
    row = QHBoxLayout()
    row.addWidget(slider, 1)
    row.addWidget(label)
    return slider, label, row


def box_text(box) -> str:
    return ", ".join(f"{v:.0f}" for v in box)


def detections_table() -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setObjectName("detectionTable")
    table.setHorizontalHeaderLabels(list(COLUMNS))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    # fixed widths: sizing columns to their contents rescans every row on each edit
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    for column, sample in enumerate(("9999", "hexagon__", "0.0000")):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 12)
    header.setStretchLastSection(True)
    table.setToolTip("Click a detection to select its box on the image")
    return table


def fill_table(table: QTableWidget, rows: list[Row], before: list[Row]) -> None:
    """Rewrite only the rows that differ from ``before``, the rows the table holds now."""
    same = next((i for i, (a, b) in enumerate(zip(rows, before)) if a != b), min(len(rows), len(before)))
    if same == len(rows) == len(before):
        return
    table.setUpdatesEnabled(False)
    with QSignalBlocker(table):
        table.setRowCount(len(rows))
        for i in range(same, len(rows)):
            r = rows[i]
            cells = (str(i + 1), r.name, f"{r.score:.3f}", box_text(r.box))
            for column, text in enumerate(cells):
                item = table.item(i, column)
                if item is None:
                    item = QTableWidgetItem(text)
                    if column != 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(i, column, item)
                elif item.text() != text:
                    item.setText(text)
    table.setUpdatesEnabled(True)


def fill_classes(classes: QListWidget, names: list[str]) -> None:
    """One checked item per class name (torchvision's background class left out)."""
    with QSignalBlocker(classes):
        classes.clear()
        for label, name in enumerate(names):
            if label == 0 and name.startswith("__"):
                continue
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            classes.addItem(item)


def checked_classes(classes: QListWidget) -> frozenset[int] | None:
    """The labels ticked in the class list; None when every class is."""
    items = [classes.item(i) for i in range(classes.count())]
    shown = frozenset(int(it.data(Qt.ItemDataRole.UserRole)) for it in items
                      if it.checkState() == Qt.CheckState.Checked)
    return None if len(shown) == len(items) else shown
