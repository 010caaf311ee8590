"""The Attention tab on a tiny ViT: each mode shows its method's map, clicks and the layer and
head controls show the result's other views without running again, the heads grid, exports,
and a clear hint for a model without attention."""
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.core.vit_reference import tiny_vit_handle
from tests.tiny import builtin_registry, picture, tiny_handle
from workbench import api
from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer
from workbench.core.geometry import Geometry
from workbench.core.registry import Method, Registry
from workbench.core.results import ImageGrid
from workbench.core.results.attention import AttentionHeatmap, PositionalSimilarity, RolloutHeatmap
from workbench.ui.attention import panel as ap
from workbench.ui.attention.canvas import GridScene, MapScene
from workbench.ui.attention.controls import ATTENTION, GRID, MEAN, POSITIONAL, ROLLOUT
from workbench.core.model_traits import has_attention_layers, has_patch_attention
from workbench.ui.attention.patches import patch_at, patch_box
from workbench.ui.attention.runs import attention_key
from workbench.ui.panels import PANELS, Deferred

TIMEOUT_MS = 30000
IMAGE_HW = (24, 32)      # picture(): a 4 x 4 patch grid stretched over it, patches 8 px wide and 6 px high


@pytest.fixture
def jobs(engine):
    """Every ticket the engine hands out, in order."""
    tickets = []
    engine.submitted.connect(tickets.append)
    yield tickets
    engine.submitted.disconnect(tickets.append)


def finished(qtbot, jobs, mode, count=1):
    """The result of the ``count``-th job of ``mode``, once it is done."""
    mine = lambda: [t for t in jobs if t.key == attention_key(mode)]   # noqa: E731
    qtbot.waitUntil(lambda: len(mine()) >= count and mine()[count - 1].ended, timeout=TIMEOUT_MS)
    ticket = mine()[count - 1]
    assert ticket.state == "done", ticket.error
    qtbot.wait(10)    # the panel's own slot for ``done`` has run
    return ticket.result


@pytest.fixture
def panel(bind, workspace, jobs):
    workspace.set_registry(builtin_registry())
    workspace.set_model(tiny_vit_handle())
    workspace.set_image(picture())
    p = bind(ap.AttentionPanel)
    p.resize(900, 600)
    return p


def heat(scene):
    return next(l for l in scene.layers if isinstance(l, HeatmapLayer)).data


def click_image(qtbot, p, x, y):
    qtbot.mouseClick(p.canvas, Qt.MouseButton.LeftButton, pos=p.canvas.widget_point(x, y).toPoint())


def test_the_attention_tab_is_a_deferred_tab_after_compare():
    names = [e if isinstance(e, str) else e.path for e in PANELS]
    entry = PANELS[names.index("workbench.ui.attribution.compare:ComparePanel") + 1]
    assert entry == Deferred("workbench.ui.attention.panel:AttentionPanel", "Attention", "attentionTab", ("attend",),
                             "workbench.core.model_traits:has_patch_attention")
    assert (ap.AttentionPanel.title, ap.AttentionPanel.area, ap.AttentionPanel.object_name) == \
        ("Attention", "tab", "attentionTab")


def test_attention_shows_the_results_map_for_the_last_layer_the_mean_of_heads_and_cls(qtbot, panel, jobs):
    result = finished(qtbot, jobs, ATTENTION)
    assert isinstance(result, AttentionHeatmap)
    assert (result.params["query"], result.params["head"], result.layer) == ("cls", 0, 1)
    want = result.at(1, MEAN, 0)
    shown = panel.current_result()
    np.testing.assert_allclose(shown.heatmap, want.heatmap)
    assert shown.title == "attention layer 1, mean of heads: CLS"
    assert isinstance(panel.canvas.scene, MapScene)
    np.testing.assert_allclose(heat(panel.canvas.scene), want.heatmap)
    assert not any(isinstance(l, BoxesLayer) for l in panel.canvas.scene.layers)   # CLS is no patch
    assert panel.controls.layer_spin.maximum() == 1 and panel.controls.layer() == 1
    assert [panel.controls.head_box.itemData(i) for i in range(panel.controls.head_box.count())] == [GRID, MEAN, 0, 1]


