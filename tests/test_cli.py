"""The CLI as users call it: a separate process, real files out."""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image


def workbench(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def non_blank(path):
    pixels = np.asarray(Image.open(path).convert("RGB"), np.float32)
    return pixels.std() > 10 and pixels.shape[0] >= 256


def test_filters_writes_a_figure_and_the_arrays_it_shows(tmp_path):
    out = workbench("run", "filters", "--model", "zoo:shapes-cnn", "--out", str(tmp_path / "f.png"),
                    "--npz", str(tmp_path / "f.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "f.png")
    data = np.load(tmp_path / "f.npz")
    assert data["tiles"].shape == (16, 3, 3, 3) and data["weights"].shape == (16, 3, 3, 3)
    w = data["weights"][0]
    np.testing.assert_allclose(data["tiles"][0], (0.5 + 0.5 * w / np.abs(w).max()).transpose(1, 2, 0), atol=1e-6)
    assert json.loads(str(data["params"]))["params"]["layer"] == "features.conv1"
    assert json.loads((tmp_path / "f.json").read_text())["method"] == "filters"


def test_activations_on_a_sample_image_with_a_chosen_layer(tmp_path):
    out = workbench("run", "activations", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0",
                    "--set", "layer=features.conv3", "--out", str(tmp_path / "a.svg"), "--npz", str(tmp_path / "a.npz"))
    assert out.returncode == 0, out.stderr
    data = np.load(tmp_path / "a.npz")
    assert data["tiles"].shape == (64, 16, 16) and data["input"].shape == (1, 3, 64, 64)
    assert "<image" in (tmp_path / "a.svg").read_text()


def test_attribution_npz_holds_input_target_attribution_and_heatmap(tmp_path):
    out = workbench("run", "gradcam", "--model", "zoo:digits-cnn", "--image", "sample:digit-3",
                    "--npz", str(tmp_path / "g.npz"), "--out", str(tmp_path / "g.pdf"))
    assert out.returncode == 0, out.stderr
    data = np.load(tmp_path / "g.npz")
    assert int(data["target"]) == 3  # the bundled classifier reads the held-out 3 correctly
    assert data["attribution"].shape == tuple(data["input"].shape[-2:])
    assert data["heatmap"].shape == (128, 128)
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, fragment", [
    (("run", "nope", "--model", "zoo:shapes-cnn"), "no method 'nope'"),
    (("run", "filters", "--model", "zoo:missing"), "no bundled model"),
    (("run", "activations", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0", "--set", "layer"), "k=v"),
    (("run", "activations", "--model", "zoo:shapes-cnn", "--image", "/nonexistent.png"), "nonexistent.png"),
    (("run", "filters", "--model", "zoo:shapes-cnn", "--out", "x.bmpx"), "unsupported format"),
])
def test_bad_input_gives_a_clear_message_and_exit_code(args, fragment, tmp_path):
    out = workbench(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert fragment in out.stderr and "Traceback" not in out.stderr


def test_models_and_methods_list_what_exists():
    models = workbench("models")
    assert models.returncode == 0 and "zoo:shapes-cnn" in models.stdout and "torchvision:resnet18" in models.stdout
    methods = workbench("methods", "--task", "classify")
    assert methods.returncode == 0
    for name in ("filters", "activations", "occlusion", "gradcam", "edge-baseline"):
        assert f"\n{name}  [" in "\n" + methods.stdout
    assert "window = " in methods.stdout
    occlusion = methods.stdout.split("\nocclusion  [")[1].split("\n")
    window = next(line for line in occlusion if line.strip().startswith("window = "))
    assert "0: auto" in window and "side in input pixels" in window     # what 0 means, and the help


def test_fid_writes_a_score_table_beside_the_card_and_real_digits(tmp_path):
    out = workbench("run", "fid", "--model", "zoo:digits-dcgan", "--set", "n=200", "--out", str(tmp_path / "f.png"),
                    "--npz", str(tmp_path / "f.npz"))
    assert out.returncode == 0, out.stderr
    assert non_blank(tmp_path / "f.png")
    width, height = Image.open(tmp_path / "f.png").size
    assert width > height        # a table above a bar chart, wider than tall
    data = np.load(tmp_path / "f.npz")
    assert int(data["n"]) == 200 and int(data["class_counts"].sum()) == 200
    assert 0 < float(data["fid"]) < 5 and float(data["is_mean"]) > 1

    from workbench.core.methods.fid import card_references
    from workbench.core.results.scores import Scores
    from workbench.figure import render, scores
    from workbench.zoo import catalogue
    result = Scores(method="fid", model="zoo:digits-dcgan", params={"n": 200, "seed": 0}, title="fid",
                    values={k: data[k].tolist() for k in ("n", "fid", "kid_mean", "kid_std", "is_mean", "is_std",
                                                          "class_counts")},
                    references=card_references("zoo:digits-dcgan"))
    assert json.loads(str(data["params"]))["references"] == json.loads(json.dumps(result.references))
    card = catalogue.card("digits-dcgan")["metrics"]
    columns = scores.columns_for(result)
    assert [c.header for c in columns] == ["this run", "model card", "real digits"]
    assert columns[0].detail == "n=200, seed 0"
    svg = render.export_result(result, None, tmp_path / "f.svg").read_text()
    for cell in (f"{float(data['fid']):.3f}", f"{card['fid']:.3f}", f"{card['real_train_digits']['fid']:.3f}",
                 f"{card['real_train_digits']['is_mean']:.2f} ± {card['real_train_digits']['is_std']:.2f}"):
        assert cell in svg, cell


def test_scores_without_a_card_show_one_column_and_refuse_when_empty(tmp_path):
    from workbench.core.results.scores import Scores
    from workbench.figure import render, scores
    result = Scores(method="fid", model="file:/x.pt", values={"fid": 1.5, "kid_mean": 0.01, "kid_std": 0.002,
                                                              "is_mean": 3.0, "is_std": 0.1})
    assert [c.header for c in scores.columns_for(result)] == ["this run"]
    assert scores.format_score(result.values, "kid") == "0.0100 ± 0.0020"
    assert scores.format_score({}, "is") == "–"
    assert non_blank(render.export_result(result, None, tmp_path / "s.png", scale=2.0))
    with pytest.raises(ValueError, match="npz"):
        render.export_result(Scores(values={"n": 3}), None, tmp_path / "e.png")


@pytest.fixture
def nothing_computed(monkeypatch):
    """Fails the test if the CLI loads a model or runs a method."""
    from workbench import api

    def computed(*_args, **_kwargs):
        raise AssertionError("the CLI computed before checking its outputs")
    monkeypatch.setattr(api, "load_model", computed)
    monkeypatch.setattr(api, "run", computed)


@pytest.mark.parametrize("outputs, fragment", [
    (("--out", "f.gif"), "--out: cannot export 'f.gif': unsupported format '.gif'"),
    (("--npz", "f.npy"), "--npz 'f.npy': the arrays file must end in .npz"),
    (("--npz", "f.png", "--out", "f.png"), "--npz 'f.png': the arrays file must end in .npz"),
    (("--npz", "nowhere/f.npz"), "--npz: cannot write nowhere/f.npz: the folder nowhere does not exist"),
    (("--out", "f.png", "--scale", "0"), "--scale must be a positive number, not 0.0"),
    (("--out", "in.png", "--image", "in.png"), "--out in.png would overwrite --image in.png"),
    (("--npz", "in.npz", "--image", "in.json"), "the params file of --npz in.json would overwrite --image in.json"),
    (("--npz", "m.npz", "--model", "file:m.json?input=64x64"),
     "the params file of --npz m.json would overwrite --model m.json"),
    (("--npz", "m.npz", "--model", "torchvision:resnet18?weights=m.json"),
     "the params file of --npz m.json would overwrite the weights of --model m.json"),
    (("--out", "f.png", "--set", "n"), "--set takes k=v, got 'n'"),
])
def test_outputs_are_checked_before_anything_is_computed(capsys, monkeypatch, tmp_path, nothing_computed,
                                                         outputs, fragment):
    from workbench import cli
    monkeypatch.chdir(tmp_path)
    for name in ("in.png", "in.json", "m.json"):
        (tmp_path / name).write_bytes(b"an input that must survive")
    args = ["run", "fid", "--model", "zoo:digits-dcgan", *outputs]
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"workbench run: {fragment}") and err.count("\n") == 1, err
    assert sorted(os.listdir(tmp_path)) == ["in.json", "in.png", "m.json"]
    assert all(p.read_bytes() == b"an input that must survive" for p in tmp_path.iterdir())


def test_a_wrong_suffix_fails_fast_on_a_slow_method(tmp_path):
    started = time.monotonic()
    out = workbench("run", "fid", "--model", "zoo:digits-dcgan", "--set", "n=10000", "--npz",
                    str(tmp_path / "f.npz"), "--out", str(tmp_path / "f.bmp"))
    assert out.returncode == 2 and "unsupported format '.bmp'" in out.stderr
    assert time.monotonic() - started < 60        # the run itself (fid of 10,000 samples) would take far longer
    assert os.listdir(tmp_path) == []


def _run_occlusion(capsys, monkeypatch, tty, *extra):
    from workbench import cli
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    code = cli.main(["run", "occlusion", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-0",
                     "--set", "window=16", "--set", "stride=8", *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["method"] == "occlusion"
    return out.err


def test_a_terminal_gets_a_progress_bar_with_rate_and_time_left(capsys, monkeypatch):
    err = _run_occlusion(capsys, monkeypatch, True)
    assert re.search(r"occlusion 100%\|█+\| \d\d:\d\d<00:00, [\d.]+%/s, occlusion: \d+/\d+ windows", err), err


@pytest.mark.parametrize("tty, extra", [(False, ()), (True, ("--quiet",))])
def test_no_terminal_or_quiet_gets_no_progress_text(capsys, monkeypatch, tty, extra):
    assert _run_occlusion(capsys, monkeypatch, tty, *extra) == ""


def test_script_redraws_the_figure_from_its_arrays(tmp_path):
    out = workbench("run", "saliency", "--model", "zoo:shapes-cnn", "--image", "sample:shapes-2",
                    "--script", str(tmp_path / "fig.py"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "fig.figure.npz").is_file()
    drawn = subprocess.run([sys.executable, str(tmp_path / "fig.py"), "--out", str(tmp_path / "fig.png")],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert non_blank(tmp_path / "fig.png")
    with np.load(tmp_path / "fig.figure.npz") as saved:
        assert json.loads(str(saved["params"]))["method"] == "saliency"
