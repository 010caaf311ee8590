"""Built-in methods: one module each; every public module here exposes ``METHOD``.

Modules whose names start with an underscore are shared helpers, not methods.
"""
from __future__ import annotations

import importlib
import pkgutil


def builtin_methods() -> list:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}").METHOD for name in names]
