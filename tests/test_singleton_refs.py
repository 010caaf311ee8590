import subprocess
import sys

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


def test_many_signal_emits_neither_crash_nor_abort_at_exit():
    out = subprocess.run([sys.executable, "-c", EMITS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "survived"


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


def test_many_qt_calls_returning_nothing_neither_crash_nor_abort_at_exit():
    out = subprocess.run([sys.executable, "-c", VOID_CALLS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "survived"


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


def test_creating_an_engine_covers_the_application():
    out = subprocess.run([sys.executable, "-c", ENGINE_COVERS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "survived"
