"""Settings that cannot stop the app: a stored object is never loaded, a bad value falls back to its
default with a notice, lists are cut to size, a saved layout never squeezes a panel."""
from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys

import pytest
from PySide6.QtCore import QByteArray, Qt

from workbench.engine import Engine
from workbench.ui.settings import MAX_RECENT, SET_ASIDE_SUFFIX, Settings
from workbench.ui.settings_guard import decode_like_qsettings, holds_stored_object
from workbench.ui.window import MainWindow

PICKED = "/picked/by/a/pickle.png"


class ListOfOnePath:
    """Unpickles (with any unpickler PySide6 has used) to a list holding PICKED."""

    def __reduce__(self):
        return list, ([PICKED],)


class RunsACommand:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


def stored_object(obj, spell_at: str = "@") -> str:
    """``obj`` as QSettings (PySide6) stores a Python object in an ini file: a pickle in a
    ``@Variant`` blob, every byte escaped; ``spell_at`` is how the leading "@" is written."""
    data = pickle.dumps(obj, protocol=4)
    name = b"PySide::PyObjectWrapper\0"
    blob = struct.pack(">I", 127) + struct.pack(">I", len(name)) + name + struct.pack(">I", len(data)) + data
    return spell_at + "Variant(" + "".join(f"\\x{b:02x}" for b in blob) + ")"


def raw_qsettings_reads(path, key):
    """What a plain QSettings returns for ``key``, in a fresh interpreter (QSettings caches files)."""
    code = ("import sys; from PySide6.QtCore import QSettings; "
            "print(repr(QSettings(sys.argv[1], QSettings.Format.IniFormat).value(sys.argv[2])))")
    return subprocess.run([sys.executable, "-c", code, str(path), key], capture_output=True, text=True,
                          timeout=60).stdout.strip()


@pytest.mark.parametrize("spell_at", ["@", "\\x40", "\\100", '"@"'])
def test_a_stored_object_is_never_loaded_and_the_file_is_set_aside(tmp_path, spell_at):
    path = tmp_path / "settings.ini"
    text = (f"[recent]\nfiles={stored_object(ListOfOnePath(), spell_at)}\n"
            f"[view]\ntheme=dark\nother={stored_object(RunsACommand(tmp_path / 'ran'), spell_at)}\n")
    path.write_text(text)
    live = tmp_path / "live.ini"
    live.write_text(text.split("[view]")[0])
    assert PICKED in raw_qsettings_reads(live, "recent/files"), "QSettings itself would unpickle this value"

    settings = Settings(path)
    assert settings.recent_files() == [] and settings.theme() == "light"
    assert not (tmp_path / "ran").exists()
    aside = tmp_path / ("settings.ini" + SET_ASIDE_SUFFIX)
    assert aside.read_text() == text and not path.exists()    # the user's file is kept, untouched
    assert "stored Python object" in settings.report() and aside.name in settings.report()
    settings.set_theme("dark")                                 # and the session's settings save as usual
    assert Settings(path).theme() == "dark" and Settings(path).problems == []


def test_a_file_turned_into_a_stored_object_while_the_app_runs_is_set_aside_before_a_write(tmp_path):
    path = tmp_path / "settings.ini"
    settings = Settings(path)
    settings.set_theme("dark")
    path.write_text(f"[recent]\nfiles={stored_object(ListOfOnePath())}\n"
                    f"[view]\nx={stored_object(RunsACommand(tmp_path / 'ran'))}\n")
    settings.add_recent_file(tmp_path / "new.png")
    assert settings.recent_files() == [str((tmp_path / "new.png").resolve())]
    assert not (tmp_path / "ran").exists() and "stored Python object" in settings.report()
    assert (tmp_path / ("settings.ini" + SET_ASIDE_SUFFIX)).exists()
    assert PICKED not in path.read_text() and Settings(path).recent_files() == settings.recent_files()


def test_the_guard_reads_escapes_as_qsettings_does():
    # what QSettings 6 itself reads from this value (hex and octal digits are read greedily)
    assert decode_like_qsettings(b'a\\x40g\\100h\\x0040i\\x10040j"k"\\ql\\x4142m') == "a@g@h@i@jkl\u4142m"
    assert holds_stored_object(b"[a]\nk=\\x40Variant(\\0)\n")
    assert not holds_stored_object(b"[recent]\nfiles=/home/me/a.png, /home/me/@home.png\n")
    assert not holds_stored_object(b"[window]\ngeometry=@ByteArray(\\x1\\xd9\\xd0\\xcb)\n")


