import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QMenu, QWidget

from workbench.core.images import save_image
from workbench.ui.image_io import ImageOpener, can_accept, qimage_to_rgb, rgb_to_qimage
from workbench.ui.settings import Settings


def gradient(h=21, w=35):
    """An image whose width makes Qt pad its rows, so stride handling is exercised."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 7 % 256, y * 11 % 256, (x + y) * 3 % 256], axis=-1).astype(np.uint8)


@pytest.fixture
def opener(qtbot, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    return ImageOpener(parent, Settings(tmp_path / "settings.ini"))


def record(opener):
    got = {"opened": [], "failed": []}
    opener.opened.connect(lambda img, name: got["opened"].append((img, name)))
    opener.failed.connect(got["failed"].append)
    return got


def test_open_path_emits_the_pixels_and_remembers_the_file(opener, tmp_path):
    image = gradient()
    path = save_image(tmp_path / "g.png", image)
    got = record(opener)
    assert opener.open_path(path)
    (opened, name), = got["opened"]
    np.testing.assert_array_equal(opened, image)
    assert name == str(path)
    assert Settings(tmp_path / "settings.ini").recent_files() == [str(path.resolve())]


def test_a_bad_file_reports_and_emits_no_image(opener, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png")
    got = record(opener)
    assert not opener.open_path(bad)
    assert got["opened"] == []
    assert len(got["failed"]) == 1 and "broken.png" in got["failed"][0]
    assert opener.settings.recent_files() == []


def test_recent_files_are_most_recent_first_without_duplicates(opener, tmp_path):
    paths = [save_image(tmp_path / f"{i}.png", gradient(8, 8)) for i in range(3)]
    for p in paths + [paths[0]]:
        opener.open_path(p)
    expected = [str(p.resolve()) for p in (paths[0], paths[2], paths[1])]
    assert Settings(tmp_path / "settings.ini").recent_files() == expected
    menu = QMenu()
    opener.fill_recent_menu(menu)
    assert [a.data() for a in menu.actions() if a.data()] == expected
    got = record(opener)
    next(a for a in menu.actions() if a.data() == expected[1]).trigger()
    assert got["opened"][0][1] == str(paths[2])


def test_clear_recent_empties_the_list(opener, tmp_path):
    opener.open_path(save_image(tmp_path / "a.png", gradient(4, 4)))
    menu = QMenu()
    opener.fill_recent_menu(menu)
    next(a for a in menu.actions() if a.text() == "Clear Recent").trigger()
    assert Settings(tmp_path / "settings.ini").recent_files() == []


def test_qimage_conversion_round_trips_with_padded_rows():
    image = gradient()
    np.testing.assert_array_equal(qimage_to_rgb(rgb_to_qimage(image)), image)
    assert qimage_to_rgb(QImage()) is None


def test_paste_opens_the_clipboard_image(opener):
    image = gradient(17, 23)
    QGuiApplication.clipboard().setImage(rgb_to_qimage(image))
    got = record(opener)
    assert opener.paste()
    np.testing.assert_array_equal(got["opened"][0][0], image)
    assert got["opened"][0][1] == "clipboard"


def test_paste_without_an_image_reports_it(opener):
    QGuiApplication.clipboard().setText("just words")
    got = record(opener)
    assert not opener.paste()
    assert got["opened"] == [] and "no image" in got["failed"][0]


def test_dropped_file_urls_open_the_file(opener, tmp_path):
    image = gradient(9, 13)
    path = save_image(tmp_path / "drop.png", image)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt")), QUrl.fromLocalFile(str(path))])
    assert can_accept(mime)
    got = record(opener)
    assert opener.open_mime(mime)
    np.testing.assert_array_equal(got["opened"][0][0], image)
    text_only = QMimeData()
    text_only.setText("hello")
    assert not can_accept(text_only)


def test_samples_menu_lists_and_opens_samples(opener):
    from workbench.core.samples import sample_image, sample_names
    menu = QMenu()
    opener.fill_samples_menu(menu)
    assert [a.text() for a in menu.actions()] == sample_names()
    got = record(opener)
    menu.actions()[0].trigger()
    np.testing.assert_array_equal(got["opened"][0][0], sample_image(sample_names()[0]))
    assert got["opened"][0][1] == f"sample:{sample_names()[0]}"
