"""The main window's layout: its size and dock widths on a first start, and side dock columns
that leave every panel its room. Whatever widths a saved layout holds, each column is at least as
wide as the widest minimum of its docks (tabbed ones included), and the central tabs keep their
own minimum and a fair share of the window."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

CENTRAL_SHARE = 0.4     # the central tabs keep at least this much of the window's width
SIDES = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
DEFAULT_SIZE = QSize(1400, 900)
SCREEN_SHARE = 0.9
DEFAULT_COLUMNS = (300, 260)     # left and right dock columns on a first start


def default_size() -> QSize:
    """1400 x 900, or 90 % of the screen where that is smaller."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(1320, 840)
    room = screen.availableGeometry()
    return QSize(min(DEFAULT_SIZE.width(), int(room.width() * SCREEN_SHARE)),
                 min(DEFAULT_SIZE.height(), int(room.height() * SCREEN_SHARE)))


def default_dock_widths(window: QMainWindow) -> None:
    docks = window.findChildren(QDockWidget)
    left, right = ([d for d in docks if window.dockWidgetArea(d) == area][:1] for area in SIDES)
    if left and right:
        window.resizeDocks([left[0], right[0]], list(DEFAULT_COLUMNS), Qt.Orientation.Horizontal)


def column_minimum(window: QMainWindow, area: Qt.DockWidgetArea) -> int:
    """The width the docks of one side need (0 when none is docked and visible there)."""
    return max((d.minimumSizeHint().width() for d in _docked(window, area)), default=0)


def fit_docks(window: QMainWindow) -> dict[Qt.DockWidgetArea, int]:
    """Resize the left and right dock columns as described above; returns the widths asked for."""
    columns = {}
    for area in SIDES:
        shown = [d for d in _docked(window, area) if not d.visibleRegion().isEmpty()]
        if shown:
            columns[area] = (shown[0], shown[0].width(), column_minimum(window, area))
    if not columns:
        return {}
    central = window.centralWidget()
    central_need = max(central.minimumSizeHint().width() if central is not None else 0,
                       int(window.width() * CENTRAL_SHARE))
    room = window.width() - central_need - 12 * len(columns)    # separators and frames
    widths = {area: max(width, need) for area, (_, width, need) in columns.items()}
    excess = sum(widths.values()) - room
    if excess > 0:   # the central tabs are squeezed: give back from the columns wider than their minimum
        spare = {area: widths[area] - columns[area][2] for area in widths}
        total = sum(spare.values())
        if total > 0:
            for area in widths:
                widths[area] -= round(min(excess, total) * spare[area] / total)
    docks = [columns[area][0] for area in widths]
    window.resizeDocks(docks, [widths[area] for area in widths], Qt.Orientation.Horizontal)
    return widths


def _docked(window: QMainWindow, area: Qt.DockWidgetArea) -> list[QDockWidget]:
    return [d for d in window.findChildren(QDockWidget)
            if d.parentWidget() is window and not d.isFloating() and not d.isHidden()
            and window.dockWidgetArea(d) == area]
