"""The Super-res tab: bicubic, sr-pixel and sr-gan of the workspace's image side by side with their
scores, the loupe following the mouse over any picture and pinned by a click, upscale mode, and the
tab brought forward when a super-resolution model is loaded."""
import numpy as np
import pytest

from workbench.core.samples import sample_image
from workbench.ui.superres.panel import SuperresPanel

TIMEOUT_MS = 60000


@pytest.fixture
def panel(bind, qtbot, workspace):
    p = bind(SuperresPanel)
    p.resize(1100, 700)
    workspace.set_image(sample_image("scene-1"), "scene-1")
    qtbot.waitUntil(lambda: p.result is not None, timeout=TIMEOUT_MS)
    qtbot.wait(50)
    return p


def test_the_three_upscales_and_the_original_side_by_side_with_scores(panel):
    r = panel.result
    assert r.names == ["bicubic", "sr-pixel", "sr-gan"] and r.sr.shape == (2, 128, 128, 3)
    assert len(r.psnr) == len(r.ssim) == 3
    titles = panel.views.titles
    assert [t.splitlines()[0] for t in titles] == ["bicubic", "sr-pixel", "sr-gan", "original"]
    for title, psnr in zip(titles, r.psnr):
        assert f"PSNR {psnr:.2f} dB" in title
    np.testing.assert_array_equal(r.original, sample_image("scene-1"))
    assert "scores against the image" in panel.status.text()


def _hover(panel, qtbot, index, x, y):
    panel.views.hover(index, x, y)


def test_hovering_any_picture_moves_the_loupe_on_all_of_them(panel, qtbot):
    _hover(panel, qtbot, 2, 100.0, 30.0)
    r = panel.result
    assert r.loupe[:2] == pytest.approx([100.0, 30.0], abs=0.6)
    left, top, w, h = r.loupe_rect()
    assert (w, h) == (32, 32) and left == 84 and top == 14
    views = r.loupe_views()
    np.testing.assert_array_equal(views[-1][1][::4, ::4], r.original[top:top + h, left:left + w])
    np.testing.assert_array_equal(views[2][1][::4, ::4], r.sr[1][top:top + h, left:left + w])
    _hover(panel, qtbot, 0, 20.0, 100.0)                  # the bicubic picture moves it too
    assert panel.result.loupe_rect()[:2] == (4, 84)


def test_a_click_pins_the_loupe_and_the_zoom_keeps_its_centre(panel, qtbot):
    panel.views.click(1, 64.0, 64.0)
    assert panel.views.pinned and "pinned" in panel.status.text()
    _hover(panel, qtbot, 1, 10.0, 10.0)                   # pinned: the mouse no longer moves it
    assert panel.result.loupe[:2] == pytest.approx([64.0, 64.0], abs=0.6)
    panel.zoom_box.setCurrentIndex(panel.zoom_box.findData(8.0))
    assert panel.result.loupe_rect() == (56, 56, 16, 16)
    panel.views.click(1, 5.0, 5.0, double=True)
    assert not panel.views.pinned


def test_the_pictures_are_one_size_whatever_their_titles(panel):
    sizes = {(v.width(), v.height()) for v in panel.views.pictures + panel.views.loupes}
    assert len({w for w, _h in sizes}) == 1


def test_a_new_image_keeps_the_loupe_where_it_was(panel, qtbot, workspace):
    _hover(panel, qtbot, 0, 40.0, 90.0)
    old = panel.result
    workspace.set_image(sample_image("scene-2"), "scene-2")
    qtbot.waitUntil(lambda: panel.result is not old, timeout=TIMEOUT_MS)
    assert panel.result.loupe[:2] == pytest.approx(old.loupe[:2])


def test_upscale_mode_enlarges_the_image_and_scores_nothing(panel, qtbot):
    old = panel.result
    panel.set_mode("upscale")
    qtbot.waitUntil(lambda: panel.result is not old, timeout=TIMEOUT_MS)
    r = panel.result
    assert r.sr.shape == (2, 512, 512, 3) and not r.scored
    assert panel.views.titles[0] == "bicubic" and panel.views.titles[-1].startswith("input (128×128")


def test_the_figure_exports(panel, tmp_path):
    from PySide6.QtGui import QImage
    small = QImage(str(panel.export_figure(tmp_path / "s.png", 1.0)))
    large = QImage(str(panel.export_figure(tmp_path / "l.png", 2.0)))
    assert large.width() == pytest.approx(2 * small.width(), abs=2)


def test_loading_a_super_resolution_model_brings_the_tab_forward(make_window, bundled, qtbot):
    window = make_window()
    window.workspace.set_model(bundled("sr-gan"))
    assert window.views.currentWidget().object_name == "superresTab"


def test_export_as_script_redraws_the_pictures_and_the_loupe(panel, tmp_path):
    import subprocess
    import sys

    from PySide6.QtGui import QImage
    script = panel.export_script(tmp_path / "sr.py")
    with np.load(tmp_path / "sr.figure.npz") as arrays:
        assert any(a.shape[:1] == (8,) for a in map(arrays.__getitem__, arrays.files))   # 4 pictures + 4 loupes
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "sr.png")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert QImage(str(tmp_path / "sr.png")).width() > 200
