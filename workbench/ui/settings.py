"""Persistent preferences: window layout, theme and recent files.

The settings file is the platform default, unless ``WORKBENCH_SETTINGS`` names an ini file
(tests point it into a temporary folder).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
THEMES = ("light", "dark")


class Settings:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = path or os.environ.get("WORKBENCH_SETTINGS")
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings("cv-workbench", "CV Workbench")

    def sync(self) -> None:
        self.qsettings.sync()

    # --- recent files --------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("recent/files", [])
        if isinstance(value, str):  # an ini file stores a one-item list as a plain string
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def add_recent_file(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.qsettings.setValue("recent/files", files)
        self.sync()
        return files

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("recent/files", [])
        self.sync()

    # --- theme ---------------------------------------------------------------------
    def theme(self) -> str:
        value = str(self.qsettings.value("view/theme", "light"))
        return value if value in THEMES else "light"

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
        self.qsettings.setValue("view/theme", name)
        self.sync()

    # --- window layout -------------------------------------------------------------
    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.sync()

    def window_geometry(self) -> QByteArray | None:
        return _bytes(self.qsettings.value("window/geometry"))

    def window_state(self) -> QByteArray | None:
        return _bytes(self.qsettings.value("window/state"))

    # --- last used -----------------------------------------------------------------
    def value(self, key: str, default: str = "") -> str:
        return str(self.qsettings.value(key, default))

    def set_value(self, key: str, value: str) -> None:
        self.qsettings.setValue(key, value)


def _bytes(value) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return None
