"""Every central tab exports its figure as PNG (at the chosen scale), SVG and PDF, and copies it
to the clipboard, through the window's own actions (which ask the current tab)."""
import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench.core.results import Heatmap, ImageGrid
from workbench.core.samples import sample_image

TIMEOUT_MS = 90000


@pytest.fixture
def window(make_window):
    return make_window()


def shown_tab(window, object_name):
    """Bring the central tab up and return its panel."""
    window.views.setCurrentWidget(next(t for t in window.tabs if t.object_name == object_name))
    return window.panel(object_name)


def show_image(qtbot, window, bundled):
    window.workspace.set_image(picture(40, 50), "p")
    heat = np.linspace(-1, 1, 40 * 50, dtype=np.float32).reshape(40, 50)
    window.workspace.show(Heatmap(method="test", heatmap=heat, signed=True, title="a heatmap"))


def show_grid(qtbot, window, bundled):
    tiles = np.random.default_rng(0).random((6, 8, 8)).astype(np.float32)
    window.workspace.show(ImageGrid(method="test", tiles=tiles, titles=[f"c{i}" for i in range(6)], title="grid"))


def show_compare(qtbot, window, bundled):
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(tiny_handle())
    ws.set_image(picture(), "p")
    panel = window.panel("compareTab")
    window.views.setCurrentWidget(panel)
    panel.set_checked(["saliency", "gradient-x-input"])
    panel.compare_button.click()
    qtbot.waitUntil(lambda: len(panel.results) == 2, timeout=TIMEOUT_MS)


def show_latent(qtbot, window, bundled):
    window.workspace.set_model(bundled("digits-vae"))
    panel = window.panel("latentTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None, timeout=TIMEOUT_MS)


def show_ganlab(qtbot, window, bundled):
    panel = window.panel("ganLabTab")
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=TIMEOUT_MS)


def show_detectors(qtbot, window, bundled):
    panel = window.panel("detectorsTab")
    shown_tab(window, "detectorsTab")
    window.workspace.set_image(sample_image("scene-1"), "scene-1")
    qtbot.waitUntil(lambda: len(panel.results) == 2, timeout=TIMEOUT_MS)


