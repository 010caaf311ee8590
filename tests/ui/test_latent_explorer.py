import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.core.test_latent_session import fresh_handle
from tests.tiny import tiny_handle
from workbench.core.latent import encoding as autoencoding
from workbench.core.latent import session as ls
from workbench.ui.latent import encoding as latent_encoding
from workbench.ui.latent import explorer as le
from workbench.ui.panel import Panel
from workbench.zoo.digits import digit_image

TIMEOUT_MS = 30000


def refuse(model_id):
    raise FileNotFoundError(f"{model_id} is not bundled in this test")


def wait_done(qtbot, engine, key, action):
    """Run ``action``, then wait for the last job with ``key`` submitted since to end; its result."""
    tickets = []

    def grab(ticket):
        if ticket.key == key:
            tickets.append(ticket)
    engine.submitted.connect(grab)
    try:
        action()
        qtbot.waitUntil(lambda: bool(tickets) and tickets[-1].ended, timeout=TIMEOUT_MS)
    finally:
        engine.submitted.disconnect(grab)
    assert tickets[-1].state == "done", tickets[-1].error
    return tickets[-1].result


def open_model(qtbot, engine, workspace, handle):
    """Load ``handle`` into the workspace and wait for the panel's first manifold."""
    wait_done(qtbot, engine, le.MANIFOLD, lambda: workspace.set_model(handle))


@pytest.fixture
def make_panel(qtbot, bind):
    def make():
        panel = bind(le.LatentPanel, load_model=refuse)
        panel.resize(1000, 700)
        return panel
    return make


@pytest.fixture
def vae_panel(qtbot, engine, workspace, make_panel):
    panel = make_panel()
    open_model(qtbot, engine, workspace, fresh_handle("vae"))
    return panel


def test_the_panel_is_the_latent_tab_and_imports_no_torch():
    assert issubclass(le.LatentPanel, Panel)
    assert (le.LatentPanel.title, le.LatentPanel.area, le.LatentPanel.object_name) == ("Latent", "tab", "latentTab")
    code = "import sys; import workbench.ui.latent.explorer; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == "False"


def test_the_seed_range_is_the_generative_methods_one(qtbot):
    from workbench.core.methods._generative import MAX_SEED
    assert ls.MAX_SEED == MAX_SEED
    panel = le.LatentPanel()
    qtbot.addWidget(panel)
    assert panel.seed.maximum() == MAX_SEED


def test_loading_a_latent_model_asks_to_raise_the_tab(qtbot, engine, workspace, make_panel):
    panel = make_panel()
    raised = []
    panel.raiseRequested.connect(lambda: raised.append(True))
    workspace.set_model(tiny_handle())
    assert raised == []
    open_model(qtbot, engine, workspace, fresh_handle("gan"))
    assert raised == [True]
    assert panel.heading.text() == "test:gan: 32-d latent (generate)"
    assert not hasattr(panel, "handle")


def test_moving_a_slider_shows_the_decode_of_the_new_latent(qtbot, workspace, vae_panel):
    panel = vae_panel
    handle = workspace.handle
    before = panel.view.image().copy()
    np.testing.assert_array_equal(before, ls.decode(handle, panel.state.z))
    slider = panel.sliders.slider(3)
    with qtbot.waitSignal(panel.imageShown, timeout=TIMEOUT_MS):
        slider.setValue(slider.maximum())
    z = panel.state.z
    assert z[3] == pytest.approx(panel.state.prior.mean[3] + 3 * panel.state.prior.std[3])
    shown = panel.view.image()
    np.testing.assert_array_equal(shown, ls.decode(handle, z))
    assert not np.array_equal(shown, before)


def test_slider_decodes_leave_the_status_bar_alone_while_slow_jobs_show(qtbot, engine, vae_panel):
    import time

    from PySide6.QtWidgets import QMainWindow

    from workbench.ui.status import SHOW_AFTER_MS, JobStatus, Notice

    window = QMainWindow()
    qtbot.addWidget(window)
    status = JobStatus(window.statusBar(), engine, Notice(window))
    window.show()
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    seen_shown: list[bool] = []
    quiet: list[bool] = []

    def watch(ticket):
        ticket.done.connect(lambda *_: seen_shown.append(status.shown or status.progress.isVisible()))
        if ticket.key == le.DECODE:
            quiet.append(True)
    engine.submitted.connect(watch)

    slider = vae_panel.sliders.slider(1)
    for tick in (100, 250, 400, 550):
        with qtbot.waitSignal(vae_panel.imageShown, timeout=TIMEOUT_MS):
            slider.setValue(tick)
    assert len(quiet) == 4
    with qtbot.waitSignal(engine.submit("quick", lambda jc: 1).done, timeout=TIMEOUT_MS):
        pass                                   # announced, but over long before 300 ms
    qtbot.wait(SHOW_AFTER_MS + 100)
    assert messages == [] and len(seen_shown) == 5 and not any(seen_shown)
    assert not status.progress.isVisible() and not status.cancel_button.isVisible()

    t0 = time.perf_counter()
    engine.submit("slow", lambda jc: time.sleep(1.0) or 2)
    qtbot.waitUntil(lambda: status.progress.isVisible(), timeout=TIMEOUT_MS)
    assert time.perf_counter() - t0 >= SHOW_AFTER_MS / 1000 * 0.9
    assert status.cancel_button.isVisible() and window.statusBar().currentMessage() == "slow: working…"
    qtbot.waitUntil(lambda: not status.progress.isVisible(), timeout=TIMEOUT_MS)
    assert window.statusBar().currentMessage() == "" and not status.shown


