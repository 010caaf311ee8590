"""Heatmap display transforms: signed/absolute, percentile clipping, shared ranges."""
import numpy as np
import pytest

from tests.tiny import builtin_registry
from workbench.core import colormaps
from workbench.core.attribution.display import (DisplayOptions, compare_levels, display_data, display_layer,
                                                display_levels, shared_levels)
from workbench.core.attribution.methods import BUILTIN_ORDER, attribution_methods
from workbench.core.registry import Method


def ramp(lo, hi, n=1001):
    return np.linspace(lo, hi, n, dtype=np.float32).reshape(1, -1)


def test_signed_levels_are_symmetric_about_zero_at_the_clip_percentile():
    data = ramp(-1, 3)
    lo, hi = display_levels(data, "signed", 100)
    assert (lo, hi) == pytest.approx((-3, 3))
    lo, hi = display_levels(data, "signed", 50)
    assert hi == pytest.approx(np.percentile(np.abs(data), 50))
    assert lo == pytest.approx(-hi)


def test_unsigned_data_keeps_its_minimum_and_clips_the_top():
    data = np.concatenate([ramp(0, 1), [[1000.0]]], axis=1)  # one outlier
    lo, hi = display_levels(data, "signed", 99)
    assert lo == 0
    assert hi == pytest.approx(np.percentile(data, 99))
    assert hi < 2  # the outlier no longer sets the range


def test_absolute_mode_levels_are_non_negative_and_cover_the_magnitudes():
    data = ramp(-5, 1)
    lo, hi = display_levels(data, "absolute", 100)
    assert lo == 0 and hi == pytest.approx(5)
    assert display_data(data, "absolute").min() >= 0
    assert np.allclose(display_data(data, "absolute"), np.abs(data))
    positive = ramp(2, 4)
    assert display_levels(positive, "absolute", 100) == pytest.approx((0, 4))


def test_shared_levels_pool_every_map():
    a, b = ramp(0, 1), ramp(-2, 0.5)
    assert shared_levels([a, b], "signed", 100) == pytest.approx((-2, 2))
    assert shared_levels([a, b], "absolute", 100) == pytest.approx((0, 2))
    assert display_levels(a, "signed", 100, shared=(-2, 2)) == (-2, 2)


def test_compare_levels_shared_or_separate():
    maps = [ramp(0, 1), ramp(0, 10), ramp(-3, 3)]
    shared = compare_levels(maps, DisplayOptions("signed", 100, shared=True))
    assert shared == [pytest.approx((-10, 10))] * 3
    separate = compare_levels(maps, DisplayOptions("signed", 100, shared=False))
    assert separate == [pytest.approx((0, 1)), pytest.approx((0, 10)), pytest.approx((-3, 3))]


def test_nan_and_empty_maps_give_a_usable_range():
    data = np.array([[np.nan, 1.0, 2.0]], np.float32)
    assert display_levels(data, "signed", 100) == pytest.approx((1, 2))
    assert display_levels(np.full((2, 2), np.nan, np.float32)) == (0.0, 1.0)
    assert display_levels(np.zeros((2, 2), np.float32)) == (0.0, 1.0)


def test_display_layer_picks_colormap_by_signedness():
    signed = display_layer("m", ramp(-1, 1), DisplayOptions("signed", 100))
    assert signed.colormap == colormaps.SIGNED_DEFAULT and signed.levels == pytest.approx((-1, 1))
    absolute = display_layer("m", ramp(-1, 1), DisplayOptions("absolute", 100))
    assert absolute.colormap == colormaps.UNSIGNED_DEFAULT and absolute.data.min() >= 0
    kept = display_layer("m", ramp(-1, 1), DisplayOptions("signed", 100), colormap="bwr", opacity=0.3)
    assert kept.colormap == "bwr" and kept.opacity == 0.3


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="display mode"):
        DisplayOptions(mode="log")
    with pytest.raises(ValueError, match="percentile"):
        display_levels(ramp(0, 1), "signed", 0)


def test_attribution_methods_are_the_registered_methods_of_that_kind_in_the_builtin_order():
    reg = builtin_registry()
    assert {m.name for m in reg if m.kind == "attribution"} == set(BUILTIN_ORDER)
    assert [m.name for m in attribution_methods(reg, "classify")] == list(BUILTIN_ORDER)
    assert [m.name for m in attribution_methods(reg, None)] == list(BUILTIN_ORDER)
    assert attribution_methods(reg, "generate") == [] and attribution_methods(None, "classify") == []
    assert reg.get("activations").kind == "features" and reg.get("filters").kind == "features"


def test_other_attribution_methods_follow_the_builtins_by_title():
    reg = builtin_registry()

    def run(ctx, p):
        return None

    for name, title in (("z-first-by-name", "beta map"), ("a-last-by-name", "Gamma map"), ("untitled", "")):
        reg.add(Method(name=name, tasks=("classify",), params=object, run=run, kind="attribution", title=title))
    reg.add(Method(name="detector-only", tasks=("detect",), params=object, run=run, kind="attribution"))
    names = [m.name for m in attribution_methods(reg, "classify")]
    assert names == list(BUILTIN_ORDER) + ["z-first-by-name", "a-last-by-name", "untitled"]
    assert [m.name for m in attribution_methods(reg, "detect")] == ["detector-only"]