def test_clicking_a_patch_and_moving_the_layer_reread_the_weights_without_a_job(qtbot, panel, jobs):
    result = finished(qtbot, jobs, ATTENTION)
    submitted = len(jobs)
    click_image(qtbot, panel, 12.0, 15.0)                  # patch (2, 1): token 1 + 2 * 4 + 1
    shown = panel.current_result()
    assert shown.query == 10 and shown.title == "attention layer 1, mean of heads: patch (2, 1)"
    np.testing.assert_allclose(shown.heatmap, result.at(1, MEAN, 10).heatmap)
    marker = next(l for l in panel.canvas.scene.layers if isinstance(l, BoxesLayer))
    np.testing.assert_allclose(marker.boxes, [[8, 12, 16, 18]])
    panel.controls.layer_slider.setValue(0)
    assert panel.controls.layer_spin.value() == 0
    np.testing.assert_allclose(heat(panel.canvas.scene), result.at(0, MEAN, 10).heatmap)
    panel.controls.set_head(1)
    np.testing.assert_allclose(panel.current_result().heatmap, result.at(0, 1, 10).heatmap)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert panel.current_result().query == 0
    np.testing.assert_allclose(panel.current_result().heatmap, result.at(0, 1, 0).heatmap)
    click_image(qtbot, panel, 40.0, 15.0)                  # outside the image: nothing changes
    assert panel.current_result().query == 0
    qtbot.wait(50)
    assert len(jobs) == submitted


def test_the_heads_grid_shows_every_layer_by_every_head_and_a_tile_opens_its_head(qtbot, panel, jobs):
    result = finished(qtbot, jobs, ATTENTION)
    submitted = len(jobs)
    panel.controls.set_head(GRID)
    click_image(qtbot, panel, 28.0, 3.0)                   # the query: patch (0, 3), token 4
    grid = panel.current_result()
    assert isinstance(grid, ImageGrid) and grid.tiles.shape == (4, 4, 4)
    assert grid.titles == ["head 0, layer 0", "head 1, layer 0", "head 0, layer 1", "head 1, layer 1"]
    for i, (layer, head) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        np.testing.assert_allclose(grid.tiles[i], result.at(layer, head, 4).attribution)
    scene = panel.canvas.scene
    assert isinstance(scene, GridScene) and (scene.rows, scene.columns, len(scene.tiles)) == (2, 2, 4)
    assert scene.caption == "query: patch (0, 3)" and scene.highlight == (1, None)
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton, pos=panel.canvas.tile_rect(1).center().toPoint())
    assert (panel.controls.layer(), panel.controls.head()) == (0, 1) and not panel.shows_grid()
    shown = panel.current_result()
    assert isinstance(shown, AttentionHeatmap) and (shown.layer, shown.head, shown.query) == (0, 1, 4)
    np.testing.assert_allclose(shown.heatmap, result.at(0, 1, 4).heatmap)
    qtbot.wait(50)
    assert len(jobs) == submitted


def test_rollout_shows_the_methods_map_and_reruns_when_its_settings_or_target_change(qtbot, panel, jobs, workspace):
    finished(qtbot, jobs, ATTENTION)
    panel.controls.set_mode(ROLLOUT)
    result = finished(qtbot, jobs, ROLLOUT)
    assert isinstance(result, RolloutHeatmap)
    assert result.params == {"head_fusion": "mean", "discard_ratio": 0.9, "gradient": False, "row": 0}
    direct = api.run("rollout", tiny_vit_handle(), picture(), head_fusion="mean", discard_ratio=0.9)
    np.testing.assert_allclose(panel.current_result().heatmap, direct.heatmap, rtol=1e-5)
    np.testing.assert_allclose(heat(panel.canvas.scene), result.heatmap)
    click_image(qtbot, panel, 4.0, 22.0)                   # patch (3, 0): rollout row 1 + 12
    np.testing.assert_allclose(panel.current_result().heatmap, result.at(13).heatmap)
    panel.controls.fusion_box.setCurrentText("max")
    fused = finished(qtbot, jobs, ROLLOUT, count=2)
    assert fused.params["head_fusion"] == "max"
    np.testing.assert_allclose(panel.current_result().heatmap, fused.at(13).heatmap)   # the patch stays
    workspace.set_target(2)
    panel.controls.gradient_box.setChecked(True)
    weighted = finished(qtbot, jobs, ROLLOUT, count=3)
    assert weighted.target == 2 and weighted.params["gradient"] is True
    assert panel.current_result().target == 2 and "target 2: c" in panel.status.text()
    np.testing.assert_allclose(panel.current_result().heatmap, weighted.at(13).heatmap)
    workspace.set_target(1)                                # a gradient rollout follows the target
    assert finished(qtbot, jobs, ROLLOUT, count=4).target == 1


