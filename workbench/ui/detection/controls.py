"""Widgets of the detection panels: a scrolling body, labelled sliders, the class list and the
table of detections."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QScrollArea, QSlider, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from workbench.core.detection.view import Row

COLUMNS = ("#", "Class", "Score", "Box")
RANK, CLASS, SCORE, BOX = range(len(COLUMNS))
CELL_PADDING = 12
CLASS_SAMPLE = "triangle"   # the Class column is never narrower than this name


class VerticalScrollArea(QScrollArea):
    """Scrolls its widget up and down only, and asks for the widget's minimum width: a dock that
    holds it is never narrower than what it shows, so nothing is cut off at the side."""

    def __init__(self, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(body)
        body.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        hint = super().minimumSizeHint()
        body = self.widget()
        if body is not None:
            need = body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
            hint.setWidth(max(hint.width(), need))
        return hint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()       # the body's minimum may have changed
        return False


def set_scrolling_body(panel: QWidget, body: QWidget) -> None:
    """Lay ``body`` into ``panel`` inside a vertical scroll area, so a tall panel scrolls rather
    than raise the main window's minimum height."""
    scroll = VerticalScrollArea(body)
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
    table.setWordWrap(False)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # fixed widths: sizing columns to their contents rescans every row on each edit; the Box
    # column is sized to the widest box text when the rows change (fit_box_column)
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(_text_width(table, "#"))
    for column, sample in ((RANK, "999"), (SCORE, "0.000"), (BOX, "Box")):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(column, _text_width(table, sample))
    header.setSectionResizeMode(CLASS, QHeaderView.ResizeMode.Stretch)
    table.setToolTip("Click a detection to select its box on the image")
    _keep_columns_in_view(table)
    return table


def fit_box_column(table: QTableWidget, rows: list[Row]) -> None:
    """The Box column as wide as its widest text; the table asks for the room its columns need."""
    texts = [box_text(r.box) for r in rows] or ["Box"]
    table.horizontalHeader().resizeSection(BOX, max(_text_width(table, t) for t in texts))
    _keep_columns_in_view(table)


def _keep_columns_in_view(table: QTableWidget) -> None:
    header = table.horizontalHeader()
    fixed = sum(header.sectionSize(c) for c in (RANK, SCORE, BOX))
    table.setMinimumWidth(fixed + _text_width(table, CLASS_SAMPLE) + table.verticalScrollBar().sizeHint().width()
                          + 2 * table.frameWidth())


def _text_width(table: QTableWidget, text: str) -> int:
    return table.fontMetrics().horizontalAdvance(text) + CELL_PADDING


def fill_table(table: QTableWidget, rows: list[Row], before: list[Row]) -> None:
    """Rewrite only the rows that differ from ``before``, the rows the table holds now."""
    same = next((i for i, (a, b) in enumerate(zip(rows, before)) if a != b), min(len(rows), len(before)))
    if same == len(rows) == len(before):
        return
    table.setUpdatesEnabled(False)
    fit_box_column(table, rows)
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
