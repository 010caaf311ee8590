"""`workbench batch` on the command line: the summary line, error rows, bad arguments in words."""
import cv2

from workbench import cli
from workbench.zoo.shapes import render_shape


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_folder_with_a_broken_image_finishes_with_an_error_row(capsys, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"{i}.png"), render_shape(i)[0])
    (images / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    code, out, err = run_cli(capsys, "batch", "saliency", "--model", "zoo:shapes-cnn", "--images", str(images),
                             "--out", str(tmp_path / "out"))
    assert code == 0
    assert out == f"3 done, 1 failed: {tmp_path / 'out'}/index.parquet\n"
    assert err == "workbench batch: 1 image(s) failed; the index's error column says why\n"
    code, out, _err = run_cli(capsys, "batch", "saliency", "--model", "zoo:shapes-cnn", "--images", str(images),
                              "--out", str(tmp_path / "out"))
    assert code == 0 and out.startswith("3 done, 1 failed")          # resumed: nothing left to do


def test_bad_arguments_say_what_is_wrong(capsys, tmp_path):
    base = ["batch", "saliency", "--model", "zoo:shapes-cnn", "--out", str(tmp_path / "o")]
    assert run_cli(capsys, *base, "--images", "dataset:cats")[2] == \
        "workbench batch: unknown dataset 'cats'; one of digits, shapes\n"
    assert run_cli(capsys, *base, "--images", "dataset:digits", "--workers", "-1")[2] == \
        "workbench batch: --workers must be 0 (this process) or more, not -1\n"
    code, _out, err = run_cli(capsys, *base, "--images", "dataset:digits", "--set", "bogus=1")
    assert code == 2 and "unknown parameter(s) bogus" in err
    assert not (tmp_path / "o").exists()


def test_on_a_terminal_a_bar_shows_images_rate_and_time_left(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "_is_terminal", lambda stream: True)
    code, out, err = run_cli(capsys, "batch", "feature-vector", "--model", "zoo:shapes-cnn",
                             "--images", "dataset:shapes:5", "--out", str(tmp_path / "o"))
    assert code == 0 and out.startswith("5 done, 0 failed")
    assert "batch:" in err and "/5 [" in err and "img/s" in err


def test_workers_without_ray_name_the_extra_to_install(capsys, tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "ray", None)          # as if the [cluster] extra were not installed
    code, _out, err = run_cli(capsys, "batch", "saliency", "--model", "zoo:shapes-cnn", "--images",
                              "dataset:shapes:2", "--out", str(tmp_path / "o"), "--workers", "2")
    assert code == 2
    assert err == 'workbench batch: --workers and --address need Ray: pip install -e ".[cluster]" ' \
                  '(or pip install "ray>=2.9")\n'
    assert not (tmp_path / "o").exists()
