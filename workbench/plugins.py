"""Plugin discovery: entry points in group ``workbench.plugins`` and packages in ``plugins/``.

A plugin is a module exposing ``setup(registry)``; it adds methods with ``registry.add`` and
result types with ``workbench.core.renderers.RENDERERS.add``. It may also expose ``panels()``,
the Panel classes it adds to the window, and ``samples()``, a dict of sample image names to
functions that make them. A plugin that fails to import or set up is reported and skipped;
the rest goes on.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from workbench.core.methods import builtin_methods
from workbench.core.registry import Registry

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "workbench.plugins"
PLUGIN_DIRS_ENV = "WORKBENCH_PLUGIN_PATH"

_default: Registry | None = None
_errors: list[str] = []
_loaded: list[tuple[str, object]] = []   # (label, module) of every plugin set up


def plugin_dirs() -> list[Path]:
    """The project's plugins/ folder plus any folders named in WORKBENCH_PLUGIN_PATH."""
    dirs = [Path(__file__).resolve().parent.parent / "plugins"]
    dirs += [Path(p) for p in os.environ.get(PLUGIN_DIRS_ENV, "").split(os.pathsep) if p]
    return [d for d in dirs if d.is_dir()]


def _folder_plugins() -> list[tuple[str, Callable[[], object]]]:
    found = []
    for folder in plugin_dirs():
        for pkg in sorted(folder.iterdir()):
            if (pkg / "__init__.py").is_file() and not pkg.name.startswith((".", "_")):
                found.append((f"{pkg.name} ({folder})", lambda pkg=pkg: _import_package(pkg)))
    return found


def _import_package(pkg: Path) -> object:
    name = f"workbench_plugin_{pkg.name}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _entry_point_plugins() -> list[tuple[str, Callable[[], object]]]:
    return [(f"{ep.name} ({ep.value})", ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def load_plugins(registry: Registry) -> list[str]:
    """Run every plugin's setup against the registry; returns one message per plugin that failed."""
    errors = []
    for label, load in _entry_point_plugins() + _folder_plugins():
        try:
            target = load()
            setup = target if callable(target) and not hasattr(target, "setup") else getattr(target, "setup", None)
            if setup is None:
                raise AttributeError("it has no setup(registry) function")
            setup(registry)
            if all(module is not target for _, module in _loaded):
                _register_samples(target)
                _loaded.append((label, target))
        except Exception as exc:  # a broken plugin must not take the app down
            msg = f"plugin {label} was skipped: {type(exc).__name__}: {exc}"
            log.warning(msg)
            errors.append(msg)
    return errors


def default_registry() -> Registry:
    """The built-in methods plus every plugin that loads (built once per process)."""
    global _default, _errors
    if _default is None:
        reg = Registry()
        for method in builtin_methods():
            reg.add(method)
        _errors = load_plugins(reg)
        _default = reg
    return _default


def plugin_errors() -> list[str]:
    default_registry()
    return list(_errors)


def _register_samples(plugin: object) -> None:
    from workbench.core.samples import register_sample
    make_all = getattr(plugin, "samples", None)
    for name, make in (make_all() if callable(make_all) else {}).items():
        register_sample(name, make)


def plugin_panels() -> list[type]:
    """The Panel classes of every plugin set up so far (``panels()``); a failing one is logged."""
    found = []
    for label, plugin in list(_loaded):
        panels = getattr(plugin, "panels", None)
        if not callable(panels):
            continue
        try:
            found.extend(panels())
        except Exception as exc:  # a broken plugin must not take the window down
            msg = f"plugin {label}: its panels were skipped: {type(exc).__name__}: {exc}"
            log.warning(msg)
            _errors.append(msg)
    return found


def registry_job(jc: object) -> Registry:
    """``default_registry`` as an engine job (``engine.submit(key, registry_job)``): building it
    imports torch, so the GUI runs it on the worker."""
    return default_registry()
