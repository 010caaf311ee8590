"""The main window: the panels from one list, menus, status bar, export; it relays nothing.

Panels talk through the workspace (``QtWorkspace``) and the engine's tickets. The window lays
the panels out (central tabs and docks), brings forward the panel that shows a new result,
and asks the current tab for its figure on File > Export Figure and Edit > Copy.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMainWindow, QTabWidget

from workbench.ui import image_io, theme
from workbench.ui.batch.dialog import run_batch_dialog
from workbench.ui.canvas import Canvas
from workbench.ui.export_dialog import ask_save_path
from workbench.ui.first_steps import FirstStepsHint
from workbench.ui.lazy_tab import LazyTab
from workbench.ui.panel import BOTTOM, LEFT, RIGHT, TAB, Panel
from workbench.ui.panels import PANELS, Deferred, resolve, wanted
from workbench.ui.settings import THEMES, Settings
from workbench.ui.status import JobStatus, Notice
from workbench.ui.window_layout import default_dock_widths, default_size, fit_docks
from workbench.ui.workspace_signals import QtWorkspace

STATUS_MS = 6000
DOCK_AREAS = {LEFT: Qt.DockWidgetArea.LeftDockWidgetArea, RIGHT: Qt.DockWidgetArea.RightDockWidgetArea,
              BOTTOM: Qt.DockWidgetArea.BottomDockWidgetArea}


class MainWindow(QMainWindow):
    firstShown = Signal()          # once, after the window has first been painted

    def __init__(self, engine: QObject | None = None, settings: Settings | None = None,
                 workspace: QtWorkspace | None = None):
        super().__init__()
        self.setWindowTitle("CV Workbench")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        if engine is None:
            from workbench.engine import Engine
            engine = Engine()
        self.engine = engine
        self.workspace = workspace if workspace is not None else QtWorkspace(parent=self)
        self._shown = False

        self.canvas = Canvas()
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        # with the docks open fourteen tabs outgrow the bar: their names stay whole (elided to fit,
        # most would keep one letter) and the bar scrolls; View lists every tab with its shortcut
        self.views.setElideMode(Qt.TextElideMode.ElideNone)
        self.views.setUsesScrollButtons(True)
        self.setCentralWidget(self.views)
        self.notice = Notice(self.views)
        self.status = JobStatus(self.statusBar(), engine, self.notice)
        self.panels: list[Panel] = []         # every panel, central tabs (LazyTab stand-ins) and docks
        self.tabs: list[Panel] = []
        self.docks: list[QDockWidget] = []
        self._deferred: dict[Panel, Deferred] = {}
        self.setTabPosition(DOCK_AREAS[RIGHT], QTabWidget.TabPosition.East)  # room for every dock's title
        for entry in PANELS:
            self.add_panel(entry)
        self._raise_first_right_dock()

        self.images = image_io.ImageOpener(self, self.settings)
        self.images.opened.connect(self.workspace.set_image)
        self.images.opened.connect(self._on_image_opened)
        self.images.failed.connect(self.status.show_error)
        self.workspace.resultChanged.connect(self._bring_forward)
        self.workspace.modelChanged.connect(self._on_model)
        self.workspace.registryChanged.connect(self._add_plugin_panels)

        self._build_menus()
        self._restore()
        self.first_steps = FirstStepsHint(self.views.widget(0), self.workspace)
        if self.settings.problems:
            self.status.show_note(self.settings.report())

    # --- panels --------------------------------------------------------------------
    def add_panel(self, entry: "str | Deferred | type[Panel]") -> Panel:
        """Build a panel from a PANELS entry or a Panel class, bind it and lay it out."""
        if isinstance(entry, Deferred):
            panel: Panel = LazyTab(entry.title, entry.object_name, lambda e=entry: self._build(resolve(e.path)))
            self._deferred[panel] = entry
        else:
            panel = self._build(resolve(entry) if isinstance(entry, str) else entry)
        panel.message.connect(self.status.show_note)
        panel.statusMessage.connect(lambda text: self.statusBar().showMessage(text, STATUS_MS))
        panel.raiseRequested.connect(lambda p=panel: self._raise(p))
        panel.raisePanel.connect(self._raise_named)
        self.panels.append(panel)
        if panel.area == TAB:
            self.tabs.append(panel)
            index = self.views.addTab(panel, panel.title)
            self.views.setTabToolTip(index, panel.title)     # the title in full where the bar elides it
        else:
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(panel.object_name or type(panel).__name__)
            dock.setWidget(panel)
            if not self.restoreDockWidget(dock):   # a plugin's dock goes back where the user left it
                self._place(dock, DOCK_AREAS.get(panel.area, DOCK_AREAS[RIGHT]))
            self.docks.append(dock)
            if hasattr(self, "_docks_menu"):
                self._docks_menu.addAction(dock.toggleViewAction())
        return panel

    def _build(self, cls: type) -> Panel:
        panel = cls()
        if not panel.objectName():
            panel.setObjectName(panel.object_name or cls.__name__)
        panel.bind(self.workspace, self.engine, self.canvas)
        return panel

    def panel(self, object_name: str) -> Panel:
        """The panel with this object name (a deferred tab's panel is built on the way)."""
        for p in self.panels:
            if p.object_name == object_name:
                return p.ensure_built() if isinstance(p, LazyTab) else p
        raise KeyError(f"no panel {object_name!r}")

    def current_panel(self) -> Panel:
        return self.views.currentWidget()

    def _place(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        neighbour = next((d for d in self.docks if self.dockWidgetArea(d) == area), None)
        self.addDockWidget(area, dock)
        if area == DOCK_AREAS[RIGHT] and neighbour is not None:
            self.tabifyDockWidget(neighbour, dock)   # the right-hand docks share one tabbed column

    def _raise_first_right_dock(self) -> None:
        right = [d for d in self.docks if self.dockWidgetArea(d) == DOCK_AREAS[RIGHT]]
        if right:
            right[0].raise_()

    def _add_plugin_panels(self, _registry: Any) -> None:
        from workbench.plugins import plugin_panels
        known = {type(p) for p in self.panels}
        for cls in plugin_panels():
            if cls in known:
                continue
            known.add(cls)
            try:
                self.add_panel(cls)
            except Exception as exc:  # a broken plugin panel is reported and skipped
                self.status.show_error(f"plugin panel {cls.__name__} was skipped: {type(exc).__name__}: {exc}")

    def _raise(self, panel: Panel) -> None:
        if panel.area == TAB:
            self.views.setCurrentWidget(panel)
            return
        for dock in self.docks:
            if dock.widget() is panel:
                dock.show()
                dock.raise_()

    def _raise_named(self, object_name: str) -> None:
        # the window's own entry: a deferred tab is raised as its tab, which builds its panel when shown
        named = next((p for p in self.panels if p.object_name == object_name), None)
        if named is not None:
            self._raise(named)

    def _bring_forward(self, view: str, result: Any) -> None:
        """Show the panel whose view got a new result; a dock drawing on the canvas brings the Image tab."""
        if result is None or not view:
            return
        for panel in self.panels:
            if view in panel.views:
                self._raise(panel)
                if panel.area != TAB:
                    self.views.setCurrentIndex(0)
                return

    def _on_model(self, handle: Any) -> None:
        self.statusBar().showMessage(f"Loaded {handle.id}", 4000)
        for tab, entry in self._deferred.items():
            if wanted(entry, handle):
                self.views.setCurrentWidget(tab)
                return

    def _on_image_opened(self, image: Any, name: str = "") -> None:
        self.views.setCurrentIndex(0)
        title = Path(name).name if name and not name.startswith("sample:") else name
        self.setWindowTitle(f"{title} — CV Workbench" if title else "CV Workbench")
        h, w = image.shape[:2]
        self.statusBar().showMessage(f"Opened {name or 'image'} ({w}×{h})", 4000)

    # --- export --------------------------------------------------------------------
    def export_figure(self, path: str | None = None, scale: float | None = None) -> Path | None:
        if path is None:
            path = ask_save_path(self, "Export Figure", self._export_dir("figure.png"))
            if path is None:
                return None
        if scale is None:
            scale = 1.0
            if Path(path).suffix.lower() == ".png":
                scale, ok = QInputDialog.getDouble(self, "PNG scale", "Scale factor (1 = natural size):", 1.0, 0.25, 8.0, 2)
                if not ok:
                    return None
        try:
            self.current_panel().export_figure(path, scale)
        except (OSError, ValueError) as e:
            self.status.show_error(f"Could not export the figure: {e}")
            return None
        self.settings.set_value("paths/last_export_dir", str(Path(path).parent))
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return Path(path)

    def export_result(self, path: str | None = None) -> Path | None:
        """The current tab's result as npz, with its params as JSON beside it."""
        result = self.current_panel().current_result()
        if result is None:
            self.status.show_note("Nothing to export yet: run a method first")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export Result", self._export_dir(f"{result.method}.npz"),
                                                  "NumPy arrays (*.npz)")
            if not path:
                return None
        from workbench.core.atomic import write_text_atomic
        path = Path(path).with_suffix(".npz")
        try:
            result.save_npz(path)
            write_text_atomic(path.with_suffix(".json"), result.params_json())
        except (OSError, ValueError) as e:
            self.status.show_error(f"Could not save {path.name}: {e}")
            return None
        self.statusBar().showMessage(f"Saved {path} and {path.with_suffix('.json').name}", 4000)
        return path

    def export_script(self, path: str | None = None) -> Path | None:
        """A matplotlib script that redraws the current tab's figure from an npz written beside it."""
        if path is None:
            path = ask_save_path(self, "Export as Script", self._export_dir("figure.py"), "Python script (*.py)")
            if path is None:
                return None
        try:
            written = self.current_panel().export_script(path)
        except (OSError, ValueError) as e:
            self.status.show_error(f"Could not export the script: {e}")
            return None
        self.statusBar().showMessage(f"Saved {written}: run it with python {written.name} --out figure.pdf", 6000)
        return written

    def copy_figure(self) -> bool:
        """The current tab, rendered as its exported PNG figure, onto the clipboard."""
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = self.current_panel().export_figure(Path(tmp) / "figure.png", 1.0)
            except (OSError, ValueError) as e:
                self.status.show_error(f"Could not copy the figure: {e}")
                return False
            QGuiApplication.clipboard().setImage(QImage(str(path)))
        self.statusBar().showMessage("Figure copied", 3000)
        return True

    def _export_dir(self, name: str) -> str:
        return str(Path(self.settings.value("paths/last_export_dir", str(Path.home()))) / name)

    # --- theme, menus, persistence -------------------------------------------------
    def set_theme(self, name: str, remember: bool = True) -> None:
        theme.apply_theme(name)
        if remember:
            self.settings.set_theme(name)
        for action in self._theme_actions.actions():
            action.setChecked(action.data() == name)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        _add(file, "&Open Image…", self.images.open_dialog, QKeySequence.StandardKey.Open)
        self.images.attach_recent_menu(file.addMenu("Open &Recent"))
        self.images.attach_samples_menu(file.addMenu("&Samples"))
        _add(file, "Open &Model File…", lambda: self.panel("modelDock").open_file_dialog())
        _add(file, "Open &Batch…", lambda: self.panel("batchDock").open_dialog())
        file.addSeparator()
        export = _add(file, "&Export Figure…", self.export_figure, QKeySequence.StandardKey.Save)
        export.setShortcuts([QKeySequence.StandardKey.Save, QKeySequence("Ctrl+E")])
        _add(file, "Export &Result (npz)…", self.export_result, "Ctrl+Shift+E")
        _add(file, "Export as &Script…", self.export_script)
        file.addSeparator()
        _add(file, "&Quit", self.close, "Ctrl+Q")

        edit = bar.addMenu("&Edit")
        _add(edit, "&Copy Figure", self.copy_figure, QKeySequence.StandardKey.Copy)
        _add(edit, "&Paste Image", self.images.paste, QKeySequence.StandardKey.Paste)

        view = bar.addMenu("&View")
        for i, tab in enumerate(self.tabs):
            _add(view, f"&{tab.title}", lambda _=False, t=tab: self.views.setCurrentWidget(t),
                 f"Ctrl+{i + 1}" if i < 9 else None)
        view.addSeparator()
        self._theme_actions = QActionGroup(self)
        for name in THEMES:
            action = _add(view, f"{name.title()} Theme", lambda _=False, n=name: self.set_theme(n))
            action.setCheckable(True)
            action.setData(name)
            self._theme_actions.addAction(action)
        view.addSeparator()
        self._docks_menu = view
        for dock in self.docks:
            view.addAction(dock.toggleViewAction())

        run = bar.addMenu("&Run")
        _add(run, "&Run Method", lambda: self.panel("methodDock").request_run(), "Ctrl+R")
        _add(run, "&Cancel", lambda: self.engine.cancel(), "Esc")
        run.addSeparator()
        _add(run, "&Batch…", lambda: run_batch_dialog(self))
        _add(run, "Cancel B&atch", lambda: self.panel("batchDock").cancel())

    def _restore(self) -> None:
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        restored_geometry = geometry is not None and self.restoreGeometry(geometry)
        if not restored_geometry:
            self.resize(default_size())
        restored_state = state is not None and self.restoreState(state)
        if (geometry is not None and not restored_geometry) or (state is not None and not restored_state):
            self.settings.note("the saved window layout could not be restored (default used)")
        if not restored_state:
            default_dock_widths(self)
        self.set_theme(self.settings.theme(), remember=False)

    def use_default_layout(self, size: QSize | None = None) -> None:
        """The layout of a first start: ``size`` (default: what fits the screen) and the docks' widths."""
        self.resize(size or default_size())
        default_dock_widths(self)

    # --- events --------------------------------------------------------------------
    def showEvent(self, e) -> None:
        super().showEvent(e)
        if not self._shown and self.windowHandle() is not None:
            self.windowHandle().installEventFilter(self)
            QTimer.singleShot(0, self.fit_docks)   # once laid out: a saved layout may squeeze a panel

    def fit_docks(self) -> None:
        """Widen a dock column narrower than its panels need; keep the central tabs their room."""
        fit_docks(self)

    def eventFilter(self, watched: QObject, e: QEvent) -> bool:
        # the first expose paints the whole window; firstShown follows once that is done
        if (not self._shown and watched is self.windowHandle() and e.type() == QEvent.Type.Expose
                and self.windowHandle().isExposed()):
            self._shown = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.firstShown.emit)
        return super().eventFilter(watched, e)

    def closeEvent(self, e) -> None:
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.engine.cancel()
        self.engine.shutdown(2000)
        self.panel("batchDock").shutdown()      # a running batch stops; the same run resumes it
        super().closeEvent(e)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if image_io.can_accept(e.mimeData()):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        if self.images.open_mime(e.mimeData()):
            e.acceptProposedAction()



def _add(menu, text: str, slot, shortcut=None) -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action
