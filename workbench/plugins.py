"""Plugin discovery: entry points in group ``workbench.plugins`` and packages in ``plugins/``.

A plugin is a module exposing ``setup(registry)``; it adds methods with ``registry.add`` and
result types with ``workbench.core.renderers.RENDERERS.add``. It may also expose ``panels()``,
the Panel classes it adds to the window, and ``samples()``, a dict of sample image names to
functions that make them. A plugin that fails to import or set up is reported and skipped,
leaving nothing of itself registered; the rest goes on.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Iterator

from workbench.core.failures import describe_failure  # noqa: F401  (part of the plugin-facing surface)
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
    """Run every plugin's setup against the registry; returns one message per plugin that failed.

    A plugin is set up all or nothing: its methods are added to a copy of the registry and its
    renderers and samples undone if anything after them fails, so a plugin that raises (anything,
    ``SystemExit`` included) leaves no trace but its message. Ctrl+C still stops the program."""
    errors = []
    for label, load in _entry_point_plugins() + _folder_plugins():
        try:
            _install(load, registry, label)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin must not take the app down, whatever it raises
            msg = f"plugin {label} was skipped: {describe_failure(exc)}"
            log.warning(msg)
            errors.append(msg)
    return errors


def _install(load: Callable[[], object], registry: Registry, label: str) -> None:
    target = load()
    setup = target if callable(target) and not hasattr(target, "setup") else getattr(target, "setup", None)
    if not callable(setup):
        raise AttributeError("it has no setup(registry) function")
    scratch = Registry()
    for method in registry:
        scratch.add(method)
    first_time = all(module is not target for _, module in _loaded)
    with _renderers_undone_on_failure():
        setup(scratch)
        if first_time:
            _register_samples(target)
    for method in scratch:      # only now, with nothing left that can fail
        if method.name not in registry:
            registry.add(method)
    if first_time:
        _loaded.append((label, target))




@contextmanager
def _renderers_undone_on_failure() -> Iterator[None]:
    """Within the block, every ``RENDERERS.add``/``remove`` is journalled; on an exception they are
    undone in reverse, so the renderers are as before the block."""
    from workbench.core.renderers import RENDERERS
    add, remove = RENDERERS.add, RENDERERS.remove
    undo: list[tuple[type, object]] = []

    def previous(result_type: type) -> object:
        return RENDERERS.for_type(result_type) if result_type in RENDERERS else None

    def journal_add(result_type: type, renderer: object, replace: bool = False) -> None:
        before = previous(result_type) if isinstance(result_type, type) else None
        add(result_type, renderer, replace)
        undo.append((result_type, before))

    def journal_remove(result_type: type) -> None:
        before = previous(result_type)
        remove(result_type)
        undo.append((result_type, before))

    RENDERERS.add, RENDERERS.remove = journal_add, journal_remove
    try:
        yield
    except BaseException:
        for result_type, before in reversed(undo):
            if before is None:
                remove(result_type)
            else:
                add(result_type, before, replace=True)
        raise
    finally:
        del RENDERERS.add, RENDERERS.remove     # the class's own methods again


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
    """The plugin's ``samples()``, all registered or (when one is refused) none."""
    from workbench.core import samples
    make_all = getattr(plugin, "samples", None)
    found = make_all() if callable(make_all) else {}
    if not isinstance(found, dict):
        raise TypeError(f"samples() returned {type(found).__name__}, not a dict of name -> function")
    for name, make in found.items():
        if not isinstance(name, str) or not callable(make):
            raise TypeError(f"sample {name!r}: expected a name and a function that makes the image")
    added: list[str] = []
    try:
        for name, make in found.items():
            samples.register_sample(name, make)
            added.append(name.strip().lower())
    except BaseException:
        for key in added:
            samples.unregister_sample(key)
        raise


def plugin_panels() -> list[type]:
    """The Panel classes of every plugin set up so far (``panels()``); a failing one is logged."""
    found = []
    for label, plugin in list(_loaded):
        panels = getattr(plugin, "panels", None)
        if not callable(panels):
            continue
        try:
            found.extend(list(panels()))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin must not take the window down
            msg = f"plugin {label}: its panels were skipped: {describe_failure(exc)}"
            log.warning(msg)
            _errors.append(msg)
    return found


def registry_job(jc: object) -> Registry:
    """``default_registry`` as an engine job (``engine.submit(key, registry_job)``): building it
    imports torch, so the GUI runs it on the worker."""
    return default_registry()
