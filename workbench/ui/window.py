"""The main window: canvas and grid views, docks, menus, status bar; wires the engine to views."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QTabWidget, QWidget

from workbench.core import scene
from workbench.core.results import ActivationGrid, Detections, ImageGrid, Result, SegMask
from workbench.ui import image_io, theme
from workbench.ui.attribution_dock import AttributionDock
from workbench.ui.canvas import Canvas
from workbench.ui.compare_view import CompareView
from workbench.ui.detection_dock import DetectionDock
from workbench.ui.grid_view import GridView
from workbench.ui.layers_dock import LayersDock
from workbench.ui.lazy_tab import LazyTab
from workbench.ui.method_dock import MethodDock
from workbench.ui.model_dock import ModelDock
from workbench.ui.region_dock import RegionDock
from workbench.ui.segmentation_legend import SegmentationLegend
from workbench.ui.settings import THEMES, Settings
from workbench.ui.status import JobStatus, Notice
from workbench.ui.export_dialog import ask_save_path

METHOD_KEY = "method"
IMAGE_TAB, GRID_TAB, COMPARE_TAB = 0, 1, 2


class MainWindow(QMainWindow):
    firstShown = Signal()          # once, after the window has first been painted
    resultShown = Signal(object)   # every Result put on a view

    def __init__(self, engine: QObject | None = None, settings: Settings | None = None):
        super().__init__()
        self.setWindowTitle("CV Workbench")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        if engine is None:
            from workbench.engine import Engine
            engine = Engine()
        self.engine = engine
        self.image: np.ndarray | None = None
        self.handle: Any = None
        self.image_result: Result | None = None    # what the overlays on the canvas show
        self.grid_result: ImageGrid | None = None  # what the grid view shows
        self._shown = False

        self.canvas = Canvas()
        self.grid_view = GridView()
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        self.views.addTab(self.canvas, "Image")
        self.views.addTab(self.grid_view, "Grid")
        self.compare_view = CompareView(engine)
        self.views.addTab(self.compare_view, "Compare")
        self.latent = LazyTab(self._latent_explorer)
        self.views.addTab(self.latent, "Latent")
        self.gan_lab = LazyTab(lambda: _gan_lab(engine))
        self.views.addTab(self.gan_lab, "GAN lab")
        self.detectors = LazyTab(lambda: _detector_compare(engine, lambda: self.image, self.status.show_note))
        self.views.addTab(self.detectors, "Detectors")
        self.setCentralWidget(self.views)

        self.model_dock = ModelDock(engine, self)
        self.method_dock = MethodDock(engine, self)
        self.layers_dock = LayersDock(self.canvas)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.model_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.method_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.layers_dock)
        self.attribution_dock = AttributionDock(engine, self)
        self.detection_dock = DetectionDock(engine, self)
        self.region_dock = RegionDock(engine, self)
        self.segmentation_legend = SegmentationLegend(self.canvas)
        for dock in (self.attribution_dock, self.detection_dock, self.region_dock, self.segmentation_legend):
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.tabifyDockWidget(self.layers_dock, dock)
        self.layers_dock.raise_()
        self.docks = (self.model_dock, self.method_dock, self.layers_dock, self.attribution_dock,
                      self.detection_dock, self.region_dock, self.segmentation_legend)

        self.notice = Notice(self.views)
        self.status = JobStatus(self.statusBar(), engine, self.notice)
        self.images = image_io.ImageOpener(self, self.settings)
        self.images.opened.connect(self.set_image)
        self.images.failed.connect(self.status.show_error)

        self.model_dock.modelLoaded.connect(self._on_model_loaded)
        self.model_dock.layerActivated.connect(self._on_layer_activated)
        self.model_dock.message.connect(self.status.show_note)
        self.method_dock.message.connect(self.status.show_note)
        self.method_dock.runRequested.connect(self.run_method)
        engine.done.connect(self._on_result)
        engine.partial.connect(self._on_result)
        self.canvas.clicked.connect(self._on_canvas_clicked)
        self.canvas.boxClicked.connect(self._on_box_clicked)
        self.grid_view.tileClicked.connect(self.show_channel)
        self.attribution_dock.attach_canvas(self.canvas)
        self.compare_view.follow(self.attribution_dock)
        self.attribution_dock.heatmapReady.connect(self.show_result)
        self.attribution_dock.message.connect(self.status.show_note)
        self.compare_view.message.connect(self.status.show_note)
        self.method_dock.registryReady.connect(self.attribution_dock.set_registry)
        self.model_dock.modelLoaded.connect(self.attribution_dock.set_model)
        self.model_dock.modelLoaded.connect(self._show_latent_model)
        self.detection_dock.attach_canvas(self.canvas)
        self.detection_dock.detectionsShown.connect(self._on_detections_shown)
        self.detection_dock.message.connect(self.status.show_note)
        self.method_dock.registryReady.connect(self.detection_dock.set_registry)
        self.model_dock.modelLoaded.connect(self.detection_dock.set_model)
        self.region_dock.follow(self.detection_dock)
        self.region_dock.message.connect(self.status.show_note)

        self._build_menus()
        self._restore()

    # --- images --------------------------------------------------------------------
    def set_image(self, image: np.ndarray, name: str = "") -> None:
        """Show a new image; results computed on the previous one are cleared."""
        self.engine.cancel(METHOD_KEY)  # a result still coming was made for the old image
        self.image = image
        self.attribution_dock.set_image(image)
        self.detection_dock.set_image(image)
        self.canvas.set_image(image)
        self.canvas.clear_overlays()
        self.grid_view.clear()
        self.image_result = self.grid_result = None
        self.views.setCurrentIndex(IMAGE_TAB)
        title = Path(name).name if name and not name.startswith("sample:") else name
        self.setWindowTitle(f"{title} — CV Workbench" if title else "CV Workbench")
        h, w = image.shape[:2]
        self.statusBar().showMessage(f"Opened {name or 'image'} ({w}×{h})", 4000)
        if self.method_dock.auto_run.isChecked() and self.handle is not None:
            self.method_dock.request_run()

    # --- methods and results -------------------------------------------------------
    def run_method(self, method: Any, values: dict, target: int | None) -> None:
        if self.handle is None:
            self.status.show_note("Load a model first")
            return
        self.engine.run_method(METHOD_KEY, method, self.handle, self.image, values, target)

    def show_result(self, result: Result) -> None:
        if isinstance(result, ImageGrid):
            self.grid_result = result
            self.grid_view.set_grid(result)
            self.views.setCurrentIndex(GRID_TAB)
        elif isinstance(result, Detections) and self.image is not None:
            self.detection_dock.show_result(result)   # filters, table and stages; emits detectionsShown
            self.detection_dock.raise_()
            return
        else:
            layers = scene.layers_for(result)
            if not layers:
                self.status.show_note(f"{result.title or result.method}: no view for "
                                      f"{result.kind} results yet; File ▸ Export Result saves it")
            self.canvas.replace_overlays(layers)
            self.image_result = result
            self.views.setCurrentIndex(IMAGE_TAB)
            if isinstance(result, SegMask):
                self.segmentation_legend.raise_()
        self.resultShown.emit(result)

    def show_channel(self, index: int) -> None:
        """Lay one channel of the activation grid over the image."""
        if not isinstance(self.grid_result, ActivationGrid) or self.image is None:
            return
        heatmap = self.grid_result.channel_heatmap(index)
        self.canvas.replace_overlays(scene.layers_for(heatmap))
        self.image_result = heatmap
        self.views.setCurrentIndex(IMAGE_TAB)
        self.statusBar().showMessage(heatmap.title, 4000)

    def current_result(self) -> Result | None:
        return self.grid_result if self.views.currentIndex() == GRID_TAB else self.image_result

    def _on_result(self, key: str, result: Any) -> None:
        if key == METHOD_KEY and isinstance(result, Result):
            self.show_result(result)

    def _on_model_loaded(self, handle: Any) -> None:
        self.engine.cancel(METHOD_KEY)
        self.handle = handle
        self.method_dock.set_handle(handle)
        self.statusBar().showMessage(f"Loaded {handle.id}", 4000)

    def _on_layer_activated(self, name: str) -> None:
        """A layer double-clicked in the model dock becomes the method's layer, where it fits."""
        form = self.method_dock.form
        for spec in form.specs():
            if spec.choices in ("layers", "conv_layers"):
                try:
                    form.set_values({spec.name: name})
                    return
                except ValueError:
                    continue

    def _on_canvas_clicked(self, x: float, y: float) -> None:
        self.statusBar().showMessage(f"x {x:.1f}, y {y:.1f}", 4000)

    def _on_detections_shown(self, result: Result) -> None:
        self.image_result = result
        self.views.setCurrentIndex(IMAGE_TAB)
        self.resultShown.emit(result)

    def _on_box_clicked(self, layer_id: int, index: int) -> None:
        text = self.detection_dock.box_text(layer_id, index)
        if text is not None:
            self.statusBar().showMessage(text, 6000)
            return
        r = self.image_result
        if isinstance(r, Detections) and 0 <= index < len(r.boxes):
            label = int(r.labels[index])
            name = r.label_names[label] if 0 <= label < len(r.label_names) else str(label)
            box = ", ".join(f"{v:.0f}" for v in r.boxes[index])
            self.statusBar().showMessage(f"box {index}: {name} {r.scores[index]:.3f} [{box}]", 6000)

    # --- export --------------------------------------------------------------------
    def current_view(self) -> QWidget:
        return self.views.currentWidget()

    def export_figure(self, path: str | None = None, scale: float | None = None) -> Path | None:
        if path is None:
            path = ask_save_path(self, "Export Figure", self._export_dir("figure.png"))
            if path is None:
                return None
        if scale is None:
            scale = 1.0
            if Path(path).suffix.lower() == ".png":
                scale, ok = QInputDialog.getDouble(self, "PNG scale", "Scale factor:", 2.0, 0.25, 8.0, 2)
                if not ok:
                    return None
        try:
            self.current_view().export(path, scale)
        except (OSError, ValueError) as e:
            self.status.show_error(f"Could not export the figure: {e}")
            return None
        self.settings.set_value("paths/last_export_dir", str(Path(path).parent))
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return Path(path)

    def export_result(self, path: str | None = None) -> Path | None:
        """The viewed result as npz, with its params as JSON beside it."""
        result = self.current_result()
        if result is None:
            self.status.show_note("Nothing to export yet: run a method first")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export Result", self._export_dir(f"{result.method}.npz"),
                                                  "NumPy arrays (*.npz)")
            if not path:
                return None
        path = Path(path).with_suffix(".npz")
        try:
            result.save_npz(path)
            with np.load(path) as saved:
                params = json.loads(str(saved["params"]))
            path.with_suffix(".json").write_text(json.dumps(params, indent=1))
        except OSError as e:
            self.status.show_error(f"Could not save {path.name}: {e}")
            return None
        self.statusBar().showMessage(f"Saved {path} and {path.with_suffix('.json').name}", 4000)
        return path

    def copy_figure(self) -> None:
        """The current view, rendered as its exported PNG figure, onto the clipboard."""
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = self.current_view().export(Path(tmp) / "figure.png", 2.0)
            except (OSError, ValueError) as e:
                self.status.show_error(f"Could not copy the figure: {e}")
                return
            QGuiApplication.clipboard().setImage(QImage(str(path)))
        self.statusBar().showMessage("Figure copied", 3000)

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
        _add(file, "Open &Model File…", self.model_dock.open_file_dialog)
        file.addSeparator()
        export = _add(file, "&Export Figure…", self.export_figure, QKeySequence.StandardKey.Save)
        export.setShortcuts([QKeySequence.StandardKey.Save, QKeySequence("Ctrl+E")])
        _add(file, "Export &Result (npz)…", self.export_result, "Ctrl+Shift+E")
        file.addSeparator()
        _add(file, "&Quit", self.close, "Ctrl+Q")

        edit = bar.addMenu("&Edit")
        _add(edit, "&Copy Figure", self.copy_figure, QKeySequence.StandardKey.Copy)
        _add(edit, "&Paste Image", self.images.paste, QKeySequence.StandardKey.Paste)

        view = bar.addMenu("&View")
        _add(view, "&Image", lambda: self.views.setCurrentIndex(IMAGE_TAB), "Ctrl+1")
        _add(view, "&Grid", lambda: self.views.setCurrentIndex(GRID_TAB), "Ctrl+2")
        view.addSeparator()
        self._theme_actions = QActionGroup(self)
        for name in THEMES:
            action = _add(view, f"{name.title()} Theme", lambda _=False, n=name: self.set_theme(n))
            action.setCheckable(True)
            action.setData(name)
            self._theme_actions.addAction(action)
        view.addSeparator()
        for dock in self.docks:
            view.addAction(dock.toggleViewAction())

        run = bar.addMenu("&Run")
        _add(run, "&Run Method", self.method_dock.request_run, "Ctrl+R")
        _add(run, "&Cancel", lambda: self.engine.cancel(), "Esc")

    def _restore(self) -> None:
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = QGuiApplication.primaryScreen()
            room = screen.availableGeometry() if screen else None
            self.resize(min(1400, int(room.width() * 0.9)) if room else 1320,
                        min(900, int(room.height() * 0.9)) if room else 840)
        if state is None or not self.restoreState(state):
            self.resizeDocks([self.model_dock, self.layers_dock], [300, 260], Qt.Orientation.Horizontal)
        self.set_theme(self.settings.theme(), remember=False)

    # --- events --------------------------------------------------------------------
    def showEvent(self, e) -> None:
        super().showEvent(e)
        if not self._shown and self.windowHandle() is not None:
            self.windowHandle().installEventFilter(self)

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
        super().closeEvent(e)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if image_io.can_accept(e.mimeData()):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        if self.images.open_mime(e.mimeData()):
            e.acceptProposedAction()


    def _latent_explorer(self) -> QWidget:
        from workbench.ui.latent_explorer import LatentExplorer  # imports torch: built on first use
        explorer = LatentExplorer(self.engine)
        explorer.message.connect(self.status.show_note)
        if self.handle is not None:
            explorer.set_model(self.handle)
        return explorer

    def _show_latent_model(self, handle: Any) -> None:
        if self.latent.content is not None:
            self.latent.content.set_model(handle)
        if handle.task in ("generate", "autoencode"):
            self.views.setCurrentWidget(self.latent)


def _detector_compare(engine: QObject, image_source, show_note) -> QWidget:
    from workbench.ui.detector_compare import DetectorCompare
    view = DetectorCompare(engine, image_source)
    view.message.connect(show_note)
    return view


def _gan_lab(engine: QObject) -> QWidget:
    from workbench.ui.gan_lab import GanLabPanel  # imports torch: only when the tab is first opened
    return GanLabPanel(engine=engine)


def _add(menu, text: str, slot, shortcut=None) -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action
