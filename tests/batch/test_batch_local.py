"""Batch runs in this process: items, npz equal to api.run, error rows, resume, the index."""
import json
import os

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from workbench import api
from workbench.core.batch import store as S
from workbench.plugins import default_registry
from workbench.core.batch.items import load_item_image, resolve_items
from workbench.core.batch.run import read_index, run_batch as run_named
from workbench.core.results.restore import load_result
from workbench.zoo.shapes import render_shape

MODEL = "zoo:shapes-cnn"


def run_batch(method, *args, **kwargs):
    return run_named(default_registry().get(method), *args, **kwargs)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    for i in range(5):
        sub = root / ("left" if i % 2 else "right")
        sub.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sub / f"im{i}.png"), render_shape(100 + i)[0][..., ::-1])
    (root / "right" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "left" / "notes.txt").write_text("not an image suffix: not an item")
    return root


def npz_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_items_of_a_folder_a_glob_and_a_dataset(folder):
    items = resolve_items(str(folder))
    assert [i.key for i in items] == ["left/im1.png", "left/im3.png", "right/broken.png", "right/im0.png",
                                      "right/im2.png", "right/im4.png"]
    assert [i.label for i in items] == [0, 0, 1, 1, 1, 1]
    assert [i.key for i in resolve_items(str(folder / "*" / "im[0-2].png"))] == \
        ["left/im1.png", "right/im0.png", "right/im2.png"]
    digits = resolve_items("dataset:digits")
    assert len(digits) == 1797 and digits[5].key == "digits-0005"
    shapes = resolve_items("dataset:shapes:3")
    image = load_item_image(shapes[1].source)
    assert np.array_equal(image, render_shape(int(shapes[1].key.split("-")[1]))[0])
    assert shapes[1].label == render_shape(int(shapes[1].key.split("-")[1]))[1]
    for bad, message in [("dataset:cats", "unknown dataset"), (str(folder / "nothing*.png"), "no files match"),
                         ("dataset:shapes:x", "whole number"), (str(folder / "absent"), "not a folder")]:
        with pytest.raises(ValueError, match=message):
            resolve_items(bad)


def test_each_npz_is_what_api_run_gives_and_a_bad_image_is_an_error_row(folder, tmp_path):
    out = tmp_path / "out"
    table = run_batch("saliency", MODEL, str(folder), out)
    rows = {r["key"]: r for r in table.to_pylist()}
    assert len(rows) == 6
    bad = rows.pop("right/broken.png")
    assert bad["status"] == "error" and "broken.png" in bad["error"] and bad["npz"] is None or bad["npz"] == ""
    model = api.load_model(MODEL)
    for key, row in rows.items():
        assert row["status"] == "ok" and row["error"] == ""
        saved = npz_arrays(out / row["npz"])
        again = api.run("saliency", model, str(folder / key))
        expected = again.npz_data()
        assert set(saved) == set(expected)
        for name in expected:
            if name == "params":
                assert json.loads(str(saved[name])) == json.loads(str(expected[name]))
            else:
                np.testing.assert_allclose(saved[name], expected[name], rtol=1e-5, atol=1e-6)
        assert row["target"] == again.target and row["target_label"] == again.target_label
        assert (out / row["npz"]).with_suffix(".json").read_text() == again.params_json()
    on_disk = pq.read_table(out / S.INDEX)
    assert on_disk.to_pylist() == table.to_pylist()


def test_a_resume_computes_only_what_is_missing_and_keeps_what_was_done(folder, tmp_path):
    out = tmp_path / "out"
    run_batch("feature-vector", MODEL, str(folder), out)
    first = {p: os.stat(p).st_mtime_ns for p in (out / "items").rglob("*.npz")}
    # the run stopped after writing im4's npz and before recording it; im2 was never reached
    journal = (out / S.JOURNAL).read_text().splitlines()
    kept = [line for line in journal if json.loads(line)["key"] not in ("right/im4.png", "right/im2.png")]
    (out / S.JOURNAL).write_text("\n".join(kept) + "\n" + '{"key": "right/im2.png", "sta')   # a torn line
    os.remove(out / "items" / "right" / "im2.png.npz")
    seen = []
    table = run_batch("feature-vector", MODEL, str(folder), out, on_progress=lambda p: seen.append(p))
    assert [p.last.item.key for p in seen if p.last] == ["right/im2.png"]       # only the missing item ran
    assert seen[0].done == 5 and seen[0].resumed == 5 and seen[-1].done == 6
    after = {p: os.stat(p).st_mtime_ns for p in (out / "items").rglob("*.npz")}
    assert all(after[p] == t for p, t in first.items() if "im2" not in str(p))
    rows = {r["key"]: r for r in table.to_pylist()}
    assert len(rows) == 6 and rows["right/im4.png"]["worker"] == "recovered"
    assert rows["right/im4.png"]["predicted_label"] == load_result(out / rows["right/im4.png"]["npz"]).predicted_label
    assert [r["key"] for r in read_index(out).to_pylist()] == sorted(rows)


def test_errors_stay_finished_unless_asked_and_other_settings_are_refused(folder, tmp_path):
    out = tmp_path / "out"
    run_batch("saliency", MODEL, str(folder), out)
    (folder / "right" / "broken.png").write_bytes(cv2.imencode(".png", render_shape(7)[0])[1].tobytes())
    again = run_batch("saliency", MODEL, str(folder), out)
    assert {r["key"]: r["status"] for r in again.to_pylist()}["right/broken.png"] == "error"
    retried = run_batch("saliency", MODEL, str(folder), out, retry_errors=True)
    assert {r["key"]: r["status"] for r in retried.to_pylist()}["right/broken.png"] == "ok"
    with pytest.raises(ValueError, match="other settings: method 'saliency' \\(now 'gradcam'\\)"):
        run_batch("gradcam", MODEL, str(folder), out)
    with pytest.raises(ValueError, match="other settings: params"):
        run_batch("saliency", MODEL, str(folder), out, {"channels": "sum"})
    with pytest.raises(ValueError, match="unknown parameter"):
        run_batch("saliency", MODEL, str(folder), tmp_path / "new", {"x": 1})
    with pytest.raises(ValueError, match="makes no use of an image"):
        run_batch("filters", MODEL, str(folder), tmp_path / "new")
    with pytest.raises(KeyError, match="no method 'nope'"):
        run_batch("nope", MODEL, str(folder), tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "thesis.tex").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        run_batch("saliency", MODEL, str(folder), tmp_path / "full")
    assert os.listdir(tmp_path / "full") == ["thesis.tex"]


def test_the_index_types_a_mixed_column_as_text():
    table = S.index_table([{"key": "b", "v": 1}, {"key": "a", "v": "x"}, {"key": "c"}])
    assert table.column_names[:8] == list(S.FIXED_COLUMNS)
    assert table.column("key").to_pylist() == ["a", "b", "c"]
    assert table.column("v").to_pylist() == ["x", "1", None]


def test_api_batch_returns_the_index(tmp_path):
    table = api.batch("feature-vector", MODEL, "dataset:shapes:4", tmp_path / "b")
    assert table.num_rows == 4 and set(table.column("status").to_pylist()) == {"ok"}
    labels = table.column("label").to_pylist()
    predicted = table.column("predicted").to_pylist()
    assert sum(a == b for a, b in zip(labels, predicted)) >= 3     # the classifier reads the shapes
