"""Light and dark themes: a Fusion palette for the widgets, a matching pyqtgraph background."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# (window, base, alternate base, text, button, highlight, plot background, plot foreground)
_COLORS = {
    "light": ("#efefef", "#ffffff", "#f5f5f5", "#1e1e1e", "#e6e6e6", "#2f6fd6", "#ffffff", "#202020"),
    "dark": ("#2b2b2e", "#1f1f22", "#28282b", "#e6e6e6", "#37373b", "#3d8ee8", "#161618", "#d0d0d0"),
}


def palette(name: str) -> QPalette:
    window, base, alt, text, button, highlight, _, _ = _COLORS[name]
    p = QPalette()
    role = QPalette.ColorRole
    for r, c in ((role.Window, window), (role.Base, base), (role.AlternateBase, alt),
                 (role.Button, button), (role.Highlight, highlight), (role.ToolTipBase, base)):
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText, role.ToolTipText, role.BrightText):
        p.setColor(r, QColor(text))
    p.setColor(role.HighlightedText, QColor("#ffffff"))
    p.setColor(role.PlaceholderText, QColor("#8a8a8a"))
    p.setColor(role.Link, QColor(highlight))
    disabled = QColor("#7a7a7a")
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    return p


def plot_colors(name: str) -> tuple[str, str]:
    """(background, foreground) for pyqtgraph items created from now on in this theme."""
    return _COLORS[name][6], _COLORS[name][7]


def apply_theme(name: str) -> None:
    """Switch the whole application to a theme. The canvas and grid follow the palette change."""
    if name not in _COLORS:
        raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(_COLORS)}")
    app = QApplication.instance()
    app.setStyle("Fusion")
    app.setPalette(palette(name))
    background, foreground = plot_colors(name)
    pg.setConfigOption("background", background)
    pg.setConfigOption("foreground", foreground)
