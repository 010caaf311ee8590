import subprocess
import sys

EMITS = r"""
from PySide6.QtCore import QCoreApplication, QObject, Signal
from workbench import bool_refs
app = QCoreApplication([])
bool_refs.install(app)

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
