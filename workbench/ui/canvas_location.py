"""A click on the image chooses where a method looks, for methods whose Params name the fields a
click sets (``canvas_location``, e.g. the anchors method's ``("x", "y")``, in image pixels).

The Method panel's form takes the clicked point as one change, so "Run on every change" runs the
method there; without it, a click runs the method again when the image view already shows its
result (the first run is the user's, with Run).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker

from workbench.core.renderers import IMAGE


def location_fields(method: Any) -> tuple[str, str] | None:
    """The (x, y) fields of ``method``'s Params that a click on the image sets, or None."""
    fields = getattr(getattr(method, "params", None), "canvas_location", None)
    return tuple(fields) if fields and len(fields) == 2 else None


class ClickLocation(QObject):
    """Sends the canvas's clicks to the Method panel's form (``panel``: a MethodPanel)."""

    def __init__(self, panel: Any, canvas: Any) -> None:
        super().__init__(panel)
        self.panel = panel
        canvas.clicked.connect(self.on_click)

    def on_click(self, x: float, y: float) -> bool:
        """Set the chosen method's location to (x, y) and run it there; False when the method
        reads no location or there is no image."""
        panel = self.panel
        method = panel.current_method()
        fields = location_fields(method)
        ws = panel.workspace
        if fields is None or ws is None or ws.image is None:
            return False
        h, w = ws.image.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return False
        shown = ws.result(IMAGE)
        rerun = shown is not None and shown.method == method.name
        with QSignalBlocker(panel.form):
            panel.form.set_values(dict(zip(fields, (float(x), float(y)))))
        panel.form.changed.emit()       # one change: "Run on every change" runs it once
        if rerun and not panel.auto_run.isChecked():
            panel.request_run()
        return True
