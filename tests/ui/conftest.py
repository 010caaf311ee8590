import pytest

from workbench.engine import Engine


@pytest.fixture
def engine(qtbot):
    eng = Engine(device="cpu")
    yield eng
    eng.shutdown(10000)
