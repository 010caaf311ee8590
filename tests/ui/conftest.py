import pytest

from workbench.engine import Engine


@pytest.fixture
def engine(qtbot):
    eng = Engine(device="cpu")
    yield eng
    eng.shutdown(10000)


@pytest.fixture
def workspace():
    from workbench.ui.workspace_signals import QtWorkspace
    return QtWorkspace()


@pytest.fixture
def canvas(qtbot):
    from workbench.ui.canvas import Canvas
    c = Canvas()
    qtbot.addWidget(c)
    return c


@pytest.fixture
def bind(qtbot, workspace, engine, canvas):
    """``bind(PanelClass, *args)``: the panel made, bound to this test's workspace, engine and
    canvas, and shown."""
    def make(panel_cls, *args, **kwargs):
        panel = panel_cls(*args, **kwargs)
        qtbot.addWidget(panel)
        panel.bind(workspace, engine, canvas)
        panel.show()
        return panel
    return make


@pytest.fixture
def settings_path(tmp_path, monkeypatch):
    """This test's own settings file (WORKBENCH_SETTINGS names it)."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("WORKBENCH_SETTINGS", str(path))
    return path


@pytest.fixture
def make_window(qtbot, settings_path):
    """``make_window(settings_text=None)``: a MainWindow with its own engine, shown and exposed;
    ``settings_text`` is written to the settings file first. Every engine is shut down after."""
    from workbench.ui.settings import Settings
    from workbench.ui.window import MainWindow
    engines = []

    def make(settings_text: str | None = None):
        if settings_text is not None:
            settings_path.write_text(settings_text)
        engines.append(Engine(device="cpu"))
        window = MainWindow(engines[-1], Settings())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window
    yield make
    for engine in engines:
        engine.shutdown(10000)
