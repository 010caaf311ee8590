"""file: models in every format the README promises, run by every method that applies.

TorchScript (traced and scripted), torch.export programs (.pt2) and trusted pickled modules
load with their layers listed; every classification method gives the same map on a .pt2 or
pickled model as on the module it came from; on TorchScript the input-gradient methods do,
and the methods that need hooks say so. Hostile .pt2 archives are refused before any of
their code runs.
"""
import io
import json
import warnings
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from tests.tiny import builtin_registry, picture
from workbench import api
from workbench.core import jobs
from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD, ModelHandle, Preprocess
from workbench.core.hooks import HooksUnsupported, capture_outputs, hook_count
from workbench.core.sources import ModelLoadError, load_model

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")
SIDE = 16
LABELS = ["a", "b", "c"]
HOOK_METHODS = ("gradcam", "gradcam-pp", "scorecam", "activations", "dream", "invert", "style", "feature-vector")
# DeepDream (every octave's size) and style transfer (its working size) run the model at sizes a .pt2
# program exported at one size refuses
FIXED_SIZE_REFUSED = {"pt2": ("dream", "style")}


class FixedNet(nn.Module):
    """Flatten + Linear: runs only at SIDE x SIDE, so a wrong input size shows."""

    def __init__(self, channels: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1, stride=2)
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6 * (SIDE // 2) ** 2, len(LABELS))

    def forward(self, x):
        return self.fc(self.flatten(self.relu2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))))


def _net(channels=3, seed=0):
    torch.manual_seed(seed)
    net = FixedNet(channels)
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval mode matters
        net.bn1.running_mean.uniform_(-0.2, 0.2)
        net.bn1.running_var.uniform_(0.5, 1.5)
    return net.eval()


def _save(kind, net, path, meta=None, channels=3):
    example = torch.rand(1, channels, SIDE, SIDE)
    extra = {"workbench.json": json.dumps(meta)} if meta else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "traced":
            torch.jit.save(torch.jit.trace(net, example), str(path), _extra_files=extra)
        elif kind == "scripted":
            torch.jit.save(torch.jit.script(net), str(path), _extra_files=extra)
        elif kind == "pt2":
            torch.export.save(torch.export.export(net, (example,)), str(path), extra_files=extra)
        else:
            torch.save(net, path)
    return path


