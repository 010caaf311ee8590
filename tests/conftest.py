import functools
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

# One thread keeps results reproducible and the suite fast on a small, shared machine.
torch.set_num_threads(1)

import pytest  # noqa: E402

from workbench import singleton_refs  # noqa: E402


@pytest.fixture(autouse=True)
def keep_singletons_alive():
    singleton_refs.top_up()


@pytest.fixture(scope="session")
def qapp():
    """pytest-qt's application, made by the workbench's own factory (named, guard installed)."""
    from workbench.qt_app import application
    return application(headless=True)


@pytest.fixture(scope="session")
def bundled():
    """Bundled models by name, ``bundled("shapes-fcos")``, each loaded once for the whole run."""
    from workbench.core.sources import load_model
    return functools.cache(lambda name: load_model(f"zoo:{name}"))
