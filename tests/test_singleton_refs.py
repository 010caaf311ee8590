"""Thousands of Qt calls that leak a reference to True or None neither crash nor abort at exit."""
import subprocess
import sys

import pytest

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