FORMATS = {"traced": "m.pt", "scripted": "s.pt", "pt2": "m.pt2", "pickled": "full.pt"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Each format of one FixedNet, its handle, and the plain module's handle to compare with."""
    folder = tmp_path_factory.mktemp("formats")
    net = _net()
    meta = {"input_size": [SIDE, SIDE], "labels": LABELS}
    handles = {}
    for kind, name in FORMATS.items():
        path = _save(kind, net, folder / name, meta if kind != "pickled" else None)
        model_id = f"file:{path}" + (f"?input={SIDE}" if kind == "pickled" else "")
        handles[kind] = load_model(model_id, trust_pickle=kind == "pickled")
    reference = ModelHandle(id="reference", module=net, task="classify", labels=LABELS,
                            preprocess=Preprocess(Geometry((SIDE, SIDE)), IMAGENET_MEAN, IMAGENET_STD))
    return reference, handles


def _values(result):
    for name in ("heatmap", "tiles", "images"):
        if getattr(result, name, None) is not None:
            return np.asarray(getattr(result, name))
    if getattr(result, "series", None):
        return np.concatenate([np.asarray(v, np.float64).ravel() for v in result.series.values()])
    raise AssertionError(f"no map in {type(result).__name__}")


@pytest.mark.parametrize("kind", FORMATS)
def test_each_format_loads_with_its_layers(models, kind):
    reference, handles = models
    handle = handles[kind]
    assert handle.task == "classify" and handle.geometry == Geometry((SIDE, SIDE), "stretch")
    assert not handle.preprocess.grayscale
    expected = [(l.name, l.type, l.is_conv) for l in reference.layers()]
    assert [(l.name, l.type, l.is_conv) for l in handle.layers()] == expected
    assert handle.conv_layers() == ["conv1", "conv2"]
    shapes = [l.output_shape for l in handle.layers()]
    if kind in ("traced", "scripted"):
        assert shapes == [None] * len(shapes)  # TorchScript takes no hooks to measure them
    else:
        assert shapes == [l.output_shape for l in reference.layers()]
    x = torch.rand(1, 3, SIDE, SIDE)
    with torch.no_grad():
        torch.testing.assert_close(handle.module(x), reference.module(x))
    assert hook_count(handle.module) == 0


@pytest.mark.parametrize("kind", FORMATS)
def test_every_classification_method_runs_on_each_format(models, kind):
    reference, handles = models
    image = picture(20, 28, seed=3)
    torchscript = kind in ("traced", "scripted")
    ran = []
    for method in builtin_registry().for_task("classify"):
        if method.name == "embed":    # lays out a dataset, not the image (tests/core/test_embedding.py)
            continue
        try:
            expected = _values(api.run(method.name, reference, image))
        except Exception as e:
            with pytest.raises(type(e)):  # what fails on the module fails on its file too
                api.run(method.name, handles[kind], image)
            continue
        if torchscript and (method.name in HOOK_METHODS or method.name == "guided-backprop"):
            with pytest.raises(ValueError, match="TorchScript") as refused:
                api.run(method.name, handles[kind], image)
            if method.name != "guided-backprop":
                assert isinstance(refused.value, HooksUnsupported)
                assert "needs forward hooks, which a TorchScript model does not support" in str(refused.value)
                assert ".pt2" in str(refused.value)
            continue
        if method.name in FIXED_SIZE_REFUSED.get(kind, ()):
            with pytest.raises(ValueError, match="exported for one input size only"):
                api.run(method.name, handles[kind], image)
            continue
        got = _values(api.run(method.name, handles[kind], image))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(expected).max()),
                                   err_msg=f"{method.name} on {kind}")
        ran.append(method.name)
    gradients = {"saliency", "integrated-gradients", "occlusion", "smoothgrad", "gradient-x-input"}
    assert gradients <= set(ran)
    if not torchscript:
        assert set(HOOK_METHODS) - set(FIXED_SIZE_REFUSED.get(kind, ())) | {"guided-backprop"} <= set(ran)
    assert hook_count(handles[kind].module) == 0


def test_guided_backprop_on_a_pt2_is_guided(models):
    reference, handles = models
    image = picture(20, 28, seed=4)
    guided = _values(api.run("guided-backprop", handles["pt2"], image))
    plain = _values(api.run("saliency", handles["pt2"], image, channels="maxabs"))
    np.testing.assert_allclose(guided, _values(api.run("guided-backprop", reference, image)), rtol=1e-5, atol=1e-7)
    assert not np.allclose(guided, plain)  # the aten ReLUs of the program were guided


def test_capture_outputs_refuses_torchscript_plainly(models):
    _, handles = models
    module = handles["traced"].module
    with pytest.raises(HooksUnsupported, match="activations needs forward hooks"):
        with capture_outputs(module, ["conv1"], method="activations"):
            pass
    assert hook_count(module) == 0


def test_the_model_dock_job_lists_torchscript_layers(models, tmp_path):
    path = _save("traced", _net(), tmp_path / "dock.pt", {"input_size": SIDE})
    handle = jobs.load_model(None, f"file:{path}")
    assert [l.name for l in handle.layers()] == [l.name for l in models[0].layers()]


# ---- batches and sizes of .pt2 programs ---------------------------------------------------