def test_a_fast_drag_ends_on_the_last_latent(qtbot, engine, workspace, vae_panel):
    panel = vae_panel
    slider = panel.sliders.slider(0)
    for tick in range(0, 600, 20):
        slider.setValue(tick)
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(panel.view.image(), ls.decode(workspace.handle, panel.state.z))
    assert panel.state.z[0] == pytest.approx(panel.sliders.value_at(0, 580))


def test_random_sample_changes_the_latent_and_the_sliders(qtbot, engine, workspace, vae_panel):
    panel = vae_panel
    before = panel.state.z.copy()
    wait_done(qtbot, engine, le.DECODE, panel.random_button.click)
    z = panel.state.z
    assert not np.allclose(z, before)
    np.testing.assert_array_equal(z, ls.random_latent(workspace.handle, panel.seed.value()))
    lo, hi = panel.state.slider_ranges()          # a coordinate beyond 3 sigma pins its slider to the end
    np.testing.assert_allclose(panel.sliders.values(), np.clip(z, lo, hi), atol=(hi - lo).max() / 600 * 0.51)
    np.testing.assert_array_equal(panel.view.image(), ls.decode(workspace.handle, z))


def test_manifold_builds_an_n_by_n_grid(qtbot, engine, workspace, vae_panel):
    panel, pane = vae_panel, vae_panel.manifold
    # it opens on the two dimensions that change the image most
    effects = ls.dimension_effects(workspace.handle, panel.state.prior)
    np.testing.assert_allclose(pane.effects, effects)
    assert list(pane.dims()) == list(np.argsort(-effects)[:2])
    assert len(panel.manifold.grid_view.grid().tiles) == 100
    pane.grid_n.setValue(4)
    pane.dim_x.setCurrentIndex(2)
    pane.dim_y.setCurrentIndex(5)
    grid = wait_done(qtbot, engine, le.MANIFOLD, pane.build_button.click)
    assert pane.grid_view.grid() is grid and len(grid.tiles) == 16
    assert grid.params["dim_x"] == 2 and grid.params["dim_y"] == 5
    # clicking a tile makes its latent the current one
    wait_done(qtbot, engine, le.DECODE, lambda: pane.grid_view.tileClicked.emit(6))
    np.testing.assert_array_equal(panel.state.z, grid.extra["latents"][6])


