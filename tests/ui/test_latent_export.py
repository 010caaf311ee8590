"""The Latent tab's figure (PNG at a scale, SVG, PDF) and its result for File > Export Result."""
import json

import numpy as np
import pytest
from PIL import Image

from tests.core.test_latent_session import fresh_handle
from tests.ui.test_latent_explorer import open_model, refuse, wait_done
from workbench.core.latent import session as ls
from workbench.figure.render import pixel_scale
from workbench.ui.latent import explorer as le

TIMEOUT_MS = 30000


@pytest.fixture
def panel(qtbot, engine, workspace, bind):
    p = bind(le.LatentPanel, load_model=refuse)
    p.resize(1000, 700)
    open_model(qtbot, engine, workspace, fresh_handle("gan"))
    return p


def test_the_manifold_exports_as_png_at_a_scale_svg_and_pdf(panel, tmp_path):
    panel.tabs.setCurrentWidget(panel.manifold)
    grid = panel.current_result()
    assert grid is panel.manifold.grid_view.grid() and grid.method == "latent-manifold"
    with Image.open(panel.export_figure(tmp_path / "small.png", 2.0)) as small, \
            Image.open(panel.export_figure(tmp_path / "large.png", 4.0)) as large:
        # ten 32-pixel tiles across, each pixel drawn at least 2x and 4x
        assert small.width > 10 * 32 * 2 and large.width > 10 * 32 * 4
        assert large.width / small.width == pytest.approx(2.0, rel=0.03)
        assert large.height / small.height == pytest.approx(2.0, rel=0.03)
    svg = panel.export_figure(tmp_path / "grid.svg").read_text()
    assert "<svg" in svg and svg.count("<image") == 100
    pdf = panel.export_figure(tmp_path / "grid.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    with pytest.raises(ValueError, match="unsupported format"):
        panel.export_figure(tmp_path / "grid.bmp")


def test_the_interpolation_exports_as_a_strip_of_its_frames(qtbot, engine, panel, tmp_path):
    bar = panel.interpolation
    latents, frames = wait_done(qtbot, engine, le.PATH, lambda: bar.steps.setValue(5))
    panel.tabs.setCurrentWidget(bar)
    strip = panel.current_result()
    assert strip.method == "latent-interpolation" and strip.titles[-1] == "t=1.00"
    np.testing.assert_array_equal(strip.tiles[..., 0], frames)
    np.testing.assert_array_equal(strip.extra["latents"], latents)
    with Image.open(panel.export_figure(tmp_path / "strip.png", 3.0)) as im:
        assert im.width > 5 * im.height / 2 and im.width >= 5 * 32 * 3


def test_the_decoded_latent_exports_with_its_values(qtbot, workspace, panel, tmp_path):
    # a generator has no encoder and, here, no bundled autoencoders: the Encoding tab exports the decode
    panel.tabs.setCurrentWidget(panel.encoding_pane)
    qtbot.waitUntil(lambda: "not available" in panel.encoding_pane.scatter.notes["ae"].toPlainText(),
                    timeout=TIMEOUT_MS)
    result = panel.current_result()
    z, image = panel.state.z, panel.view.image()
    np.testing.assert_array_equal(image, ls.decode(workspace.handle, z))
    assert result.method == "latent-decode" and result.model == "test:gan"
    np.testing.assert_array_equal(result.tiles[0, ..., 0], image)
    assert result.params["latent"] == pytest.approx(z.tolist())
    assert result.titles == [ls.latent_text(z)]

    figure = np.asarray(Image.open(panel.export_figure(tmp_path / "decoded.png", 1.0)).convert("L"))
    block = int(pixel_scale(1.0, 32))              # figure pixels per decoded pixel
    side = 32 * block
    assert block >= 8 and figure.shape[1] >= side
    # the decoded pixels, each a block x block square, somewhere below the title
    found = [(y, x) for y in range(0, 120) for x in range(0, 40)
             if figure.shape[0] >= y + side and figure.shape[1] >= x + side
             and np.array_equal(figure[y + block // 2:y + side:block, x + block // 2:x + side:block], image)]
    assert found

    npz = np.load(result.save_npz(tmp_path / "decoded.npz"))
    np.testing.assert_array_equal(npz["latents"][0], z)
    assert json.loads(str(npz["params"]))["params"]["latent"] == pytest.approx(z.tolist())