def test_a_fixed_batch_program_runs_any_batch(tmp_path):
    net = _net(seed=2)
    path = tmp_path / "batch2.pt2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.save(torch.export.export(net, (torch.rand(2, 3, SIDE, SIDE),)), str(path))
    handle = load_model(f"file:{path}")
    for n in (1, 2, 3, 5):
        x = torch.rand(n, 3, SIDE, SIDE)
        with torch.no_grad():
            torch.testing.assert_close(handle.module(x), net(x), msg=f"batch {n}")


def test_batches_run_one_slice_at_a_time_where_vmap_cannot(tmp_path, monkeypatch):
    net = _net(seed=3)
    handle = load_model(f"file:{_save('pt2', net, tmp_path / 'one.pt2')}")

    def no_batching_rule(*args, **kwargs):
        raise RuntimeError("Batching rule not implemented")
    monkeypatch.setattr(torch.func, "vmap", no_batching_rule)
    x = torch.rand(4, 3, SIDE, SIDE)
    with torch.no_grad():
        torch.testing.assert_close(handle.module(x), net(x))


def test_layers_of_a_fixed_batch_program_are_read_one_batch_at_a_time(tmp_path):
    handle = load_model(f"file:{_save('pt2', _net(), tmp_path / 'one.pt2')}")
    with capture_outputs(handle.module, ["conv1"]) as captured, torch.no_grad():
        handle.module(torch.rand(1, 3, SIDE, SIDE))
        assert captured["conv1"].shape == (1, 4, SIDE, SIDE)
        with pytest.raises(ValueError, match="exported for batches of 1, and its layers cannot be read on 3 "
                                             "inputs at once; export it with a dynamic batch size"):
            handle.module(torch.rand(3, 3, SIDE, SIDE))
    assert hook_count(handle.module) == 0


def test_a_dynamic_program_takes_its_size_from_the_id(tmp_path):
    class Pooled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 5, 3)
            self.fc = nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(self.conv(x).mean(dim=(2, 3)))

    net, path = Pooled().eval(), tmp_path / "dynamic.pt2"
    dims = {"x": {0: torch.export.Dim("n", min=1, max=64), 2: torch.export.Dim("h", min=8, max=512),
                  3: torch.export.Dim("w", min=8, max=512)}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.save(torch.export.export(net, (torch.rand(2, 3, 32, 32),), dynamic_shapes=dims), str(path))
    plain = load_model(f"file:{path}")
    assert plain.geometry == Geometry((224, 224), "stretch") and "?input=HxW" in plain.card["notes"][0]
    assert "forward" not in vars(plain.module)  # a dynamic batch needs no slicing
    sized = load_model(f"file:{path}?input=48x40")
    assert sized.geometry == Geometry((48, 40), "stretch") and sized.card is None
    assert api.run("saliency", sized, picture(30, 30)).heatmap.shape == (30, 30)


def test_a_fixed_size_program_refuses_another_size(tmp_path):
    path = _save("pt2", _net(), tmp_path / "fixed.pt2")
    with pytest.raises(ModelLoadError, match=r"exported for 16x16 input, so \?input= 32x32 cannot be used"):
        load_model(f"file:{path}?input=32")
    described = _save("pt2", _net(), tmp_path / "described.pt2", {"input_size": 24})
    with pytest.raises(ModelLoadError, match=r"input_size in its workbench.json 24x24 cannot be used"):
        load_model(f"file:{described}")


def test_a_model_that_fails_at_the_assumed_size_says_how_to_fix_it(tmp_path):
    path = _save("traced", _net(), tmp_path / "bare.pt")
    with pytest.raises(ModelLoadError, match=r"bare.pt does not run on a 3x224x224 .*input: .*"
                                             r"file:.*bare.pt\?input=HxW"):
        load_model(f"file:{path}")
    assert load_model(f"file:{path}?input={SIDE}").geometry == Geometry((SIDE, SIDE), "stretch")


# ---- greyscale models -------------------------------------------------------------------

@pytest.mark.parametrize("kind, suffix", [("traced", "?input=16"), ("scripted", "?input=16"),
                                          ("pt2", ""), ("pickled", "?input=16")])
def test_a_greyscale_model_is_fed_one_channel(tmp_path, kind, suffix):
    net = _net(channels=1, seed=5)
    path = _save(kind, net, tmp_path / f"grey{FORMATS[kind][1:]}", channels=1)
    handle = load_model(f"file:{path}{suffix}", trust_pickle=kind == "pickled")
    assert handle.preprocess.grayscale and handle.example_input().shape == (1, 1, SIDE, SIDE)
    image = picture(20, 28, seed=6)
    x = handle.preprocess(image)
    grey = (0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]) / 255.0
    assert x.shape == (1, 1, SIDE, SIDE)
    assert float(x.mean()) == pytest.approx((grey.mean() - IMAGENET_MEAN[0]) / IMAGENET_STD[0], abs=0.05)
    result = api.run("saliency", handle, image)
    reference = ModelHandle(id="grey", module=net, task="classify",
                            preprocess=Preprocess(Geometry((SIDE, SIDE)), IMAGENET_MEAN, IMAGENET_STD, True))
    np.testing.assert_allclose(result.heatmap, api.run("saliency", reference, image).heatmap, rtol=1e-5, atol=1e-7)


