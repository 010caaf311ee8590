"""Import torch on the worker thread without stalling the UI thread.

``import torch`` holds the interpreter lock for 100-300 ms at a time in two places, and the UI
thread, which needs the lock to run any Python slot, freezes for as long:

- loading shared libraries: Python loads extension modules (``torch._C``, and through it the
  400+ MB libtorch_cpu and libtorch_cuda) and ctypes loads libraries (torch's CUDA dependencies)
  with the lock held. Here the libraries load through a ctypes *call* of ``dlopen``, which
  releases the lock while the loader maps and initialises them;
- garbage collection: the import makes ~200,000 objects, enough to set off full collections.
  The collector waits until the import is over, and the objects alive then are frozen: they live
  as long as the process, and unfrozen every later full collection would scan them again.

The libraries load in the order torch loads them (its global dependencies first, then
``torch._C``'s), from the same paths, so they resolve exactly as a plain import would.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.abc
import os
import sys
from typing import Any, Callable, Iterator

TORCH_LIBRARIES = ("libtorch_cpu.so", "libtorch_cuda.so")   # the bulk of torch._C's dependencies


def import_torch_sparing_the_ui() -> None:
    """Import torch (once; a no-op when it is imported already)."""
    if "torch" in sys.modules:
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _libraries_load_without_the_lock():
            import torch  # noqa: F401
    finally:
        if "torch" in sys.modules:
            gc.freeze()
        if collecting:
            gc.enable()


@contextlib.contextmanager
def _libraries_load_without_the_lock() -> Iterator[None]:
    dlopen = _unlocked_dlopen()
    if dlopen is None:           # not glibc-like (macOS, Windows): torch imports as usual
        yield
        return
    preloader = _TorchLibrariesFirst(dlopen)
    saved = ctypes._dlopen
    ctypes._dlopen = dlopen      # ctypes.CDLL looks this name up on every call
    sys.meta_path.insert(0, preloader)
    try:
        yield
    finally:
        sys.meta_path.remove(preloader)
        ctypes._dlopen = saved


class _TorchLibrariesFirst(importlib.abc.MetaPathFinder):
    """When torch asks for ``torch._C``, loads its largest libraries first; finds nothing itself."""

    def __init__(self, dlopen: Callable[[str, int], int]) -> None:
        self._dlopen = dlopen

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch._C" and path:
            lib = os.path.join(list(path)[0], "lib")
            for library in TORCH_LIBRARIES:
                with contextlib.suppress(OSError):   # torch's own import reports a library that fails
                    self._dlopen(os.path.join(lib, library), os.RTLD_NOW | os.RTLD_LOCAL)
        return None


def _unlocked_dlopen() -> Callable[[str | None, int], int] | None:
    """``_ctypes.dlopen`` (same arguments, result and errors), run as a ctypes call: ctypes
    releases the interpreter lock while a foreign function runs."""
    try:
        libc = ctypes.CDLL(None)
        c_dlopen, c_dlerror = libc.dlopen, libc.dlerror
    except (AttributeError, OSError, TypeError):
        return None
    c_dlopen.restype, c_dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    c_dlerror.restype, c_dlerror.argtypes = ctypes.c_char_p, []

    def dlopen(name: str | None, mode: int = os.RTLD_NOW | os.RTLD_LOCAL) -> int:
        handle = c_dlopen(None if name is None else os.fsencode(name), mode | os.RTLD_NOW)
        if not handle:
            error = c_dlerror()
            raise OSError(error.decode(errors="replace") if error else "dlopen() error")
        return handle

    return dlopen
