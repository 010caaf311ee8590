"""Writes that cannot lose work: a failed or interrupted write leaves the previous file byte for
byte and no temporary file behind, for every writer of a user's file."""
import errno
import os

import numpy as np
import pytest

from workbench.core import atomic
from workbench.core.atomic import atomic_open, atomic_path, write_text_atomic
from workbench.core.results import Heatmap

OLD = b"the previous file, which must survive"


class Boom(RuntimeError):
    pass


def _previous(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(OLD)
    return path


def _only(tmp_path, *names):
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = _previous(tmp_path, "a.json")
    assert write_text_atomic(path, '{"a": 1}') == path
    assert path.read_text() == '{"a": 1}'
    _only(tmp_path, "a.json")


@pytest.mark.parametrize("error", [Boom("midway"), KeyboardInterrupt(), SystemExit(1)])
def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path, error):
    path = _previous(tmp_path, "a.bin")
    with pytest.raises(type(error)):
        with atomic_open(path) as fh:
            fh.write(b"half of the new")
            raise error
    assert path.read_bytes() == OLD
    _only(tmp_path, "a.bin")


def test_a_new_file_that_fails_leaves_no_file_at_all(tmp_path):
    with pytest.raises(Boom):
        with atomic_path(tmp_path / "new.png") as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".")
            tmp.write_bytes(b"partial")
            raise Boom()
    _only(tmp_path)


def test_a_disk_error_names_the_file_not_the_temporary_one(tmp_path):
    path = _previous(tmp_path, "a.npz")
    with pytest.raises(OSError, match="No space left") as info:
        with atomic_open(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert info.value.filename == str(path) and info.value.errno == errno.ENOSPC
    assert path.read_bytes() == OLD
    _only(tmp_path, "a.npz")


def test_a_missing_folder_or_a_folder_as_the_file_is_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere does not exist"):
        write_text_atomic(tmp_path / "nowhere" / "a.json", "x")
    (tmp_path / "d.json").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        write_text_atomic(tmp_path / "d.json", "x")
    _only(tmp_path, "d.json")


def test_the_file_keeps_its_permissions_and_a_symlink_stays_a_link(tmp_path):
    real = _previous(tmp_path, "real.json")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640
    _only(tmp_path, "real.json", "link.json")


def test_a_failed_rename_leaves_the_previous_file(tmp_path, monkeypatch):
    path = _previous(tmp_path, "a.json")

    def no_rename(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(atomic.os, "replace", no_rename)
    with pytest.raises(PermissionError):
        write_text_atomic(path, "new")
    assert path.read_bytes() == OLD
    _only(tmp_path, "a.json")


def _heatmap():
    return Heatmap(method="m", model="zoo:x", heatmap=np.ones((4, 4), np.float32), target=1)


def test_save_npz_that_fails_midway_keeps_the_previous_npz(tmp_path, monkeypatch):
    path = tmp_path / "r.npz"
    _heatmap().save_npz(path)
    before = path.read_bytes()
    real_savez = np.savez_compressed

    def fails_midway(fh, **arrays):
        real_savez(fh, **arrays)      # the whole archive is out, then the disk "fails"
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(np, "savez_compressed", fails_midway)
    with pytest.raises(OSError, match=r"r\.npz"):
        Heatmap(method="other", heatmap=np.zeros((9, 9), np.float32)).save_npz(path)
    assert path.read_bytes() == before
    _only(tmp_path, "r.npz")
    assert int(np.load(path)["target"]) == 1


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_a_figure_whose_painting_fails_keeps_the_previous_figure(tmp_path, suffix):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor

    from workbench.figure.render import write_figure
    path = tmp_path / f"fig{suffix}"
    write_figure(path, (40, 30), lambda p: p.fillRect(QRectF(0, 0, 20, 20), QColor(255, 0, 0)), "first")
    before = path.read_bytes()
    assert len(before) > 0

    def paints_then_fails(painter):
        painter.fillRect(QRectF(0, 0, 40, 30), QColor(0, 0, 255))
        raise Boom("the painter failed")

    with pytest.raises(Boom):
        write_figure(path, (80, 60), paints_then_fails, "second")
    assert path.read_bytes() == before
    _only(tmp_path, f"fig{suffix}")


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_a_figure_is_written_complete_under_its_own_name(tmp_path, suffix):
    from workbench.figure.render import write_figure
    path = write_figure(tmp_path / f"fig{suffix}", (40, 30), lambda p: None, "t")
    data = path.read_bytes()
    assert data.startswith({".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix])
    if suffix == ".pdf":
        assert data.rstrip().endswith(b"%%EOF")
    _only(tmp_path, f"fig{suffix}")


def test_the_window_keeps_the_previous_params_json_when_its_write_fails(qtbot, tmp_path, monkeypatch):
    from workbench.engine import Engine
    from workbench.ui.settings import Settings
    from workbench.ui.window import MainWindow
    monkeypatch.setenv("WORKBENCH_SETTINGS", str(tmp_path / "settings.ini"))
    out = tmp_path / "out"
    out.mkdir()
    engine = Engine(device="cpu")
    window = MainWindow(engine, Settings())
    qtbot.addWidget(window)
    result = _heatmap()
    monkeypatch.setattr(window.current_panel(), "current_result", lambda: result)
    assert window.export_result(str(out / "r.npz")) == out / "r.npz"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"r.npz", "r.json"} and b'"method": "m"' in before["r.json"]

    def fsync_fails(path):
        if path.suffix == ".json":
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(atomic, "_fsync_file", fsync_fails)
    result.method = "changed"
    assert window.export_result(str(out / "r.npz")) is None
    assert (out / "r.json").read_bytes() == before["r.json"]
    assert sorted(p.name for p in out.iterdir()) == ["r.json", "r.npz"]
    assert "Could not save r.npz" in window.status.notice.text()
    engine.shutdown(10000)
