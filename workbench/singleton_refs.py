"""Keep ``True`` and ``None`` alive under PySide6 releases that leak references away from them.

PySide6 6.12.0 drops one reference to ``True`` on every ``Signal.emit`` made from Python and
one reference to ``None`` on every wrapped Qt call that returns nothing (``setRect``,
``setZValue``, ...). Before Python 3.12 these are ordinary refcounted objects, so after a few
thousand calls the interpreter aborts ("bool_dealloc", "none_dealloc"). A reservoir of extra
references, topped up from a timer and never freed, keeps the counts far from zero. It is
switched on only where a short probe sees the leak: never on Python 3.12+ (the singletons are
immortal there), nor on a PySide6 without the bug.
"""
from __future__ import annotations

import ctypes
import functools
import sys

CHUNK = 1_000_000  # references added per top-up and singleton (8 MB)
SINGLETONS = (True, False, None)
PROBE_CALLS = 300
_timer = None


def _hold(value, count: int) -> None:
    """Add ``count`` references to ``value`` that are never given back."""
    # the list is leaked on purpose: freeing it at exit would hand back references the Qt
    # calls already took, and the interpreter would abort while finalizing
    ctypes.pythonapi.Py_IncRef(ctypes.py_object([value] * count))


def measure_leak(calls: int = PROBE_CALLS) -> tuple[int, int]:
    """References lost per call: to ``True`` by ``Signal.emit``, to ``None`` by a void Qt call."""
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        fired = Signal()

    # paid in advance (one reference per call): the probe's own loss could otherwise exceed
    # what a singleton holds in a fresh interpreter and abort it
    for value in (True, None):
        _hold(value, calls)
    probe = Probe()
    emit, set_name = probe.fired.emit, probe.setObjectName
    true_before = sys.getrefcount(True)
    for _ in range(calls):
        emit()
    true_lost = true_before - sys.getrefcount(True)
    none_before = sys.getrefcount(None)
    for _ in range(calls):
        set_name("probe")
    none_lost = none_before - sys.getrefcount(None)
    # rounded, so that a few references taken or freed meanwhile by other code do not count
    return round(true_lost / calls), round(none_lost / calls)


@functools.cache
def leak_per_call() -> tuple[int, int]:
    """``measure_leak()``, measured once per process."""
    return measure_leak()


def needed() -> bool:
    """True where the singletons are refcounted (Python < 3.12) and Qt calls leak them."""
    return sys.version_info < (3, 12) and any(n > 0 for n in leak_per_call())


def top_up() -> None:
    """Add references to each singleton while fewer than one chunk remain."""
    if not needed():
        return
    for value in SINGLETONS:
        if sys.getrefcount(value) < CHUNK:
            _hold(value, CHUNK)


def install(app) -> None:
    """Top up now and once a second for the life of the Qt application; once per process."""
    global _timer
    if not needed() or _timer is not None:
        return
    from PySide6.QtCore import QTimer
    top_up()
    _timer = QTimer(app)
    _timer.timeout.connect(top_up)
    _timer.start(1000)
