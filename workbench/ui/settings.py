"""Persistent preferences: window layout, theme, recent files and the last folders used.

The settings file is an ini file: the one ``WORKBENCH_SETTINGS`` names (tests point it into a
temporary folder), else the user's config folder. Nothing in it can stop the app: a value of the
wrong type or one that cannot be read falls back to its default, and what was wrong is kept in
``problems`` for the window to show once. A file holding a stored Python object is never parsed
at all (see ``settings_guard``): it is moved aside, and the defaults are used.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from workbench.ui.settings_guard import holds_stored_object

ENV = "WORKBENCH_SETTINGS"
ORGANIZATION, APPLICATION = "cv-workbench", "CV Workbench"
MAX_RECENT = 10
THEMES = ("light", "dark")
DEFAULT_THEME = "light"
MAX_FILE_BYTES = 4 << 20          # a settings file is a few KB; anything this big is not one
MAX_LAYOUT_BYTES = 1 << 20        # saved window geometry or dock state
MAX_PATH_CHARS = 4096
SET_ASIDE_SUFFIX = ".rejected"
RECENT, THEME, GEOMETRY, STATE = "recent/files", "view/theme", "window/geometry", "window/state"


def default_path() -> Path:
    """The user's settings file. On Linux it is the file QSettings' native format uses (an ini
    file too), so the settings of earlier versions are found; elsewhere an ini file in the user's
    config folder."""
    if sys.platform.startswith("linux"):
        config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
        return Path(config) / ORGANIZATION / f"{APPLICATION}.conf"
    return Path(QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION).fileName())


class Settings:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.problems: list[str] = []       # what was wrong with the file, for the user to read
        self.path = Path(path or os.environ.get(ENV) or default_path())
        self.source = self.path              # the file read; ``path`` is a scratch file when it could not be
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._refuse_unsafe_file()
        self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)
        self.qsettings.setFallbacksEnabled(False)
        self._check_values()

    def sync(self) -> None:
        self._write({})

    def _write(self, changes: dict[str, object]) -> None:
        """Store ``changes`` and write the file. QSettings reads the file back as it writes it, so
        a file changed on disk since into one it cannot read safely is set aside first, as at start."""
        self._refuse_unsafe_file()
        for key, value in changes.items():
            self.qsettings.setValue(key, value)
        self.qsettings.sync()

    def report(self) -> str:
        """The problems found, as one message ('' when there were none)."""
        return f"Settings file {self.source}: {'; '.join(self.problems)}." if self.problems else ""

    def note(self, problem: str) -> None:
        self.problems.append(problem)

    # --- recent files --------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Absolute paths, newest first, at most MAX_RECENT of them."""
        return _recent(self.qsettings.value(RECENT))[0]

    def add_recent_file(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self._write({RECENT: files})
        return files

    def clear_recent_files(self) -> None:
        self._write({RECENT: []})

    # --- theme ---------------------------------------------------------------------
    def theme(self) -> str:
        value = self.qsettings.value(THEME)
        return value if isinstance(value, str) and value in THEMES else DEFAULT_THEME

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
        self._write({THEME: name})

    # --- window layout -------------------------------------------------------------
    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._write({GEOMETRY: geometry, STATE: state})

    def window_geometry(self) -> QByteArray | None:
        return _layout_bytes(self.qsettings.value(GEOMETRY))

    def window_state(self) -> QByteArray | None:
        return _layout_bytes(self.qsettings.value(STATE))

    # --- last used -----------------------------------------------------------------
    def value(self, key: str, default: str = "") -> str:
        """A text setting (a folder, a name); ``default`` when it is missing or not text."""
        text = _text(self.qsettings.value(key))
        return default if text is None else text

    def set_value(self, key: str, value: str) -> None:
        self._write({key: value})

    # --- checks --------------------------------------------------------------------
    def _refuse_unsafe_file(self) -> None:
        """Keep QSettings away from a file it could not read safely: one with a stored object,
        one too big to be settings, one that cannot be read."""
        try:
            too_big = self.path.stat().st_size > MAX_FILE_BYTES
            if not too_big and not holds_stored_object(self.path.read_bytes()):
                return
        except FileNotFoundError:
            return
        except OSError as exc:
            self._use_scratch_file(f"it could not be read ({exc.strerror or exc})")
            return
        why = "it is too large to be a settings file" if too_big else \
            "it holds a stored Python object, which the workbench never loads"
        aside = self.path.with_name(self.path.name + SET_ASIDE_SUFFIX)
        try:
            os.replace(self.path, aside)
        except OSError:
            self._use_scratch_file(why)
            return
        self.note(f"{why}: moved to {aside.name}, defaults used")

    def _use_scratch_file(self, problem: str) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="workbench-settings-")
        self.note(f"{problem}: defaults used, and this session's settings are not saved")
        self.path = Path(self._scratch.name) / "settings.ini"
        if hasattr(self, "qsettings"):      # the file went bad since the start (nothing is pending)
            self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _check_values(self) -> None:
        """Read every known setting once; a bad one is removed (its default applies) and noted."""
        files, dropped = _recent(self.qsettings.value(RECENT))
        if dropped:
            entries = "1 entry is" if dropped == 1 else f"{dropped} entries are"
            self._drop(RECENT, f"recent files: {entries} not a file path (dropped)", keep=files)
        theme = self.qsettings.value(THEME)
        if theme is not None and not (isinstance(theme, str) and theme in THEMES):
            self._drop(THEME, f"the theme {_show(theme)} is not {' or '.join(THEMES)} ({DEFAULT_THEME} used)")
        for key in (GEOMETRY, STATE):
            value = self.qsettings.value(key)
            if value is not None and _layout_bytes(value) is None:
                self._drop(key, f"{key} is not a saved window layout (default used)")
        for key in self.qsettings.allKeys():
            if key.startswith("paths/") and _text(self.qsettings.value(key)) is None:
                self._drop(key, f"{key} is not a folder name (dropped)")

    def _drop(self, key: str, problem: str, keep: list[str] | None = None) -> None:
        if keep:
            self.qsettings.setValue(key, keep)
        else:
            self.qsettings.remove(key)
        self.note(problem)


def _recent(value: object) -> tuple[list[str], int]:
    """The recent files in a stored value, cut to MAX_RECENT, and how many entries were not paths."""
    if value is None:
        return [], 0
    if isinstance(value, str):       # an ini file stores a one-item list as a plain string
        value = [value]
    if not isinstance(value, list):
        return [], 1
    files = [v for v in value if isinstance(v, str) and _is_path(v)]
    return files[:MAX_RECENT], len(value) - len(files)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_PATH_CHARS and "\0" not in value else None


def _is_path(text: str) -> bool:
    return _text(text) is not None and os.path.isabs(text)


def _layout_bytes(value: object) -> QByteArray | None:
    if isinstance(value, QByteArray):
        value = value.data()
    if isinstance(value, (bytes, bytearray)) and 0 < len(value) <= MAX_LAYOUT_BYTES:
        return QByteArray(bytes(value))
    return None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
