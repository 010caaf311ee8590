"""Inputs checked where they enter: the target class, the device, images with very long sides."""
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from tests.tiny import builtin_registry, picture, tiny_handle
from workbench import api
from workbench.core import devices
from workbench.core.registry import Method
from workbench.core.runner import context, run_method
from workbench.core.targets import check_target, class_count

ATTRIBUTION = [m for m in builtin_registry().of_kind("attribution") if m.applies_to("classify")]


def test_every_builtin_attribution_method_is_checked():
    names = {m.name for m in ATTRIBUTION}
    assert {"occlusion", "saliency", "gradcam", "integrated-gradients"} <= names and len(names) >= 8


@pytest.mark.parametrize("method", ATTRIBUTION, ids=lambda m: m.name)
@pytest.mark.parametrize("target", [-1, 3, 7])
def test_a_target_outside_the_classes_is_refused_by_every_attribution_method(method, target):
    with pytest.raises(ValueError, match=rf"^target {target} is out of range: the model has 3 classes \(0-2\)$"):
        run_method(method, context(tiny_handle(), picture(), target=target))


@pytest.mark.parametrize("method", ATTRIBUTION, ids=lambda m: m.name)
def test_every_attribution_method_explains_the_class_asked_for(method):
    result = run_method(method, context(tiny_handle(), picture(), target=np.int64(2)))
    assert result.target == 2 and result.target_label == "c"
    assert result.heatmap.shape == picture().shape[:2]


def test_occlusion_no_longer_explains_the_last_class_for_minus_one():
    last = api.run("occlusion", tiny_handle(), picture(), target=2)
    with pytest.raises(ValueError, match="target -1 is out of range"):
        api.run("occlusion", tiny_handle(), picture(), target=-1)
    with pytest.raises(ValueError, match="target -1 is out of range"):
        api.run("occlusion", tiny_handle(), picture(), target="-1")   # as the CLI passes it
    assert last.target == 2


@dataclass
class NoParams:
    pass


def test_the_target_is_checked_before_the_method_runs():
    calls = []
    spy = Method(name="spy", tasks=("classify",), params=NoParams, run=lambda ctx, p: calls.append(ctx.target),
                 kind="attribution")
    for bad in (3, -2, 1.5, True, "b"):
        with pytest.raises(ValueError, match="target"):
            run_method(spy, context(tiny_handle(), picture(), target=bad))
    assert calls == []
    with pytest.raises(TypeError):   # the spy returns no Result, but it ran with the index as an int
        run_method(spy, context(tiny_handle(), picture(), target=np.int32(1)))
    assert calls == [1] and type(calls[0]) is int


def test_without_labels_the_classes_are_counted_from_the_output():
    handle = tiny_handle()
    handle.labels = []
    assert class_count(handle) == 3
    assert check_target(handle, 2) == 2
    with pytest.raises(ValueError, match=r"target 3 is out of range: the model has 3 classes \(0-2\)"):
        check_target(handle, 3)
    assert check_target(handle, None) is None


def test_a_model_whose_size_is_unknown_still_refuses_negative_targets():
    handle = tiny_handle()
    handle.labels, handle.task = [], "generate"
    assert class_count(handle) is None
    assert check_target(handle, 500) == 500
    with pytest.raises(ValueError, match="target -1 is out of range: class indices start at 0"):
        check_target(handle, -1)


def test_one_class_reads_naturally():
    handle = tiny_handle()
    handle.labels = ["only"]
    with pytest.raises(ValueError, match=r"the model has 1 classes \(0\)"):
        check_target(handle, 1)


# --- devices -------------------------------------------------------------------------------

@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "mps_available", lambda: False)


def test_a_device_that_is_not_here_falls_back_to_the_cpu_with_a_notice(no_gpu):
    for name in ("cuda", "cuda:1", "mps", " CUDA "):
        device, notice = devices.device_or_cpu(name)
        assert device == torch.device("cpu")
        assert notice.startswith(f"device {name!r} is not available") and notice.endswith("running on the CPU")
    assert devices.device_or_cpu("cpu") == (torch.device("cpu"), None)
    assert devices.device_or_cpu("auto") == (torch.device("cpu"), None)
    assert devices.device_or_cpu(torch.device("cpu")) == (torch.device("cpu"), None)


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "cpu:0", ""])
def test_unknown_device_names_are_refused(name):
    with pytest.raises(ValueError, match=rf"unknown device {name!r}; choose one of auto, cpu, cuda, mps"):
        devices.device_or_cpu(name)


def test_api_run_on_cuda_without_a_gpu_runs_on_the_cpu_and_warns(no_gpu):
    expected = api.run("saliency", tiny_handle(), picture(), target=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = api.run("saliency", tiny_handle(), picture(), target=1, device="cuda")
    fallbacks = [w for w in caught if issubclass(w.category, devices.DeviceFallbackWarning)]
    assert len(fallbacks) == 1 and "device 'cuda' is not available" in str(fallbacks[0].message)
    assert fallbacks[0].filename == __file__            # points at the caller's line
    np.testing.assert_allclose(result.heatmap, expected.heatmap)


def test_api_run_refuses_an_unknown_device_before_loading_anything():
    handle = tiny_handle()
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        api.run("saliency", "zoo:no-such-model", picture(), device="tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        api.run("saliency", handle, picture(), device="tpu")
    assert handle.device == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_api_run_on_a_gpu_that_is_here_uses_it_without_a_notice():
    with warnings.catch_warnings():
        warnings.simplefilter("error", devices.DeviceFallbackWarning)
        result = api.run("saliency", tiny_handle(), picture(), target=1, device="cuda")
    cpu = api.run("saliency", tiny_handle(), picture(), target=1, device="cpu")
    np.testing.assert_allclose(result.heatmap, cpu.heatmap, rtol=1e-3, atol=1e-5)


# --- images with a side past 32,767 px -----------------------------------------------------

@pytest.mark.parametrize("hw", [(3, 40000), (40000, 3)])
def test_saliency_runs_on_an_image_40000_px_long(hw):
    handle = tiny_handle()
    result = api.run("saliency", handle, picture(*hw), target=0)
    assert result.heatmap.shape == hw
    expected = handle.geometry.map_to_image(result.attribution, hw)
    np.testing.assert_allclose(result.heatmap, expected)
    assert np.isfinite(result.heatmap).all() and result.heatmap.max() > 0
