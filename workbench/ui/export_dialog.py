"""Asking where to save a figure, and saving it with a message either way."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

FIGURE_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"


def ask_save_path(parent: QWidget, title: str, default: str, file_filter: str = FIGURE_FILTER) -> str | None:
    """The chosen path, with the chosen filter's suffix added when none was typed; None if cancelled."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, default, file_filter)
    if not path:
        return None
    if not Path(path).suffix and "*." in chosen:
        path += "." + chosen.split("*.")[1].split(")")[0].split()[0]
    return path


def export_with_dialog(parent: QWidget, title: str, default_name: str, export: Callable[[str], object],
                       message: Callable[[str], None]) -> None:
    """Ask for a figure path, export to it, and report success or the reason it failed."""
    path = ask_save_path(parent, title, str(Path.home() / default_name))
    if path is None:
        return
    try:
        export(path)
    except (OSError, ValueError) as e:
        message(f"Could not export {Path(path).name}: {e}")
        return
    message(f"Saved {path}")