def test_channels_in_metadata_win_and_odd_channel_counts_are_named(tmp_path):
    path = _save("traced", _net(channels=1), tmp_path / "said.pt", {"channels": 3, "input_size": SIDE}, channels=1)
    with pytest.raises(ModelLoadError, match=r"said.pt does not run on a 3x16x16"):
        load_model(f"file:{path}")
    four = _save("pt2", _net(channels=4), tmp_path / "four.pt2", channels=4)
    with pytest.raises(ModelLoadError, match="takes 4-channel input; the workbench feeds 1 .grey. or 3 .RGB."):
        load_model(f"file:{four}")


# ---- the public API and the command line --------------------------------------------------

def test_saliency_on_a_pt2_through_the_api_and_the_cli(tmp_path):
    from workbench.zoo.catalogue import ZOO
    entry, reference = ZOO["shapes-cnn"], load_model("zoo:shapes-cnn?weights=none")
    net = reference.module
    path = tmp_path / "shapes.pt2"
    meta = {"input_size": list(entry.input_size), "mean": list(entry.mean), "std": list(entry.std),
            "labels": list(entry.labels)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.save(torch.export.export(net, (torch.rand(1, 3, *entry.input_size),)), str(path),
                          extra_files={"workbench.json": json.dumps(meta)})
    result = api.run("saliency", f"file:{path}", "sample:shapes-0")
    image = api.load_image("sample:shapes-0")
    assert result.heatmap.shape == image.shape[:2] and np.abs(result.heatmap).max() > 0
    expected = api.run("saliency", reference, image, target=result.target)
    np.testing.assert_allclose(result.heatmap, expected.heatmap, rtol=1e-5, atol=1e-7)

    from workbench.cli import main
    out = tmp_path / "saliency.npz"
    assert main(["run", "saliency", "--model", f"file:{path}", "--image", "sample:shapes-0", "--npz", str(out)]) == 0
    with np.load(out) as saved:
        np.testing.assert_allclose(saved["heatmap"], result.heatmap, rtol=1e-5, atol=1e-7)


# ---- hostile .pt2 archives ----------------------------------------------------------------

class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def _rewrite(source, target, change):
    with zipfile.ZipFile(source) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    root = next(iter(entries)).split("/")[0] + "/"
    change(entries, root)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target


def _pickled_weight(sentinel):
    def change(entries, root):
        config_name = root + "data/weights/model_weights_config.json"
        config = json.loads(entries[config_name])
        entry = next(iter(config["config"].values()))
        entry["use_pickle"] = True
        buffer = io.BytesIO()
        torch.save(_Payload(sentinel), buffer)
        entries[root + "data/weights/" + entry["path_name"]] = buffer.getvalue()
        entries[config_name] = json.dumps(config).encode()
    return change


def _program_edit(edit):
    def change(entries, root):
        program = json.loads(entries[root + "models/model.json"])
        edit(program)
        entries[root + "models/model.json"] = json.dumps(program).encode()
    return change


def _pickled_sample_inputs(sentinel):
    def change(entries, root):
        buffer = io.BytesIO()
        torch.save(_Payload(sentinel), buffer)
        entries[root + "data/sample_inputs/model.pt"] = buffer.getvalue()
    return change


def _extra_file(entries, root):
    entries[root + "data/aotinductor/model/model.so"] = b"\x7fELF"


def _first_node(program):
    return program["graph_module"]["graph"]["nodes"][0]


HOSTILE = {
    "pickled weight": (lambda s: _pickled_weight(s), "stored as a pickled Python object"),
    "pickled sample inputs": (lambda s: _pickled_sample_inputs(s), "sample inputs that are pickled"),
    "guard code": (lambda s: _program_edit(lambda p: p.update(guards_code=["import os"])), "guard code"),
    "python operator": (lambda s: _program_edit(lambda p: _first_node(p).update(target="torch.os.system")),
                        "operation 'torch.os.system' from outside torch.ops"),
    "evaluated shape": (lambda s: _program_edit(lambda p: p["graph_module"]["graph"]["sym_int_values"].update(
        {"s0": {"as_expr": {"expr_str": f"__import__('os').remove('{s}')", "hint": None}}})),
        "shape expression .* not plain arithmetic"),
    "compiled code": (lambda s: _extra_file, "data/aotinductor/model/model.so"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_pt2_that_could_run_code_needs_trust(tmp_path, case):
    sentinel = tmp_path / "code-ran"
    clean = _save("pt2", _net(), tmp_path / "clean.pt2")
    make, message = HOSTILE[case]
    path = _rewrite(clean, tmp_path / "hostile.pt2", make(sentinel))
    with pytest.raises(ModelLoadError, match=message) as refused:
        load_model(f"file:{path}")
    assert refused.value.needs_trust and "trust_pickle=True" in str(refused.value)
    assert isinstance(jobs.load_model(None, f"file:{path}"), jobs.NeedsTrust)
    assert not sentinel.exists()


def test_the_pickled_weight_archive_really_runs_code_in_torch(tmp_path):
    """The check above matters: torch.export.load itself would run the payload."""
    sentinel = tmp_path / "code-ran"
    path = _rewrite(_save("pt2", _net(), tmp_path / "clean.pt2"), tmp_path / "hostile.pt2", _pickled_weight(sentinel))
    with pytest.raises(Exception):
        torch.export.load(str(path))
    assert sentinel.exists()


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 broken"])
def test_a_damaged_pt2_is_named(tmp_path, content):
    path = tmp_path / "broken.pt2"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="broken.pt2 is not a PyTorch checkpoint or is damaged"):
        load_model(f"file:{path}")


def test_a_pt2_bomb_or_a_gutted_archive_is_named_without_asking_for_trust(tmp_path):
    bomb = tmp_path / "bomb.pt2"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/archive_format", "pt2")
        archive.writestr("bomb/models/model.json", b" " * (64 << 20))
    with pytest.raises(ModelLoadError, match=r"bomb.pt2 is not a torch.export program or is damaged "
                                             r"\(it would unpack to 0.1 GB, far more than its own size\)") as refused:
        load_model(f"file:{bomb}")
    assert not refused.value.needs_trust
    gutted = _rewrite(_save("pt2", _net(), tmp_path / "clean.pt2"), tmp_path / "gutted.pt2",
                      lambda entries, root: entries.pop(root + "models/model.json"))
    with pytest.raises(ModelLoadError, match=r"gutted.pt2 is not a torch.export program or is damaged "
                                             r"\(no program named 'model'\)") as refused:
        load_model(f"file:{gutted}")
    assert not refused.value.needs_trust

