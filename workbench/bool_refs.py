"""Keep ``True`` alive under PySide6 releases that leak references away from it.

PySide6 6.12.0 drops one reference to ``True`` on every ``Signal.emit`` made from Python.
Before Python 3.12 ``True`` is an ordinary refcounted object, so after a few thousand emits
the interpreter aborts ("bool_dealloc"). A reservoir of extra references, topped up from a
timer and never freed, keeps the count far from zero; on Python 3.12+ ``True`` is immortal and this is a no-op.
"""
from __future__ import annotations

import ctypes
import sys

CHUNK = 1_000_000  # references added per top-up (8 MB)
_timer = None


def needed() -> bool:
    return sys.version_info < (3, 12)


def top_up() -> None:
    """Add references to True while fewer than one chunk remain."""
    if needed() and sys.getrefcount(True) < CHUNK:
        chunk = [True] * CHUNK
        # the list is leaked on purpose: freeing it at exit would hand back references
        # that the emits already took, and the interpreter would abort while finalizing
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(chunk))


def install(app) -> None:
    """Top up now and once a second for the life of the Qt application."""
    global _timer
    if not needed() or _timer is not None:
        return
    from PySide6.QtCore import QTimer
    top_up()
    _timer = QTimer(app)
    _timer.timeout.connect(top_up)
    _timer.start(1000)
