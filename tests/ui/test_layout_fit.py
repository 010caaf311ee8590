"""Panels that fit: at the default window size (1400 x 900) every dock and tab shows what it holds
with a model and an image loaded: no horizontal scrollbar, no control narrower than its minimum,
the model's id readable in the model combo."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QAbstractSpinBox, QComboBox, QLabel,
                               QLineEdit, QSlider, QSplitter, QWidget)

from tests.tiny import builtin_registry
from workbench.core.samples import sample_image
from workbench.engine import Engine
from workbench.ui.settings import Settings
from workbench.ui.window import MainWindow

DEFAULT = QSize(1400, 900)
TIMEOUT_MS = 60000
CONTROLS = (QAbstractButton, QComboBox, QLabel, QAbstractSpinBox, QSlider, QLineEdit)
# a tab bar's own scroll arrows: Qt sizes them under their hint, and their arrow fits at any width
TAB_SCROLL_ARROWS = ("ScrollLeftButton", "ScrollRightButton")
RIGHT_DOCKS = ("LayersDock", "attributionDock", "detectionDock", "regionDock", "segmentationDock")


def on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def path(widget: QWidget) -> str:
    names = []
    while widget is not None and len(names) < 4:
        names.append(widget.objectName() or type(widget).__name__)
        widget = widget.parentWidget()
    return "/".join(reversed(names))


def cut_off(root: QWidget) -> list[str]:
    """What is cut off in ``root`` now: horizontal scrollbars on screen, controls narrower than
    their minimum size hint (a label or button whose text does not fit), and wrapped labels lower
    than their lines."""
    found = [f"horizontal scrollbar in {path(a)}" for a in root.findChildren(QAbstractScrollArea)
             if on_screen(a) and a.horizontalScrollBar().isVisible()]
    for w in root.findChildren(QWidget):
        inner = isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))   # their own line edits
        inner = inner or w.objectName() in TAB_SCROLL_ARROWS
        if not isinstance(w, CONTROLS) or inner or not on_screen(w):
            continue
        if w.width() < w.minimumSizeHint().width() - 1:
            found.append(f"{path(w)} is {w.width()} px, needs {w.minimumSizeHint().width()}")
        if isinstance(w, QLabel) and w.wordWrap() and w.text() and w.heightForWidth(w.width()) > w.height() + 1:
            found.append(f"{path(w)} is {w.height()} px high, its wrapped text needs {w.heightForWidth(w.width())}")
    return found


@pytest.fixture
def window(qtbot, tmp_path, bundled):
    engine = Engine(device="cpu")
    w = MainWindow(engine, Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(w)
    w.use_default_layout(DEFAULT)     # the offscreen screen is smaller than a real one
    w.show()
    qtbot.waitExposed(w)
    w.workspace.set_registry(builtin_registry())
    w.workspace.set_image(sample_image("shapes-0"), "sample:shapes-0")
    yield w
    engine.shutdown(10000)


def raise_dock(window, qtbot, object_name):
    dock = next(d for d in window.docks if d.objectName() == object_name)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: on_screen(dock))
    qtbot.wait(50)
    return dock


def show_tab(window, qtbot, object_name):
    tab = next(t for t in window.tabs if t.object_name == object_name)
    window.views.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.content is not None if hasattr(tab, "content") else True)
    qtbot.wait(100)
    return tab


def test_every_dock_fits_with_a_classifier(window, qtbot, bundled):
    window.workspace.set_model(bundled("shapes-cnn"))
    attribution = window.panel("attributionDock")
    qtbot.waitUntil(lambda: attribution.table.rowCount() == 5, timeout=TIMEOUT_MS)
    assert window.width() == DEFAULT.width()
    for name in RIGHT_DOCKS:
        raise_dock(window, qtbot, name)
        assert cut_off(window) == [], name
    for dock in window.docks:
        if on_screen(dock):
            assert dock.width() >= dock.minimumSizeHint().width(), dock.objectName()


def test_the_model_combo_shows_the_models_id(window, qtbot):
    model = window.panel("modelDock")
    entries = [{"id": "zoo:shapes-fasterrcnn", "task": "detect", "source": "bundled", "available": True},
               {"id": "torchvision:fasterrcnn_mobilenet_v3_large_320_fpn?weights=/a/long/path/weights.pth",
                "task": "detect", "source": "file", "available": True}]
    model.set_catalogue(entries)
    combo = model.combo
    combo.setCurrentIndex(0)
    assert combo.shown_text() == "zoo:shapes-fasterrcnn"
    assert "detect, bundled, ready" in combo.toolTip()
    combo.setCurrentIndex(1)
    shown, full = combo.shown_text(), entries[1]["id"]
    assert "…" in shown and shown.startswith("torchvision:") and shown.endswith(".pth")
    assert full in combo.toolTip()
    assert combo.width() >= combo.minimumSizeHint().width()


def test_the_layer_table_fits_its_dock(window, qtbot, bundled):
    window.workspace.set_model(bundled("shapes-fasterrcnn"))
    table = window.panel("modelDock").layers
    qtbot.wait(50)
    header = table.header()
    assert not table.horizontalScrollBar().isVisible()
    assert sum(header.sectionSize(c) for c in range(3)) <= table.viewport().width()
    assert header.sectionSize(2) >= table.sizeHintForColumn(2), "an output shape is never cut"
    item = table.topLevelItem(3)
    assert item.toolTip(0).startswith(item.text(0)) and item.toolTip(2) == item.text(2)


def test_the_detection_and_region_docks_fit_with_detections(window, qtbot, bundled):
    window.workspace.set_model(bundled("shapes-fasterrcnn"))
    detection = window.panel("detectionDock")
    raise_dock(window, qtbot, "detectionDock")
    with qtbot.waitSignal(window.workspace.view("detection").changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda r: r is not None):
        detection.run()
    qtbot.waitUntil(lambda: detection.table.rowCount() > 0)
    qtbot.wait(100)
    assert cut_off(window) == []
    table = detection.table
    box = table.horizontalHeader().sectionSize(3)
    widest = max(table.fontMetrics().horizontalAdvance(table.item(r, 3).text()) for r in range(table.rowCount()))
    assert box >= widest and table.horizontalHeader().sectionViewportPosition(3) + box <= table.viewport().width()
    region = window.panel("regionDock")
    raise_dock(window, qtbot, "regionDock")
    with qtbot.waitSignal(region.roiShown, timeout=TIMEOUT_MS):
        window.workspace.set_selection(0)
    qtbot.wait(100)
    assert cut_off(window) == []
    assert region.gradcam.isEnabled() and region.gradcam.y() == region.occlusion.y()


@pytest.mark.parametrize("tab", ["gridTab", "compareTab", "ganLabTab", "detectorsTab", "styleTab", "superresTab",
                                 "inpaintTab"])
def test_the_central_tabs_fit(window, qtbot, bundled, tab):
    window.workspace.set_model(bundled("shapes-cnn"))
    show_tab(window, qtbot, tab)
    assert cut_off(window.views) == []


@pytest.mark.parametrize("tab, model", [("featuresTab", "shapes-cnn"), ("projectorTab", "shapes-cnn"),
                                        ("attentionTab", "shapes-vit"), ("detrTab", "shapes-detr"),
                                        ("captionTab", "shapes-captioner")])
def test_the_model_tabs_fit_with_their_model(window, qtbot, bundled, tab, model):
    window.workspace.set_model(bundled(model))
    show_tab(window, qtbot, tab)
    qtbot.wait(100)
    assert cut_off(window.views) == []


def test_the_latent_tab_fits_beside_the_docks(window, qtbot, bundled):
    window.workspace.set_model(bundled("digits-vae"))
    latent = next(t for t in window.tabs if t.object_name == "latentTab")
    qtbot.waitUntil(lambda: latent.content is not None and window.views.currentWidget() is latent,
                    timeout=TIMEOUT_MS)
    panel = latent.content
    qtbot.waitUntil(lambda: panel.manifold.grid_view.grid() is not None, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    splitter = panel.findChild(QSplitter)
    left, right = splitter.sizes()
    assert left >= splitter.widget(0).minimumSizeHint().width()
    assert right >= splitter.widget(1).minimumSizeHint().width()
    for index in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(index)
        qtbot.wait(100)
        assert cut_off(window.views) == [], panel.tabs.tabText(index)
    assert np.isclose(left / (left + right), 0.42, atol=0.1)
