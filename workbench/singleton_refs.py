"""Keep ``True`` and ``None`` alive under PySide6 releases that leak references away from them.

PySide6 6.12.0 drops one reference to ``True`` on every ``Signal.emit`` made from Python and
one reference to ``None`` on every wrapped Qt call that returns nothing (``setRect``,
``setZValue``, ...). Before Python 3.12 these are ordinary refcounted objects, so after a few
thousand calls the interpreter aborts ("bool_dealloc", "none_dealloc"). A reservoir of extra
references, topped up from a timer and never freed, keeps the counts far from zero; on Python
3.12+ the singletons are immortal and this is a no-op.
"""
from __future__ import annotations

import ctypes
import sys

CHUNK = 1_000_000  # references added per top-up and singleton (8 MB)
SINGLETONS = (True, False, None)
_timer = None


def needed() -> bool:
    return sys.version_info < (3, 12)


def top_up() -> None:
    """Add references to each singleton while fewer than one chunk remain."""
    if not needed():
        return
    for value in SINGLETONS:
        if sys.getrefcount(value) < CHUNK:
            chunk = [value] * CHUNK
            # leaked on purpose: freeing it at exit would hand back references the Qt
            # calls already took, and the interpreter would abort while finalizing
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
