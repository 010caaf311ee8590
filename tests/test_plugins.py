import textwrap

import numpy as np

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
