from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.tiny import tiny_handle
from workbench.core.context import Cancelled, Partial, Progress
from workbench.core.params import param
from workbench.core.registry import Method, Registry
from workbench.core.results import Heatmap
from workbench.core.runner import context, run_method


@dataclass
class Steps:
    steps: int = field(default=3, metadata=param("Steps", range=(1, 10)))


def counting(ctx, p):
    for i in range(p.steps):
        yield Progress((i + 1) / p.steps, f"step {i + 1}")
        yield Partial(Heatmap(heatmap=np.full((2, 2), i, np.float32)))
    return Heatmap(heatmap=np.full((2, 2), 99, np.float32), title="final")


GEN = Method(name="counting", tasks=("classify",), params=Steps, run=counting, needs_image=False)


def test_generator_method_reports_progress_partials_and_returns_final():
    seen, partials = [], []
    out = run_method(GEN, context(tiny_handle(), None), {"steps": "4"},
                     on_progress=lambda p: seen.append(p.fraction), on_partial=lambda r: partials.append(r))
    assert seen == [0.25, 0.5, 0.75, 1.0]
    assert [int(r.heatmap[0, 0]) for r in partials] == [0, 1, 2, 3]
    assert out.title == "final" and out.heatmap[0, 0] == 99


def test_cancel_stops_a_generator_between_steps():
    ctx = context(tiny_handle(), None)
    ctx.cancel.cancel()
    with pytest.raises(Cancelled):
        run_method(GEN, ctx)


def test_method_for_another_task_is_refused():
    gen = Method(name="g", tasks=("generate",), params=Steps, run=counting, needs_image=False)
    with pytest.raises(ValueError, match="does not apply"):
        run_method(gen, context(tiny_handle(), None))


def test_registry_rejects_duplicates_and_unknown_tasks_and_filters_by_task():
    reg = Registry()
    reg.add(GEN)
    with pytest.raises(ValueError, match="already registered"):
        reg.add(GEN)
    with pytest.raises(ValueError, match="unknown task"):
        reg.add(Method(name="x", tasks=("paint",), params=Steps, run=counting))
    assert [m.name for m in reg.for_task("classify")] == ["counting"]
    assert reg.for_task("detect") == []
    with pytest.raises(KeyError, match="no method 'nope'"):
        reg.get("nope")


def test_methods_carry_their_kind_and_a_bad_kind_is_refused():
    from workbench.core.methods import builtin_methods
    from workbench.core.registry import KINDS
    reg = Registry()
    with pytest.raises(ValueError, match="unknown kind 'saliency-ish'.*attribution"):
        reg.add(Method(name="x", tasks=("classify",), params=Steps, run=counting, kind="saliency-ish"))
    assert "x" not in reg
    assert GEN.kind == "other"
    reg.add(GEN)
    reg.add(Method(name="explains", tasks=("classify",), params=Steps, run=counting, kind="attribution"))
    reg.add(Method(name="draws", tasks=("generate",), params=Steps, run=counting, kind="attribution"))
    assert [m.name for m in reg.of_kind("attribution")] == ["draws", "explains"]
    assert [m.name for m in reg.of_kind("attribution", "classify")] == ["explains"]
    assert reg.of_kind("detection") == []
    with pytest.raises(ValueError, match="unknown method kind"):
        reg.of_kind("heatmaps")
    kinds = {m.name: m.kind for m in builtin_methods()}
    assert set(kinds.values()) <= set(KINDS) and "other" not in kinds.values()
    assert kinds["gradcam"] == "attribution" and kinds["activations"] == "features"
    assert kinds["detect"] == kinds["explain_box"] == "detection" and kinds["segment"] == "segmentation"
    assert kinds["sample"] == "generative" and kinds["fid"] == "metrics"


def test_run_method_checks_the_target_for_any_method_before_it_starts():
    seen = []

    def records(ctx, p):
        seen.append(ctx.target)
        return Heatmap(heatmap=np.zeros((2, 2), np.float32))

    method = Method(name="records", tasks=("classify",), params=Steps, run=records, needs_image=False)
    with pytest.raises(ValueError, match=r"target 5 is out of range: the model has 3 classes \(0-2\)"):
        run_method(method, context(tiny_handle(), None, target=5))
    with pytest.raises(ValueError, match="target -1 is out of range"):
        run_method(method, context(tiny_handle(), None, target=-1))
    assert seen == []
    run_method(method, context(tiny_handle(), None, target=np.int64(2)))
    run_method(method, context(tiny_handle(), None))
    assert seen == [2, None] and type(seen[0]) is int
