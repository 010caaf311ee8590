"""Thousands of Qt calls that leak a reference to True or None neither crash nor abort at exit;
the guard is on exactly where a probe sees the leak."""
import os
import subprocess
import sys

import PySide6
import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from workbench import singleton_refs

EMITS = r"""
from PySide6.QtCore import QCoreApplication, QObject, Signal
from workbench import singleton_refs
app = QCoreApplication([])
singleton_refs.install(app)

class Source(QObject):
    fired = Signal(str)

source = Source()
for _ in range(50_000):
    source.fired.emit("x")
print("survived")
"""

VOID_CALLS = r"""
from PySide6.QtWidgets import QApplication, QGraphicsRectItem
from workbench import singleton_refs
app = QApplication(["t", "-platform", "offscreen"])
singleton_refs.install(app)
item = QGraphicsRectItem()
for i in range(50_000):
    item.setRect(0, 0, i, i)
print("survived")
"""

ENGINE_COVERS = r"""
from PySide6.QtWidgets import QApplication, QGraphicsRectItem
from workbench.engine import Engine
app = QApplication(["t", "-platform", "offscreen"])
engine = Engine(device="cpu")
item = QGraphicsRectItem()
for i in range(50_000):
    item.setRect(0, 0, i, i)
engine.shutdown(5000)
print("survived")
"""


@pytest.mark.parametrize("script", [EMITS, VOID_CALLS, ENGINE_COVERS],
                         ids=["signal emits", "calls returning nothing", "an engine installs the cover"])
def test_leaky_calls_neither_crash_nor_abort_at_exit(script):
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "survived"


def direct_leak(calls=2000):
    """References lost per call, measured with other Qt calls than the probe's."""
    class Source(QObject):
        fired = Signal(int)

    source, timer = Source(), QTimer()
    before = sys.getrefcount(True)
    for i in range(calls):
        source.fired.emit(i)
    true_lost = before - sys.getrefcount(True)
    before = sys.getrefcount(None)
    for i in range(calls):
        timer.setInterval(i)
    none_lost = before - sys.getrefcount(None)
    return round(true_lost / calls), round(none_lost / calls)


def test_the_probe_measures_what_qt_calls_leak():
    assert singleton_refs.measure_leak() == direct_leak()
    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        assert singleton_refs.leak_per_call() == (1, 1) and singleton_refs.needed()


def test_the_probe_gives_back_what_it_takes():
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    singleton_refs.measure_leak(calls=1000)
    assert sys.getrefcount(True) >= true_before and sys.getrefcount(None) >= none_before
    # without the reservoir, 30,000 lost references would abort the interpreter
    code = "from workbench import singleton_refs\nfor _ in range(30): singleton_refs.measure_leak(1000)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-500:]


@pytest.mark.parametrize("leak, version, expected", [((0, 0), (3, 11), False), ((1, 0), (3, 11), True),
                                                     ((0, 1), (3, 11), True), ((1, 1), (3, 12), False)])
def test_needed_only_where_refcounts_are_mortal_and_the_probe_sees_a_loss(monkeypatch, leak, version, expected):
    monkeypatch.setattr(singleton_refs, "leak_per_call", lambda: leak)
    monkeypatch.setattr(singleton_refs.sys, "version_info", version)
    assert singleton_refs.needed() is expected


def test_without_a_leak_nothing_is_added_or_installed(monkeypatch, qapp):
    monkeypatch.setattr(singleton_refs, "leak_per_call", lambda: (0, 0))
    monkeypatch.setattr(singleton_refs, "_timer", None)
    monkeypatch.setattr(singleton_refs, "CHUNK", 10**12)   # a top-up would be due, were it needed
    before = sys.getrefcount(None)
    singleton_refs.top_up()
    singleton_refs.install(qapp)
    assert singleton_refs._timer is None and sys.getrefcount(None) - before < 10


EXPORT_LOOP = r"""
import sys
from PySide6.QtCore import QObject, QPoint, Signal
from workbench import singleton_refs
from workbench.figure.render import ensure_gui_app, write_figure

class Source(QObject):
    fired = Signal()

source = Source()

def paint(painter):
    for i in range(CALLS):
        painter.drawPoint(QPoint(i % 4, 0))   # returns nothing: leaks None
        source.fired.emit()                    # leaks True

ensure_gui_app()   # installs the timer, which never fires: no event loop runs here
lowest = sys.maxsize
for i in range(FIGURES):
    write_figure(PATH, (4, 4), paint)
    lowest = min(lowest, sys.getrefcount(True), sys.getrefcount(None))
print(lowest)
"""


def test_a_headless_export_loop_without_an_event_loop_cannot_drain_the_reservoir(tmp_path):
    # these leaky calls outlast one reservoir (CHUNK) unless each export tops it up
    figures, calls = 1200, 1000
    code = (EXPORT_LOOP.replace("FIGURES", str(figures)).replace("CALLS", str(calls))
            .replace("PATH", repr(str(tmp_path / "f.png"))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-500:]
    if singleton_refs.needed():
        assert figures * calls > singleton_refs.CHUNK
        assert int(out.stdout) > singleton_refs.CHUNK // 2