def test_values_of_the_wrong_type_fall_back_to_their_defaults_with_a_notice(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text("[recent]\nfiles=42, /home/me/ok.png, \n[view]\ntheme=@Rect(1 2 3 4)\n"
                    "[window]\ngeometry=not bytes\n[paths]\nlast_image_dir=a, b\nlast_export_dir=/tmp\n")
    settings = Settings(path)
    assert settings.recent_files() == ["/home/me/ok.png"]
    assert settings.theme() == "light"
    assert settings.window_geometry() is None
    assert settings.value("paths/last_image_dir", "HOME") == "HOME"
    assert settings.value("paths/last_export_dir", "HOME") == "/tmp"
    report = settings.report()
    for words in ("recent files: 2 entries are not a file path", "QRect", "window/geometry", "paths/last_image_dir"):
        assert words in report
    assert Settings(path).problems == []      # the bad values were removed: said once


def test_garbage_bytes_and_a_folder_are_no_settings_file(tmp_path):
    garbage = tmp_path / "garbage.ini"
    garbage.write_bytes(bytes(range(256)) * 8)
    settings = Settings(garbage)
    assert settings.recent_files() == [] and settings.theme() == "light" and settings.window_state() is None
    folder = tmp_path / "a-folder"
    folder.mkdir()
    settings = Settings(folder)
    assert "could not be read" in settings.report() and settings.path != folder
    settings.set_theme("dark")         # the session keeps its settings in a scratch file
    assert settings.theme() == "dark" and list(folder.iterdir()) == []


def test_a_huge_file_is_set_aside_unread(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_bytes(b"[view]\ntheme=dark\n" + b";" * (5 << 20))
    settings = Settings(path)
    assert settings.theme() == "light" and "too large" in settings.report()
    assert (tmp_path / ("settings.ini" + SET_ASIDE_SUFFIX)).exists()


def test_recent_files_are_cut_to_their_size_on_read(tmp_path):
    path = tmp_path / "settings.ini"
    files = [f"/images/{i}.png" for i in range(3 * MAX_RECENT)]
    path.write_text("[recent]\nfiles=" + ", ".join(files) + "\n")
    settings = Settings(path)
    assert settings.recent_files() == files[:MAX_RECENT] and settings.problems == []


def test_the_window_opens_with_a_notice_over_a_bad_layout(make_window):
    window = make_window("[window]\ngeometry=@ByteArray(garbage)\nstate=@ByteArray(more garbage)\n"
                         "[view]\ntheme=purple\n")
    text = window.notice.text()
    assert window.notice.isVisible() and "could not be restored" in text and "purple" in text
    assert window.width() > 0 and all(d.widget() is not None for d in window.docks)


def test_fitting_gives_the_central_tabs_their_share_and_each_dock_its_minimum(make_window, qtbot):
    window = make_window()
    window.resize(1400, 900)
    qtbot.wait(50)
    docks = {d.objectName(): d for d in window.docks}
    docks["attributionDock"].raise_()
    # what a layout saved on a wider screen, or with docks dragged wide, restores to
    window.resizeDocks([docks["modelDock"], docks["attributionDock"]], [900, 900], Qt.Orientation.Horizontal)
    qtbot.wait(50)
    assert window.views.width() < 0.3 * window.width()
    window.fit_docks()
    qtbot.wait(50)
    assert window.views.width() >= 0.38 * window.width()
    for dock in window.docks:
        if not dock.visibleRegion().isEmpty():
            assert dock.width() >= dock.minimumSizeHint().width(), dock.objectName()


def test_the_docks_are_fitted_once_the_window_first_shows(qtbot, tmp_path, monkeypatch):
    from workbench.ui import window as window_module
    fitted = []
    monkeypatch.setattr(window_module, "fit_docks", fitted.append)
    engine = Engine(device="cpu")
    window = MainWindow(engine, Settings(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    assert fitted == []
    window.show()
    qtbot.waitUntil(lambda: fitted == [window])
    engine.shutdown(10000)


def test_an_empty_canvas_tells_a_first_time_user_what_to_do(make_window):
    import numpy as np
    window = make_window()
    hint = window.first_steps
    assert hint.isVisible()
    text = hint.text()
    for words in ("Ctrl+O", "drag and drop", "Samples", "Model dock", "--demo"):
        assert words in text
    centre = hint.geometry().center()
    tab = hint.parentWidget()
    assert abs(centre.x() - tab.width() / 2) <= 2 and abs(centre.y() - tab.height() / 2) <= 2
    window.workspace.set_image(np.zeros((8, 8, 3), np.uint8), "black")
    assert not hint.isVisible()


def test_saved_window_bytes_round_trip(tmp_path):
    settings = Settings(tmp_path / "s.ini")
    settings.save_window(QByteArray(b"\x01\x02geometry"), QByteArray(b"\x00state"))
    again = Settings(tmp_path / "s.ini")
    assert again.window_geometry().data() == b"\x01\x02geometry" and again.window_state().data() == b"\x00state"
    assert again.problems == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="QSettings' native format is an ini file on Linux")
def test_the_default_file_is_where_earlier_versions_kept_it():
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from workbench.ui.settings import APPLICATION, ORGANIZATION, default_path
    assert default_path() == Path(QSettings(ORGANIZATION, APPLICATION).fileName())
