"""The layer rules of DESIGN.md: the import-linter contracts in pyproject.toml, the Qt modules each
layer may use, no import circles between modules, and a ui that starts without torch."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections import deque
from pathlib import Path

import grimp  # comes with import-linter (the test extra)
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]

# A subprocess, so that lint-imports reads the tree as CI does and leaves no cache behind.
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(config: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(config), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(cwd)})


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c["id"] for c in CONTRACTS])
def test_import_contract_is_kept(contract):
    out = lint_imports(ROOT / "pyproject.toml", "--contract", contract["id"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{contract['name']} KEPT" in out.stdout


# One import per contract that breaks it, planted in a skeleton of the package.
PLANTED = {
    "layers": ("zoo/planted.py", "from workbench.core import base\n"),
    "core-zoo-no-qt": ("core/planted.py", "def f():\n    from PySide6.QtCore import QObject\n"),
    "engine-no-widgets": ("engine/planted.py", "from workbench import qt_app\n"),
    "figure-no-zoo": ("figure/planted.py", "from workbench.zoo import nets\n"),
    "ui-no-torch": ("ui/planted.py", "import torchvision.ops\n"),
    "no-cycles": ("core/methods/planted.py", "from workbench.core.latent import paths\n"),
}
SKELETON = ["__init__.py", "__main__.py", "app.py", "cli.py", "api.py", "plugins.py", "qt_app.py",
            "singleton_refs.py", "ui/__init__.py", "engine/__init__.py", "figure/__init__.py",
            "core/__init__.py", "core/base.py", "core/methods/__init__.py", "core/latent/__init__.py",
            "core/latent/paths.py", "zoo/__init__.py", "zoo/nets.py"]


def skeleton(root: Path, planted: dict[str, str]) -> Path:
    for name in SKELETON:
        (root / "workbench" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "workbench" / name).write_text("")
    # the other half of the planted circle: core.latent imports core.methods
    (root / "workbench/core/latent/session.py").write_text("from workbench.core import methods\n")
    for name, source in planted.items():
        (root / "workbench" / name).write_text(source)
    config = root / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    return config


def test_the_contracts_catch_a_planted_violation_each(tmp_path):
    assert set(PLANTED) == {c["id"] for c in CONTRACTS}, "plant one violation for every contract"
    clean = lint_imports(skeleton(tmp_path / "clean", {}), cwd=tmp_path / "clean")
    broken = lint_imports(skeleton(tmp_path / "broken", dict(PLANTED.values())), cwd=tmp_path / "broken")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert broken.returncode != 0
    for contract in CONTRACTS:
        assert f"{contract['name']} KEPT" in clean.stdout
        assert f"{contract['name']} BROKEN" in broken.stdout, broken.stdout + broken.stderr
    assert "workbench.ui.planted -> torchvision" in broken.stdout
    assert "workbench.figure.planted -> workbench.zoo.nets" in broken.stdout


# --- Qt modules per layer (import-linter sees only "PySide6", not which of its modules) ---

QT_ROOTS = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")
# layer -> (the Qt modules it and everything it imports may use, modules exempt with their imports)
QT_ALLOWED = {
    "workbench.engine": ({"PySide6", "PySide6.QtCore"}, set()),
    "workbench.figure": ({"PySide6", "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtSvg"},
                         {"workbench.qt_app"}),  # the one QApplication factory, for headless export
}


def qt_imports(source: str) -> list[tuple[str, int]]:
    """(Qt module, line) for every Qt import in the source, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
            if node.module in QT_ROOTS:  # from PySide6 import QtCore, QtWidgets
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in QT_ROOTS:
                found.append((".".join(parts[:2] if parts[0] == "PySide6" else parts[:1]), node.lineno))
    return found


def source_of(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_qt_imports_are_read_per_module_inside_functions_too():
    source = textwrap.dedent("""\
        from PySide6 import QtCore, QtWidgets
        import pyqtgraph.opengl as gl
        def f():
            from PySide6.QtGui import QImage
            import numpy
        """)
    assert sorted(qt_imports(source)) == [("PySide6.QtCore", 1), ("PySide6.QtGui", 4),
                                          ("PySide6.QtWidgets", 1), ("pyqtgraph", 2)]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("workbench", cache_dir=None)


@pytest.mark.parametrize("layer", QT_ALLOWED)
def test_layer_uses_only_its_qt_modules(graph, layer):
    allowed, exempt = QT_ALLOWED[layer]
    start = sorted(m for m in graph.modules if m == layer or m.startswith(layer + "."))
    came_from = {m: None for m in start}
    queue = deque(start)
    while queue:  # everything the layer imports, directly or through other workbench modules
        module = queue.popleft()
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in came_from and imported not in exempt:
                came_from[imported] = module
                queue.append(imported)
    broken = []
    for module in sorted(came_from):
        for name, line in qt_imports(source_of(module).read_text()):
            if name not in allowed:
                chain, step = [], module
                while step:
                    chain.append(step)
                    step = came_from[step]
                where = source_of(module).relative_to(ROOT)
                broken.append(f"{where}:{line} imports {name} (via {' -> '.join(reversed(chain))})")
    assert len(came_from) > len(start) and not broken, "\n".join(broken)


# --- no import circles, module by module ---

def import_cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.find_modules_directly_imported_by(successor)))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


class Graph:
    """Just enough of grimp's graph to check the cycle finder on a known one."""

    def __init__(self, edges):
        self.edges = edges
        self.modules = set(edges) | {m for targets in edges.values() for m in targets}

    def find_modules_directly_imported_by(self, module):
        return set(self.edges.get(module, ()))


def test_the_cycle_finder_finds_circles_and_only_circles():
    known = Graph({"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": ["a"]})
    assert sorted(import_cycles(known)) == [["a", "b", "c"], ["d", "e"]]
    assert import_cycles(Graph({"a": ["b", "c"], "b": ["c"], "c": []})) == []


def test_no_import_circles_between_modules(graph):
    assert len(graph.modules) > 100
    cycles = import_cycles(graph)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


# --- ui starts without torch (the static contract sees only ui's own imports) ---

IMPORT_UI_WITHOUT_TORCH = r"""
import importlib, pkgutil, sys, traceback

class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "captum", "pytorch_grad_cam"):
            raise ImportError(f"torch is blocked: {name}")

sys.meta_path.insert(0, BlockTorch())
import workbench.ui
count = 0
for info in pkgutil.walk_packages(workbench.ui.__path__, "workbench.ui."):
    try:
        importlib.import_module(info.name)
        count += 1
    except Exception as error:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "/workbench/" in f.filename]
        where = " <- ".join(f"{f.filename.split('/workbench/')[-1]}:{f.lineno}" for f in reversed(frames))
        print(f"FAILED {info.name}: {type(error).__name__}: {error} [{where}]")
print("imported", count)
"""


def test_ui_modules_import_without_torch():
    out = subprocess.run([sys.executable, "-c", IMPORT_UI_WITHOUT_TORCH], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    failed = [line for line in out.stdout.splitlines() if line.startswith("FAILED")]
    assert not failed, "\n".join(failed)
    assert int(out.stdout.split()[-1]) >= 20
