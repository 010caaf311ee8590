"""The exported detection figure draws the npz boxes where the npz says they are."""
import numpy as np
from PIL import Image

from workbench import api
from workbench.core.canvas_layers import ImageLayer
from workbench.core.renderers import layers_for
from workbench.figure import render

SCALE = 3.0


def box_pixels_match(png: np.ndarray, panel, s: float, box, color, tolerance=40) -> bool:
    """Whether pixels of ``color`` lie on the left and right edges of ``box`` in the figure."""
    x0, y0, x1, y1 = box
    y = panel.top() + (y0 + y1) / 2 * s
    found = []
    for x in (x0, x1):
        px, py = panel.left() + x * s, y
        patch = png[int(py) - 2:int(py) + 3, int(px) - 3:int(px) + 4, :3].reshape(-1, 3).astype(int)
        found.append(bool((np.abs(patch - np.array(color)).max(axis=1) <= tolerance).any()))
    return all(found)


def test_png_boxes_are_the_npz_boxes(tmp_path):
    model = api.load_model("zoo:shapes-fasterrcnn")
    image = api.load_image("sample:scene-1")
    result = api.run("detect", model, image)
    result.save_npz(tmp_path / "d.npz")
    render.export_result(result, image, tmp_path / "d.png", scale=SCALE)
    saved = np.load(tmp_path / "d.npz")
    png = np.asarray(Image.open(tmp_path / "d.png").convert("RGB"))
    layers = [ImageLayer(name="image", image=image)] + layers_for(result)
    fig = render.layers_figure(layers, SCALE, result.title)
    assert png.shape[:2] == (round(fig.size[1]), round(fig.size[0]))
    s = fig.panel.width() / image.shape[1]
    boxes_layer = layers[-1]
    assert len(saved["boxes"]) > 0
    for box, color in zip(saved["boxes"], boxes_layer.colors):
        assert box_pixels_match(png, fig.panel, s, box, color)
        wider = box + np.array([-6, 0, 6, 0])      # 6 image pixels outside the box: no edge there
        assert not box_pixels_match(png, fig.panel, s, wider, color, tolerance=10)
