import subprocess
import sys

BLOCK_AND_IMPORT = r"""
import importlib, pkgutil, sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, BlockQt())
import workbench.core, workbench.zoo
count = 0
for pkg in (workbench.core, workbench.zoo):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
        count += 1
from workbench.core.methods import builtin_methods
builtin_methods()
assert not any(m.split(".")[0] in ("PySide6", "pyqtgraph") for m in sys.modules)
print("imported", count)
"""


def test_core_and_zoo_import_without_qt():
    out = subprocess.run([sys.executable, "-c", BLOCK_AND_IMPORT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) >= 10
