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