def test_positional_similarity_starts_at_the_centre_and_follows_clicks(qtbot, panel, jobs):
    finished(qtbot, jobs, ATTENTION)
    panel.controls.set_mode(POSITIONAL)
    result = finished(qtbot, jobs, POSITIONAL)
    assert isinstance(result, PositionalSimilarity) and result.row == 10       # centre: patch (2, 2)
    np.testing.assert_allclose(panel.current_result().heatmap, result.heatmap)
    assert panel.reset_button.text() == "Centre"
    submitted = len(jobs)
    click_image(qtbot, panel, 28.0, 3.0)                   # patch (0, 3)
    np.testing.assert_allclose(panel.current_result().heatmap, result.at(3).heatmap)
    panel.reset_query()
    assert panel.current_result().row == 10
    panel.controls.set_mode(ATTENTION)                     # each mode keeps its result
    assert isinstance(panel.current_result(), AttentionHeatmap)
    qtbot.wait(50)
    assert len(jobs) == submitted


def test_a_new_image_runs_again_and_keeps_the_picked_patch(qtbot, panel, jobs, workspace):
    finished(qtbot, jobs, ATTENTION)
    panel.pick_patch(1, 2)
    workspace.set_image(picture(seed=3))
    assert panel.current_result() is None
    again = finished(qtbot, jobs, ATTENTION, count=2)
    assert again.params["query"] == "6"
    np.testing.assert_allclose(panel.current_result().heatmap, again.at(1, MEAN, 7).heatmap)


