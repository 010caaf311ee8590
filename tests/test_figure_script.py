"""Export as Script: the script redraws the figure from its npz with matplotlib, run as a user would."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from workbench.core import colormaps
from workbench.core.canvas_layers import PALETTE, class_color
from workbench.core.results import AttentionMaps, Curves, Detections, Heatmap, ImageGrid, Scores, SegMask
from workbench.figure.render import overlay_layers
from workbench.figure.script import companion_npz, figure_script, script_arrays, write_script

pytest.importorskip("matplotlib")


def photo(h=48, w=64):
    """A smooth, light RGB image."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([150 + 50 * x / w, 150 + 50 * y / h, np.full((h, w), 180.0)], axis=2).astype(np.uint8)


def heatmap():
    data = np.zeros((48, 64), np.float32)
    data[:, :32], data[:, 32:] = -1.0, 1.0
    return Heatmap(method="saliency", model="test:tiny", heatmap=data, signed=True, target=2, title="saliency: cat")


def detections():
    return Detections(method="detect", model="test:det", title="2 detections", label_names=["bg", "circle", "square"],
                      boxes=np.array([[4, 6, 30, 40], [34, 10, 60, 44]], np.float32),
                      scores=np.array([0.95, 0.9], np.float32), labels=np.array([1, 2]))


def grid():
    xs = [-1.0, 0.0, 1.0]
    return ImageGrid(method="manifold", tiles=np.random.default_rng(0).normal(size=(9, 12, 12)).astype(np.float32),
                     titles=[f"x {x:+.2f}, y {y:+.2f}" for y in xs[::-1] for x in xs], title="latent dims 0 and 1")


def scores():
    return Scores(method="fid", model="zoo:gan", title="FID 0.50", params={"seed": 0},
                  values={"n": 100, "fid": 0.5, "kid_mean": 0.01, "kid_std": 0.002, "is_mean": 4.5, "is_std": 0.3,
                          "class_counts": [5, 9, 12, 3]},
                  references=[{"header": "model card", "detail": "n=500", "values": {"fid": 0.29}}])


def run_script(script, tmp_path) -> np.ndarray:
    """Run the script with --out in a fresh interpreter (Agg backend, another working folder);
    the PNG it writes as an RGB array."""
    from PIL import Image
    out = tmp_path / "fig.png"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=str(tmp_path.parent))
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.stat().st_size > 1000
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def near(pixels: np.ndarray, rgb, tol=12) -> int:
    return int((np.abs(pixels - np.asarray(rgb)).max(axis=2) <= tol).sum())


def test_heatmap_script_draws_the_image_and_the_diverging_map(tmp_path):
    result = heatmap()
    npz, py = write_script(result, tmp_path / "h.npz", tmp_path / "h.py", image=photo())
    data = np.load(npz)
    layer = overlay_layers(result)[0]
    assert np.array_equal(data["image"], photo()) and np.array_equal(data["heatmap"], result.heatmap)
    assert tuple(data["heatmap_levels"]) == pytest.approx(layer.levels)       # the figure's levels
    assert str(data["heatmap_cmap"]) == layer.colormap == "coolwarm"
    assert np.array_equal(data["heatmap_lut"], colormaps.lut("coolwarm"))
    source = py.read_text()
    assert "np.load(" in source and "colormap(\"heatmap\")" in source and "fig.colorbar" in source
    pixels = run_script(py, tmp_path)
    reddish = (pixels[..., 0] > pixels[..., 2] + 60).sum()
    bluish = (pixels[..., 2] > pixels[..., 0] + 60).sum()
    assert reddish > 2000 and bluish > 2000          # both halves of the map, and the colorbar


def test_detections_script_draws_each_box_in_its_class_colour(tmp_path):
    result = detections()
    py = tmp_path / "d.py"
    write_script(result, companion_npz(py), py, image=photo())
    data = np.load(companion_npz(py))
    assert list(data["boxes_texts"]) == ["circle 0.95", "square 0.90"]
    assert [tuple(c) for c in data["boxes_colors"]] == [PALETTE[1], PALETTE[2]]
    assert list(data["boxes_order"]) == [1, 0]       # the highest score drawn last, on top
    pixels = run_script(py, tmp_path)
    assert near(pixels, PALETTE[1]) > 200 and near(pixels, PALETTE[2]) > 200


