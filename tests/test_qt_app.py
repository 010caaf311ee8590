"""One Qt application per process, made by one factory, named, with the singleton guard once."""
import os
import subprocess
import sys

from PySide6.QtCore import QTimer

from workbench import singleton_refs
from workbench.figure import render
from workbench.qt_app import application

FRESH = r"""
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench import singleton_refs
from workbench.figure import render
from workbench.qt_app import application

app = application(headless=True)
timer = singleton_refs._timer
assert application() is app and render.ensure_gui_app() is app and application(headless=True) is app
assert isinstance(app, QApplication) and app.platformName() == "offscreen"
assert (app.applicationName(), app.organizationName()) == ("CV Workbench", "cv-workbench")
if singleton_refs.needed():
    assert singleton_refs._timer is timer and timer.isActive() and timer.parent() is app
assert len(app.findChildren(QTimer)) == (1 if singleton_refs.needed() else 0)
print("ok")
"""

EXISTING = r"""
from PySide6.QtWidgets import QApplication
from workbench import singleton_refs
from workbench.qt_app import application

mine = QApplication(["mine", "-platform", "offscreen"])
mine.setApplicationName("mine")
assert application() is mine and mine.applicationName() == "mine"
assert (singleton_refs._timer is not None and singleton_refs._timer.parent() is mine) == singleton_refs.needed()
print("ok")
"""


def run_fresh(code):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.strip() == "ok"


def test_the_factory_makes_one_named_headless_app_and_installs_the_guard_once():
    run_fresh(FRESH)


def test_the_factory_adopts_a_running_app_without_renaming_it():
    run_fresh(EXISTING)


def test_the_tests_app_comes_from_the_factory(qapp):
    assert application() is qapp and render.ensure_gui_app() is qapp
    assert qapp.applicationName() == "CV Workbench"
    guards = [t for t in qapp.findChildren(QTimer) if t is singleton_refs._timer]
    assert len(guards) == (1 if singleton_refs.needed() else 0)