def test_export_writes_the_map_and_the_grid_as_png_svg_and_pdf(qtbot, panel, jobs, tmp_path):
    finished(qtbot, jobs, ATTENTION)
    one = panel.export_figure(tmp_path / "map.png")
    two = panel.export_figure(tmp_path / "map2.png", scale=2)
    w1, w2 = Image.open(one).size[0], Image.open(two).size[0]
    assert 1.8 < w2 / w1 < 2.1          # the image panel doubles; margins and fonts grow less
    assert "<svg" in panel.export_figure(tmp_path / "map.svg").read_text()
    assert panel.export_figure(tmp_path / "map.pdf").read_bytes().startswith(b"%PDF")
    panel.controls.set_head(GRID)
    grid_png = Image.open(panel.export_figure(tmp_path / "grid.png")).convert("RGB")
    assert grid_png.size != Image.open(one).size
    assert np.asarray(grid_png).std() > 10          # tiles were drawn
    assert "<svg" in panel.export_figure(tmp_path / "grid.svg").read_text()
    assert panel.export_figure(tmp_path / "grid.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="'grid.jpg'"):
        panel.export_figure(tmp_path / "grid.jpg")
    assert not (tmp_path / "grid.jpg").exists()


def test_a_model_without_attention_shows_the_hint_and_runs_nothing(qtbot, bind, workspace, jobs, tmp_path):
    workspace.set_registry(builtin_registry())
    workspace.set_model(tiny_handle())
    workspace.set_image(picture())
    p = bind(ap.AttentionPanel)
    qtbot.wait(50)
    assert "Load a ViT: zoo:shapes-vit or torchvision:vit_b_16" in p.canvas.HINT
    assert p.hint() == "test:tiny has no attention layers to read. Load a ViT: zoo:shapes-vit or torchvision:vit_b_16"
    assert p.canvas.scene is None and not p.controls.isEnabled() and jobs == []
    with pytest.raises(ValueError, match="no attention layers"):
        p.export_figure(tmp_path / "none.png")
    workspace.set_model(tiny_vit_handle())                 # a ViT after it: the map comes
    assert isinstance(finished(qtbot, jobs, ATTENTION), AttentionHeatmap)
    assert p.hint() == "" and p.controls.isEnabled()


def test_a_failed_run_says_why_and_is_not_retried(qtbot, bind, workspace, jobs):
    def broken(ctx, params):
        raise ValueError("weights unreadable")
    registry = Registry()
    registry.add(Method(name=ATTENTION, tasks=("classify",), params=builtin_registry().get(ATTENTION).params,
                        run=broken, kind="attention"))
    workspace.set_registry(registry)
    workspace.set_model(tiny_vit_handle())
    workspace.set_image(picture())
    p = bind(ap.AttentionPanel)
    said = []
    p.message.connect(said.append)
    qtbot.waitUntil(lambda: bool(said), timeout=TIMEOUT_MS)
    assert said == ["Attention: ValueError: weights unreadable"]
    assert "Attention failed:" in p.hint() and "weights unreadable" in p.canvas.HINT
    qtbot.wait(100)
    assert len(jobs) == 1


def test_patches_follow_the_centre_crop_and_attention_layers_are_found_by_class():
    geometry = Geometry((32, 32), resize="shorter", resize_to=32, crop=(32, 32))
    hw = (48, 64)
    x0, y0, x1, y1 = geometry.crop_box(hw)
    assert x0 > 0 and patch_at(x0 - 0.5, 20, (4, 4), hw, geometry) is None
    assert patch_at(x0 + 0.1, y0 + 0.1, (4, 4), hw, geometry) == (0, 0)
    for r in range(4):
        for c in range(4):
            bx0, by0, bx1, by1 = patch_box(r, c, (4, 4), hw, geometry)
            assert patch_at((bx0 + bx1) / 2, (by0 + by1) / 2, (4, 4), hw, geometry) == (r, c)
    assert patch_box(3, 3, (4, 4), hw, geometry)[2:] == pytest.approx((x1, y1))
    assert has_attention_layers(tiny_vit_handle().module) and not has_attention_layers(tiny_handle().module)
    assert not has_attention_layers(object())
    from workbench.zoo.detr import ShapesDETR
    detr = ShapesDETR()
    assert has_attention_layers(detr) and not has_patch_attention(detr)   # the DETR tab's, not this one's
    assert has_patch_attention(tiny_vit_handle().module)


def test_a_centre_cropped_map_is_coloured_over_the_patches_not_the_zeros_around_them(qtbot, bind, workspace, jobs):
    from workbench.core.handle import ModelHandle, Preprocess
    from tests.core.vit_reference import tiny_vit
    crop = Geometry((32, 32), resize="shorter", resize_to=40, crop=(32, 32))
    handle = ModelHandle(id="test:cropped-vit", module=tiny_vit(), task="classify", preprocess=Preprocess(crop),
                         labels=["a", "b", "c"])
    workspace.set_registry(builtin_registry())
    workspace.set_model(handle)
    workspace.set_image(picture(40, 40))
    p = bind(ap.AttentionPanel)
    finished(qtbot, jobs, ATTENTION)
    shown = p.current_result()
    assert shown.heatmap.min() == 0 < shown.attribution.min()        # zeros outside what the model sees
    layer = next(l for l in p.canvas.scene.layers if isinstance(l, HeatmapLayer))
    assert layer.levels == pytest.approx((shown.attribution.min(), shown.attribution.max()))


def test_export_as_script_redraws_the_map_as_shown_and_the_grid(qtbot, panel, jobs, tmp_path):
    import subprocess
    import sys
    finished(qtbot, jobs, ATTENTION)
    panel.pick_patch(1, 1)
    shown = next(l for l in panel.canvas.scene.layers if isinstance(l, HeatmapLayer))
    script = panel.export_script(tmp_path / "map.py")
    with np.load(tmp_path / "map.figure.npz") as npz:
        np.testing.assert_allclose(npz["heatmap"], shown.data)
        np.testing.assert_allclose(npz["heatmap_levels"], shown.levels)
        np.testing.assert_allclose(npz["boxes"], [[8, 6, 16, 12]])          # the query patch (1, 1)
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "map.png")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "map.png").size[0] > 100
    panel.controls.set_head(GRID)
    panel.export_script(tmp_path / "grid.py")
    with np.load(tmp_path / "grid.figure.npz") as npz:
        np.testing.assert_allclose(npz["tiles"], panel.current_result().tiles)
        assert list(npz["column_labels"]) == ["head 0", "head 1"] and list(npz["row_labels"]) == ["layer 0", "layer 1"]
