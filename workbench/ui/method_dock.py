"""The Method panel: the methods for the workspace's model, a form for the chosen one, and Run.

Attribution methods are not here: they run from the Attribution panel, which also holds the
target (its class table writes the workspace's target; a method here that uses one gets it).
Results go to the workspace (``workspace.show``), partial ones as they come; the views that
show them follow the workspace.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from workbench import plugins
from workbench.core.attribution.methods import ATTRIBUTION
from workbench.core.renderers import IMAGE, renderer_for
from workbench.core.results import Result
from workbench.ui.canvas_location import ClickLocation
from workbench.ui.method_combo import MethodCombo
from workbench.ui.forms import ParamsForm
from workbench.ui.panel import LEFT, Panel

REGISTRY_KEY = "registry"
METHOD_KEY = "method"
LAYER_CHOICES = ("layers", "conv_layers")
ATTRIBUTION_PANEL = "attributionDock"


class MethodPanel(Panel):
    title = "Method"
    area = LEFT
    object_name = "methodDock"


    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self._shown_method: str | None = None
        self._run: Any = None             # the ticket of the latest run

        self.combo = MethodCombo("methodCombo")
        self.combo.currentIndexChanged.connect(self._on_method_changed)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form = ParamsForm()
        self.form.changed.connect(self._on_params_changed)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        self.attribution_note = QLabel("Attribution methods (saliency, Grad-CAM, occlusion…) "
                                       "are in the Attribution dock")
        self.attribution_note.setWordWrap(True)
        self.attribution_button = QPushButton("Attribution")
        self.attribution_button.setObjectName("showAttribution")
        self.attribution_button.setToolTip("Show the Attribution dock")
        self.attribution_button.clicked.connect(lambda: self.raisePanel.emit(ATTRIBUTION_PANEL))
        self.auto_run = QCheckBox("Run on every change")
        self.auto_run.setObjectName("autoRun")
        self.auto_run.setToolTip("Run again whenever a parameter or the image changes")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Run the method (Ctrl+R)")
        self.run_button.clicked.connect(self.request_run)

        note_row = QHBoxLayout()
        note_row.addWidget(self.attribution_note, 1)
        note_row.addWidget(self.attribution_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.auto_run)
        layout.addWidget(self.run_button)
        layout.addLayout(note_row)

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.registryChanged.connect(self._refresh_methods)
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.layerChanged.connect(self.use_layer)
        self.click_location = ClickLocation(self, canvas)   # a click sets a location-reading method's x, y
        self._on_model(workspace.handle)

    # --- registry and model --------------------------------------------------------
    def load_registry(self) -> Any:
        """Build the registry (built-ins and plugins) on the worker: it imports torch. The
        workspace gets it; returns the ticket."""
        ticket = self.engine.submit(REGISTRY_KEY, plugins.registry_job)
        ticket.done.connect(self._on_registry)
        return ticket

    def _on_registry(self, registry: Any) -> None:
        self.workspace.set_registry(registry)
        for error in plugins.plugin_errors():
            self.message.emit(error)

    def _on_model(self, handle: Any) -> None:
        self._stop_run()    # a result still coming was made with the previous model
        self.form.set_handle(handle)
        self._refresh_methods()

    def method_names(self) -> list[str]:
        return self.combo.names()

    def select_method(self, name: str) -> None:
        self.combo.select(name)

    def current_method(self) -> Any:
        return self.combo.current(self.workspace.registry if self.workspace is not None else None)

    def use_layer(self, name: str) -> bool:
        """Make ``name`` the method's layer (the workspace's layer, double-clicked in the Model panel), in the
        first layer field whose choices hold it; False when none does."""
        for spec in self.form.specs():
            if spec.choices in LAYER_CHOICES:
                try:
                    self.form.set_values({spec.name: name})
                    return True
                except ValueError:
                    continue
        return False

    # --- running -------------------------------------------------------------------
    def request_run(self) -> Any:
        """Run the chosen method on the workspace's model and image; its results (partial
        ones too) go to the workspace. Returns the ticket, or None with a message saying what
        is missing."""
        ws = self.workspace
        method = self.current_method()
        if ws.handle is None:
            return self._refuse("Load a model first")
        if method is None:
            return self._refuse("Choose a method first" if ws.registry is not None
                                else "The methods are still loading")
        if method.needs_image and ws.image is None:
            return self._refuse(f"Open an image first: {method.title or method.name} runs on one")
        ticket = self.engine.run_method(METHOD_KEY, method, ws.handle, ws.image, self.form.values(), ws.target)
        ticket.partial.connect(self._show)
        ticket.done.connect(self._show)
        self._run = ticket
        return ticket

    def _refuse(self, text: str) -> None:
        self.message.emit(text)
        return None

    def _show(self, result: Any) -> None:
        if isinstance(result, Result):
            # a result no view draws goes to the image view, which says so and exports it
            self.workspace.show(result, renderer_for(result).view or IMAGE)

    def _stop_run(self) -> None:
        if self._run is not None and not self._run.ended:
            self._run.cancel()
        self._run = None

    def _on_image(self, _image: Any) -> None:
        if self.auto_run.isChecked() and self.workspace.handle is not None and self.current_method() is not None:
            self.request_run()     # supersedes a run on the previous image
        else:
            self._stop_run()       # a result still coming was made for the previous image

    # --- internals -----------------------------------------------------------------
    def _refresh_methods(self, *_: Any) -> None:
        handle, registry = self.workspace.handle, self.workspace.registry
        if registry is None:
            found = []
        elif handle is None:
            found = registry.for_task(None)
        else:
            found = registry.for_model(handle.task, handle.module)
        methods = [m for m in found if m.kind != ATTRIBUTION]
        self.combo.fill(methods, "(load a model)" if registry is not None else "(loading methods…)")
        self.run_button.setEnabled(bool(methods) and handle is not None)

    def _on_method_changed(self, _index: int = -1) -> None:
        method = self.current_method()
        if method is not None and self._shown_method == method.name:
            return
        self._shown_method = method.name if method is not None else None
        self.form.set_params(method.params if method is not None else None)
        self.description.setText(method.description if method is not None else "")

    def _on_params_changed(self) -> None:
        if self.auto_run.isChecked():
            self.request_run()
