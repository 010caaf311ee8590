"""The process's one Qt application, for the GUI, figure export and the tests."""
from __future__ import annotations

import sys
from typing import Sequence

from PySide6.QtWidgets import QApplication

from workbench import singleton_refs

APPLICATION_NAME = "CV Workbench"
ORGANIZATION_NAME = "cv-workbench"


def application(argv: Sequence[str] | None = None, headless: bool = False) -> QApplication:
    """The running application, or a new widgets QApplication (``headless``: offscreen).

    A new one is named for the workbench; either way the singleton guard is installed on it.
    A widgets QApplication rather than a bare QGuiApplication, so that widgets can still be
    made later in the same process (tests, notebooks).
    """
    app = QApplication.instance()
    if app is None:
        args = list(sys.argv[:1] if argv is None else argv) or ["workbench"]
        if headless:
            args += ["-platform", "offscreen"]
        app = QApplication(args)
        app.setApplicationName(APPLICATION_NAME)
        app.setOrganizationName(ORGANIZATION_NAME)
    singleton_refs.install(app)
    return app