def show_attention(qtbot, window, bundled):
    from tests.core.vit_reference import tiny_vit_handle
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(tiny_vit_handle())
    ws.set_image(picture(), "p")
    panel = shown_tab(window, "attentionTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None, timeout=TIMEOUT_MS)


def show_detr(qtbot, window, bundled):
    from workbench.core.sources import load_model
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(load_model("zoo:shapes-detr?weights=none"))
    ws.set_image(sample_image("scene-3"), "sample:scene-3")
    panel = shown_tab(window, "detrTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None, timeout=TIMEOUT_MS)


SETUPS = {"imageTab": show_image, "gridTab": show_grid, "compareTab": show_compare, "attentionTab": show_attention,
          "latentTab": show_latent, "ganLabTab": show_ganlab, "detectorsTab": show_detectors}
SETUPS["detrTab"] = show_detr


def show_caption(qtbot, window, bundled):
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(bundled("shapes-captioner"))
    ws.set_image(sample_image("scene-1000001"), "scene-1000001")
    panel = shown_tab(window, "captionTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None, timeout=TIMEOUT_MS)


SETUPS["captionTab"] = show_caption


def show_features(qtbot, window, bundled):
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(bundled("shapes-cnn"))
    panel = shown_tab(window, "featuresTab")
    panel.controls.set_values("actmax", {"steps": 16})
    panel.run()
    qtbot.waitUntil(lambda: panel.current_result() is not None and not panel.running(), timeout=TIMEOUT_MS)


SETUPS["featuresTab"] = show_features


def show_projector(qtbot, window, bundled):
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_model(bundled("digits-cnn"))
    panel = shown_tab(window, "projectorTab")
    panel.set_values({"count": 200, "projection": "pca"})
    panel.run()
    qtbot.waitUntil(lambda: panel.current_result() is not None and not panel.running(), timeout=TIMEOUT_MS)


SETUPS["projectorTab"] = show_projector


def show_style(qtbot, window, bundled):
    window.workspace.set_registry(builtin_registry())
    window.workspace.set_image(sample_image("scene-1"), "scene-1")
    panel = shown_tab(window, "styleTab")
    panel.set_values({"size": 48, "steps": 10, "preview_every": 5})
    panel.run()
    qtbot.waitUntil(lambda: panel.current_result() is not None and not panel.running(), timeout=TIMEOUT_MS)


SETUPS["styleTab"] = show_style


def show_superres(qtbot, window, bundled):
    window.workspace.set_image(sample_image("scene-1"), "scene-1")
    panel = shown_tab(window, "superresTab")
    qtbot.waitUntil(lambda: panel.current_result() is not None, timeout=TIMEOUT_MS)


SETUPS["superresTab"] = show_superres


def show_inpaint(qtbot, window, bundled):
    from workbench.core.inpaint.masks import centre_square
    ws = window.workspace
    ws.set_registry(builtin_registry())
    ws.set_image(sample_image("digit-3"), "digit-3")
    ws.set_mask(centre_square(ws.image.shape))
    panel = shown_tab(window, "inpaintTab")
    panel.set_values({"steps": 20, "restarts": 2, "preview_every": 10})
    panel.run()
    qtbot.waitUntil(lambda: len(panel.results) == 2 and not panel.running(), timeout=TIMEOUT_MS)


SETUPS["inpaintTab"] = show_inpaint


def test_every_tab_has_a_setup_here(window):
    assert {t.object_name for t in window.tabs} == set(SETUPS)


@pytest.mark.parametrize("name", list(SETUPS))
def test_every_tab_exports_png_svg_pdf_and_copies(qtbot, window, bundled, tmp_path, name):
    SETUPS[name](qtbot, window, bundled)
    tab = next(t for t in window.tabs if t.object_name == name)
    window.views.setCurrentWidget(tab)
    assert window.current_panel() is tab
    small = window.export_figure(str(tmp_path / "s.png"), scale=1.0)
    large = window.export_figure(str(tmp_path / "l.png"), scale=3.0)
    assert small is not None and large is not None, window.notice.text()
    small_png, large_png = QImage(str(small)), QImage(str(large))
    assert large_png.width() > small_png.width() and large_png.height() > small_png.height()
    assert not _blank(large_png)
    svg = window.export_figure(str(tmp_path / "f.svg"), scale=1.0)
    assert svg is not None and "<svg" in svg.read_text()
    pdf = window.export_figure(str(tmp_path / "f.pdf"), scale=1.0)
    assert pdf is not None and pdf.read_bytes().startswith(b"%PDF")
    QGuiApplication.clipboard().clear()
    assert window.copy_figure()
    copied = QGuiApplication.clipboard().image()
    expected = QImage(str(window.current_panel().export_figure(tmp_path / "c.png", 1.0)))
    assert copied.size() == expected.size()


def test_export_says_why_when_a_tab_has_nothing(window, tmp_path):
    window.views.setCurrentIndex(1)   # the Grid tab, empty
    assert window.export_figure(str(tmp_path / "g.png"), scale=1.0) is None
    assert window.notice.isVisible() and "nothing to export" in window.notice.text()
    assert not (tmp_path / "g.png").exists()


def _blank(image: QImage) -> bool:
    first = image.pixel(0, 0)
    return all(image.pixel(x, y) == first for x in range(0, image.width(), 7) for y in range(0, image.height(), 7))


@pytest.mark.parametrize("name", ["imageTab", "gridTab", "compareTab", "attentionTab"])
def test_export_as_script_redraws_the_tab_with_matplotlib(qtbot, window, bundled, tmp_path, name):
    import subprocess
    import sys
    SETUPS[name](qtbot, window, bundled)
    shown_tab(window, name)
    script = window.export_script(str(tmp_path / "fig.py"))
    assert script is not None, window.notice.text()
    assert (tmp_path / "fig.figure.npz").is_file()
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "fig.png")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not _blank(QImage(str(tmp_path / "fig.png")))


def test_export_as_script_with_nothing_shown_says_why(window, tmp_path):
    window.views.setCurrentIndex(1)
    assert window.export_script(str(tmp_path / "s.py")) is None
    assert "nothing to export" in window.notice.text()
    assert not (tmp_path / "s.py").exists()