def test_grid_script_draws_subplots_labelled_at_the_edges(tmp_path):
    result = grid()
    (tmp_path / "sub").mkdir()
    npz, py = write_script(result, tmp_path / "sub" / "g.npz", tmp_path / "g.py")
    source = py.read_text()
    assert "plt.subplots(rows, cols" in source and "rows, cols = 3, 3" in source
    assert "'sub/g.npz'" in source                   # found beside the script wherever it is run from
    data = np.load(npz)
    assert list(data["column_labels"]) == ["x -1.00", "x +0.00", "x +1.00"]
    assert list(data["row_labels"]) == ["y +1.00", "y +0.00", "y -1.00"]
    assert data["tile_levels"].shape == (9, 2) and str(data["tiles_cmap"]) == "coolwarm"
    pixels = run_script(py, tmp_path)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100
    # laid out as the GUI laid it out (an interpolation: one row)
    assert "rows, cols = 1, 9" in figure_script(result, "g.npz", columns=9)


def test_scores_script_draws_a_table_and_the_class_counts(tmp_path):
    npz, py = write_script(scores(), tmp_path / "s.npz", tmp_path / "s.py")
    assert list(np.load(npz)["class_counts"]) == [5, 9, 12, 3]
    assert "ax.table(" in py.read_text() and "ax.bar(" in py.read_text()
    pixels = run_script(py, tmp_path)
    assert near(pixels, (0x46, 0x6E, 0xBE), 6) > 500        # the bars
    assert (pixels.max(axis=2) < 80).sum() > 500              # the table's text


def test_segmentation_and_curves_scripts_run(tmp_path):
    mask = np.zeros((48, 64), np.int64)
    mask[10:40, 10:30] = 3
    seg = SegMask(method="segment", mask=mask, label_names=["background", "a", "b", "triangle"], title="seg")
    npz, py = write_script(seg, tmp_path / "m.npz", tmp_path / "m.py", image=photo())
    assert [tuple(c) for c in np.load(npz)["segmentation_colors"]] == [class_color(c) for c in range(4)]
    pixels = run_script(py, tmp_path)
    assert near(pixels, class_color(3), 3) > 20          # the legend's swatch, in the pure class colour
    curves = Curves(method="ganlab", x=np.arange(50.0), series={"loss_d": np.linspace(1, 0, 50),
                                                                  "loss_g": np.linspace(0, 1, 50)}, title="losses")
    _, py = write_script(curves, tmp_path / "c.npz", tmp_path / "c.py")
    assert "ax.plot(" in py.read_text()
    run_script(py, tmp_path)


def test_overlay_script_uses_the_layers_as_drawn(tmp_path):
    """From the GUI the canvas's own layers are passed: a colormap picked in the Layers dock is kept."""
    layers = overlay_layers(heatmap())
    layers[0].colormap = "viridis"
    data = script_arrays(heatmap(), photo(), layers)
    assert str(data["heatmap_cmap"]) == "viridis" and np.array_equal(data["heatmap_lut"], colormaps.lut("viridis"))
    assert "colormap viridis" in figure_script(heatmap(), "x.npz", layers)


def test_bad_paths_and_results_change_nothing(tmp_path):
    old_npz, old_py = tmp_path / "a.npz", tmp_path / "a.py"
    old_npz.write_bytes(b"old npz")
    old_py.write_text("old script")
    with pytest.raises(ValueError, match="no figure"):
        write_script(AttentionMaps(), old_npz, old_py)
    with pytest.raises(ValueError, match=r"\.py"):
        write_script(heatmap(), old_npz, tmp_path / "a.txt")
    with pytest.raises(ValueError, match=r"\.npz"):
        write_script(heatmap(), tmp_path / "a.npy", old_py)
    with pytest.raises(FileNotFoundError):
        write_script(heatmap(), tmp_path / "missing" / "a.npz", old_py)
    assert old_npz.read_bytes() == b"old npz" and old_py.read_text() == "old script"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "a.py"]     # no temporary file left


def test_a_long_title_wraps_inside_the_figure(tmp_path):
    result = detections()
    result.title = ("DETR attention of query 3 (circle 0.98) at decoder layer 5, the heads' mean, over the "
                    "encoder's 16x16 feature map of a model with a long name")
    py = tmp_path / "t.py"
    write_script(result, companion_npz(py), py, image=photo())
    pixels = run_script(py, tmp_path)
    inked = np.flatnonzero((pixels.min(axis=2) < 100).any(axis=0))   # columns with dark title text
    margin = round(0.01 * pixels.shape[1])
    assert len(inked) and inked[0] > margin and inked[-1] < pixels.shape[1] - 1 - margin
