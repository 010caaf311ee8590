"""The DETR tab's tables: the query list (class, score, "no object" probability, matched object)
and the Hungarian matching (a summary and the queries x objects cost matrix, the assignment
highlighted). Picking a row picks that query."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, \
    QWidget

from workbench.ui.detr.views import QueryRow, object_names

QUERY_COLUMNS = ("Query", "Class", "Score", "No object", "Matched to")
ASSIGNED = QColor(255, 200, 0)
FADED = QColor(128, 128, 128)


def _item(text: str, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def _swatch(rgb: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


class PickingTable(QTableWidget):
    """A read-only table whose rows are queries: a click on a row reports its query."""
    queryPicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._queries: list[int] = []      # row -> query
        self._filling = False
        self.itemSelectionChanged.connect(self._on_selection)

    @contextmanager
    def filling(self, queries: list[int] | None = None) -> Iterator[None]:
        """Change the table without reporting picks; ``queries``: the query of each row from now on."""
        self._filling = True
        try:
            if queries is not None:
                self._queries = list(queries)
            yield
        finally:
            self._filling = False

    def select_query(self, query: int | None) -> None:
        with self.filling():
            if query in self._queries:
                row = self._queries.index(query)
                self.selectRow(row)
                self.scrollTo(self.model().index(row, 0))
            else:
                self.clearSelection()

    def _on_selection(self) -> None:
        rows = {i.row() for i in self.selectedIndexes()}
        if not self._filling and len(rows) == 1:
            self.queryPicked.emit(self._queries[rows.pop()])


class QueryTable(PickingTable):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(QUERY_COLUMNS))
        self.setHorizontalHeaderLabels(QUERY_COLUMNS)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Every object query at the shown decoder layer: its best class (in brackets and grey when "
                        "it scores below the object threshold: no object), that class's probability and the "
                        "\"no object\" probability; the match is the last layer's. Click a row to show that query")

    def fill(self, rows: list[QueryRow], selected: int | None) -> None:
        with self.filling([r.query for r in rows]):
            self.setRowCount(len(rows))
            for i, row in enumerate(rows):
                cells = [_item(f"q{row.query}"), _item(row.label if row.is_object else f"({row.label})",
                                                       Qt.AlignmentFlag.AlignLeft),
                         _item(f"{row.score:.2f}"), _item(f"{row.no_object:.2f}"), _item(row.matched or "—")]
                cells[1].setIcon(_swatch(row.color))
                for c, cell in enumerate(cells):
                    if not row.is_object:
                        cell.setForeground(QBrush(FADED))
                    self.setItem(i, c, cell)
        self.select_query(selected)

    def rows_text(self) -> list[list[str]]:
        return [[self.item(r, c).text() for c in range(self.columnCount())] for r in range(self.rowCount())]


class MatchingView(QWidget):
    """The Hungarian matching on a bundled scene, or why there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = PickingTable()
        self.table.setToolTip("DETR's matching cost of each query (row) for each true object (column): "
                              "5 x L1 - 2 x GIoU - p(class), boxes as fractions of the image; the assignment of "
                              "least total cost is highlighted. Click a row to show that query")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def show_reason(self, text: str) -> None:
        self.summary.setText(text)
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.table.hide()

    def show_matching(self, view: Any, summary: str) -> None:
        self.summary.setText(summary)
        cost, assigned = view.cost, {(int(q), i) for i, q in enumerate(view.query_of_object) if q >= 0}
        t = self.table
        with t.filling(range(cost.shape[0])):
            t.setRowCount(cost.shape[0])
            t.setColumnCount(cost.shape[1])
            t.setHorizontalHeaderLabels(object_names(view))
            t.setVerticalHeaderLabels([f"q{q}" for q in range(cost.shape[0])])
            bold = QFont(t.font())
            bold.setBold(True)
            for q in range(cost.shape[0]):
                for o in range(cost.shape[1]):
                    cell = _item(f"{cost[q, o]:.2f}")
                    if (q, o) in assigned:
                        cell.setBackground(QBrush(ASSIGNED))
                        cell.setForeground(QBrush(QColor(0, 0, 0)))
                        cell.setFont(bold)
                    t.setItem(q, o, cell)
        t.show()

    def assigned_cells(self) -> list[tuple[int, int]]:
        """(row, column) of the highlighted cells: the matching shown."""
        t = self.table
        return [(r, c) for r in range(t.rowCount()) for c in range(t.columnCount())
                if t.item(r, c) is not None and t.item(r, c).background().color() == ASSIGNED]
