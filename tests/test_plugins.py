import sys
import textwrap

import numpy as np
import pytest

from workbench import plugins
from workbench.core.registry import Registry


def _write(folder, name, body):
    pkg = folder / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(body))


def test_example_plugin_is_in_the_default_registry():
    assert "edge-baseline" in plugins.default_registry()


def test_example_plugin_is_an_attribution_method():
    registry = plugins.default_registry()
    assert registry.get("edge-baseline").kind == "attribution"
    assert "edge-baseline" in [m.name for m in registry.of_kind("attribution", "classify")]
    assert "edge-baseline" in [m.name for m in registry.of_kind("attribution", "detect")]


def test_failing_plugins_are_reported_and_skipped(tmp_path, monkeypatch):
    _write(tmp_path, "raises_on_import", "raise RuntimeError('broken at import')")
    _write(tmp_path, "raises_in_setup", "def setup(registry):\n    raise ValueError('broken in setup')")
    _write(tmp_path, "no_setup", "X = 1")
    _write(tmp_path, "good", """
        from dataclasses import dataclass
        from workbench.core.registry import Method
        @dataclass
        class P:
            pass
        def setup(registry):
            registry.add(Method(name="from-tmp", tasks=("classify",), params=P, run=lambda ctx, p: None))
        """)
    monkeypatch.setenv(plugins.PLUGIN_DIRS_ENV, str(tmp_path))
    reg = Registry()
    errors = plugins.load_plugins(reg)
    assert "from-tmp" in reg and "edge-baseline" in reg
    joined = "\n".join(errors)
    assert len(errors) == 3
    assert "broken at import" in joined and "broken in setup" in joined and "no setup" in joined


def test_edge_baseline_is_strong_on_edges_and_zero_on_flat_areas():
    from tests.tiny import tiny_handle
    from workbench.core.runner import context, run_method
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, 16:] = 255
    result = run_method(plugins.default_registry().get("edge-baseline"), context(tiny_handle(), image), {"blur": "0"})
    assert result.heatmap[:, 15:17].min() > 1.0
    assert result.heatmap[:, :10].max() == 0 and result.heatmap[:, 22:].max() == 0


METHOD = """
from dataclasses import dataclass
from workbench.core.registry import Method
@dataclass
class P:
    pass
def method(name):
    return Method(name=name, tasks=("classify",), params=P, run=lambda ctx, p: None)
"""


def _load_from(tmp_path, monkeypatch, registry=None):
    monkeypatch.setenv(plugins.PLUGIN_DIRS_ENV, str(tmp_path))
    reg = Registry() if registry is None else registry
    return reg, plugins.load_plugins(reg)


def _errors_about(errors, name):
    return [e for e in errors if f"plugin {name} (" in e]


def test_a_plugin_is_registered_all_or_nothing(tmp_path, monkeypatch):
    _write(tmp_path, "aon_half", METHOD + """
def setup(registry):
    registry.add(method("aon-first"))
    raise RuntimeError("broken after one method")
""")
    _write(tmp_path, "aon_after", METHOD + """
def setup(registry):
    registry.add(method("aon-fine"))
""")
    reg, errors = _load_from(tmp_path, monkeypatch)
    assert "aon-first" not in reg                      # no half-registered plugin
    assert "aon-fine" in reg and "edge-baseline" in reg  # the others go on
    [error] = _errors_about(errors, "aon_half")
    assert error.endswith("was skipped: RuntimeError: broken after one method")


@pytest.mark.parametrize("body, says", [
    ("import sys\ndef setup(registry):\n    registry.add(method('ex-setup'))\n    sys.exit(3)", "sys.exit(3)"),
    ("import sys\nsys.exit('bye')\ndef setup(registry):\n    registry.add(method('ex-import'))", "sys.exit('bye')"),
    ("class Odd(BaseException):\n    pass\n"
     "def setup(registry):\n    registry.add(method('ex-odd'))\n    raise Odd('odd')", "Odd: odd"),
    ("def setup(registry):\n    registry.add(method('ex-dup'))\n    registry.add(method('gradcam'))",
     "already registered"),
])
def test_a_plugin_that_exits_or_raises_anything_is_skipped_whole(tmp_path, monkeypatch, body, says):
    from workbench.core.methods import builtin_methods
    name = f"exits_{abs(hash(body)) % 10**8}"
    _write(tmp_path, name, METHOD + body)
    builtin = Registry()
    for m in builtin_methods():
        builtin.add(m)
    gradcam = builtin.get("gradcam")
    before = builtin.names()
    reg, errors = _load_from(tmp_path, monkeypatch, builtin)
    [error] = _errors_about(errors, name)
    assert says in error and "was skipped" in error
    assert not [n for n in reg.names() if n.startswith("ex-")]
    assert reg.get("gradcam") is gradcam
    assert set(reg.names()) == set(before) | {"edge-baseline", "channel-histogram"}


def test_ctrl_c_in_a_plugin_still_stops_the_program(tmp_path, monkeypatch):
    _write(tmp_path, "interrupts", "def setup(registry):\n    raise KeyboardInterrupt")
    with pytest.raises(KeyboardInterrupt):
        _load_from(tmp_path, monkeypatch)


def test_a_failed_plugin_takes_back_its_renderers_and_samples(tmp_path, monkeypatch):
    from workbench.core import samples
    from workbench.core.renderers import RENDERERS, renderer_for
    from workbench.core.results import Heatmap, Result
    heatmap_renderer = renderer_for(Heatmap())
    _write(tmp_path, "undone", METHOD + """
from workbench.core.renderers import RENDERERS, Renderer
from workbench.core.results import Heatmap, Result
class Mine(Result):
    kind = "mine"
def setup(registry):
    RENDERERS.add(Mine, Renderer("", figure="x:y"))
    RENDERERS.add(Heatmap, Renderer("", figure="x:z"), replace=True)
    registry.add(method("undone-method"))
def samples():
    return {"undone-ok": lambda: None, "shapes-1": lambda: None}   # the second name is taken
""")
    reg, errors = _load_from(tmp_path, monkeypatch)
    [error] = _errors_about(errors, "undone")
    assert "shapes-1" in error
    mine = sys.modules["workbench_plugin_undone"].Mine
    assert mine not in RENDERERS and renderer_for(mine()) is renderer_for(Result())
    assert renderer_for(Heatmap()) is heatmap_renderer
    assert "undone-ok" not in samples.sample_names() and "undone-method" not in reg
    assert type(RENDERERS).add is RENDERERS.add.__func__      # the journal is gone


def test_a_plugin_whose_panels_exit_is_reported_and_the_others_still_show(monkeypatch):
    import types
    exits = types.SimpleNamespace(panels=lambda: sys.exit(4))
    fine = types.SimpleNamespace(panels=lambda: [int])
    monkeypatch.setattr(plugins, "_loaded", [("exits (x)", exits), ("fine (y)", fine)])
    monkeypatch.setattr(plugins, "_errors", [])
    assert plugins.plugin_panels() == [int]
    assert plugins._errors == ["plugin exits (x): its panels were skipped: it called sys.exit(4)"]