def test_interpolation_scrub_shows_frame_i_and_exports(qtbot, engine, workspace, vae_panel, tmp_path):
    panel, bar = vae_panel, vae_panel.interpolation
    bar.mode.setCurrentText("linear")
    latents, frames = wait_done(qtbot, engine, le.PATH, lambda: bar.steps.setValue(6))
    assert frames.shape == (6, 32, 32)
    np.testing.assert_allclose(latents[[0, -1]], np.stack([bar.endpoints["a"], bar.endpoints["b"]]))
    bar.scrub.setValue(4)
    np.testing.assert_array_equal(bar.preview.image(), frames[4])
    np.testing.assert_array_equal(frames[4], ls.decode(workspace.handle, latents[4]))
    bar.set_playing(True)
    qtbot.waitUntil(lambda: bar.frame_index() == 1, timeout=TIMEOUT_MS)   # 4 -> 5 -> 0 -> 1
    bar.set_playing(False)
    assert bar.play.text() == "Play" and not bar.timer.isActive()

    bar.fps.setValue(10)
    with Image.open(bar.export(tmp_path / "path.gif")) as gif:
        # it plays: six frames, each shown for 1/10 s, looping, each the decoded frame enlarged
        assert gif.is_animated and gif.n_frames == 6 and gif.info["loop"] == 0
        factor = gif.size[0] // 32
        assert gif.size == (32 * factor, 32 * factor) and factor >= 8
        for i in range(gif.n_frames):
            gif.seek(i)
            assert gif.info["duration"] == 100
            shown = np.asarray(gif.convert("L"))[::factor, ::factor]
            np.testing.assert_array_equal(shown, frames[i])
    strip = np.asarray(Image.open(bar.export(tmp_path / "path.png")).convert("L"))
    # one panel per frame on the white page: count the non-white runs across the panels' middle row
    panel_rows = np.flatnonzero((strip < 250).mean(1) > 0.5)
    row = strip[panel_rows[len(panel_rows) // 2]] < 250
    assert np.count_nonzero(np.diff(row.astype(int)) == 1) + int(row[0]) == 6


def test_endpoint_from_current_and_random(qtbot, engine, vae_panel):
    panel, bar = vae_panel, vae_panel.interpolation
    wait_done(qtbot, engine, le.PATH, lambda: bar.source_buttons[("b", "current")].click())
    np.testing.assert_array_equal(bar.endpoints["b"], panel.state.z)
    old_a, old_b = bar.endpoints["a"].copy(), bar.endpoints["b"].copy()
    z, image = wait_done(qtbot, engine, le.ENDPOINT + "a", lambda: bar.source_buttons[("a", "random")].click())
    assert not np.allclose(bar.endpoints["a"], old_a)
    np.testing.assert_array_equal(bar.endpoints["a"], z)
    np.testing.assert_array_equal(bar.thumbs["a"].image(), image)
    np.testing.assert_array_equal(bar.endpoints["b"], old_b)


def test_encoding_an_image_places_a_marker_and_sets_the_latent(qtbot, engine, workspace, vae_panel):
    panel = vae_panel
    scatter = panel.encoding_pane.scatter
    qtbot.waitUntil(lambda: scatter.encoded["vae"] is not None, timeout=TIMEOUT_MS)
    assert scatter.encoded["ae"] is None and "not available" in scatter.notes["ae"].toPlainText()
    assert scatter.marker_position("vae") is None
    image = digit_image(7)
    wait_done(qtbot, engine, latent_encoding.ENCODE, lambda: panel.encoding_pane.encode_image(image, "seven"))
    expected = autoencoding.encode(workspace.handle, image)
    np.testing.assert_allclose(panel.state.z, expected.z, atol=1e-6)
    np.testing.assert_allclose(scatter.marker_position("vae"), scatter.encoded["vae"].project(expected.z)[0],
                               atol=1e-6)
    np.testing.assert_array_equal(panel.encoding_pane.recon_view.image(), expected.reconstruction)
    assert "seven" in panel.encoding_pane.info.text()
    assert panel.interpolation.source_buttons[("a", "encoded")].isEnabled()


def test_clicking_a_scatter_point_encodes_that_digit(qtbot, engine, vae_panel):
    panel = vae_panel
    scatter = panel.encoding_pane.scatter
    qtbot.waitUntil(lambda: scatter.encoded["vae"] is not None, timeout=TIMEOUT_MS)
    encoded = scatter.encoded["vae"]
    wait_done(qtbot, engine, latent_encoding.ENCODE, lambda: scatter.pointClicked.emit("vae", 11))
    np.testing.assert_allclose(scatter.marker_position("vae"), encoded.xy[11], atol=1e-5)


def test_principal_directions_toggle_switches_the_sliders(qtbot, engine, workspace, make_panel):
    panel = make_panel()
    open_model(qtbot, engine, workspace, fresh_handle("gan"))
    assert panel.sliders.count() == 32
    assert not panel.encoding_pane.open_button.isEnabled()
    wait_done(qtbot, engine, le.DIRECTIONS, lambda: panel.directions_box.setChecked(True))
    assert panel.sliders.count() == le.DIRECTION_COUNT and panel.state.along_directions
    base = panel.state.z.copy()
    slider = panel.sliders.slider(0)
    with qtbot.waitSignal(panel.imageShown, timeout=TIMEOUT_MS):
        slider.setValue(slider.maximum())
    d = panel.state.directions
    np.testing.assert_allclose(panel.state.z, base + 3 * d.std[0] * d.vectors[0], atol=1e-5)
    np.testing.assert_array_equal(panel.view.image(), ls.decode(workspace.handle, panel.state.z))
    panel.directions_box.setChecked(False)
    assert panel.sliders.count() == 32


def test_a_classifier_gets_the_explanation(qtbot, workspace, make_panel):
    panel = make_panel()
    assert panel.pages.currentIndex() == 0 and "Load a generator" in panel.notice.text()
    workspace.set_model(tiny_handle())
    assert panel.pages.currentIndex() == 0
    text = panel.notice.text()
    assert "test:tiny" in text and "classify" in text and "zoo:digits-vae" in text
    assert panel.current_result() is None
    with pytest.raises(ValueError, match="nothing to export"):
        panel.export_figure("latent.png")


def test_dropping_an_ink_on_paper_image_encodes_it_inverted(qtbot, engine, workspace, vae_panel, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    pane = vae_panel.encoding_pane
    path = tmp_path / "paper.png"
    Image.fromarray(255 - digit_image(4)).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    wait_done(qtbot, engine, latent_encoding.ENCODE, lambda: pane.dropEvent(event))
    np.testing.assert_allclose(vae_panel.encoding.z, autoencoding.encode(workspace.handle, digit_image(4)).z,
                               atol=1e-5)
    assert "paper.png" in pane.info.text() and "inverted" in pane.info.text()


def test_export_follows_the_open_tab(qtbot, engine, vae_panel, tmp_path):
    panel = vae_panel
    scatter = panel.encoding_pane.scatter
    qtbot.waitUntil(lambda: scatter.encoded["vae"] is not None, timeout=TIMEOUT_MS)
    aspects = {}
    for tab in (panel.manifold, panel.interpolation, panel.encoding_pane):
        panel.tabs.setCurrentWidget(tab)
        qtbot.waitExposed(tab)
        with Image.open(panel.export_figure(tmp_path / f"{tab.__class__.__name__}.png", 1.0)) as im:
            aspects[tab] = im.width / im.height
    assert 0.8 < aspects[panel.manifold] < 1.25                      # a 10 x 10 grid
    assert aspects[panel.interpolation] > 5                          # 16 frames in a row
    scatter_widget = panel.encoding_pane.scatter
    assert aspects[panel.encoding_pane] == pytest.approx(scatter_widget.width() / scatter_widget.height(), rel=0.02)


def test_an_image_encoded_before_the_plots_are_ready_is_marked_once_they_are(qtbot, engine, workspace,
                                                                              make_panel):
    panel = make_panel()
    scatter = panel.encoding_pane.scatter
    workspace.set_model(fresh_handle("ae"))
    panel.encoding_pane.encode_image(digit_image(0), "zero")     # queued behind the scatter job
    qtbot.waitUntil(lambda: scatter.marker_position("ae") is not None, timeout=TIMEOUT_MS)
    expected = autoencoding.encode(workspace.handle, digit_image(0)).z
    np.testing.assert_allclose(scatter.marker_position("ae"), scatter.encoded["ae"].project(expected)[0], atol=1e-5)


def test_principal_directions_ticked_while_the_model_loads_take_effect(qtbot, engine, workspace, make_panel):
    panel = make_panel()
    workspace.set_model(fresh_handle("gan"))
    assert panel.state is None                      # the setup job has not come back yet
    panel.directions_box.setChecked(True)
    qtbot.waitUntil(lambda: panel.state is not None and panel.state.along_directions, timeout=TIMEOUT_MS)
    assert panel.sliders.count() == le.DIRECTION_COUNT


def test_a_panel_built_after_the_model_was_loaded_opens_it(qtbot, engine, workspace, bind):
    workspace.set_model(fresh_handle("vae"))
    made = []
    wait_done(qtbot, engine, le.MANIFOLD, lambda: made.append(bind(le.LatentPanel, load_model=refuse)))
    panel = made[0]
    assert panel.pages.currentIndex() == 1 and panel.sliders.count() == 16
    np.testing.assert_array_equal(panel.view.image(), ls.decode(workspace.handle, panel.state.z))


def test_a_failed_job_is_reported_and_undone(qtbot, engine, workspace, make_panel, monkeypatch):
    from workbench.core.latent import jobs

    def no_directions(jc, handle, k):
        raise ValueError("no directions here")
    monkeypatch.setattr(jobs, "directions", no_directions)
    panel = make_panel()
    open_model(qtbot, engine, workspace, fresh_handle("gan"))
    with qtbot.waitSignal(panel.message, timeout=TIMEOUT_MS) as said:
        panel.directions_box.setChecked(True)
    assert said.args[0].startswith("latent-directions: ") and "no directions here" in said.args[0]
    assert not panel.directions_box.isChecked() and not panel.state.along_directions
    assert panel.sliders.count() == 32 and panel.status.text() == said.args[0]


def test_an_image_the_encoder_cannot_take_is_reported(qtbot, vae_panel):
    pane = vae_panel.encoding_pane
    with qtbot.waitSignal(vae_panel.message, timeout=TIMEOUT_MS) as said:
        pane.encode_image(np.zeros((0, 0, 3), np.uint8), "empty.png")
    assert said.args[0].startswith("Could not encode empty.png: ")
    assert vae_panel.status.text() == said.args[0] and pane.info.text() == ""
