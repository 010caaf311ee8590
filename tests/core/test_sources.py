import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from torchvision import models

from workbench.core.geometry import Geometry
from workbench.core.handle import IMAGENET_MEAN, IMAGENET_STD
from workbench.core.sources import ModelLoadError, catalogue, hub_weights_path, load_model


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """An empty torch hub cache, and any attempt to download fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))

    def no_download(*args, **kwargs):
        raise AssertionError(f"tried to download {args[:1]}")
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)




def _seeded(build, seed=1):
    torch.manual_seed(seed)
    return build().eval()


def _outputs(module, shape=(1, 3, 32, 32)):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        return module(x)


def _state(module):
    return {k: v.clone().contiguous() for k, v in module.state_dict().items()}


# ---- zoo ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, size, grayscale", [("shapes-cnn", (64, 64), False), ("digits-cnn", (32, 32), True)])
def test_bundled_zoo_model_loads_and_predicts(name, size, grayscale):
    from workbench.zoo.catalogue import ZOO
    handle = load_model(f"zoo:{name}")
    assert handle.task == "classify" and handle.labels == list(ZOO[name].labels)
    assert handle.geometry == Geometry(size, "stretch") and handle.preprocess.grayscale is grayscale
    assert handle.source.startswith("bundled: ") and not handle.module.training
    assert handle.card is not None
    images, labels = _held_out(name)
    with torch.no_grad():
        predicted = [int(handle.module(handle.preprocess(im)).argmax()) for im in images]
    assert np.mean(np.array(predicted) == labels) >= 0.6  # chance is 1/6 or 1/10


def _held_out(name):
    if name == "shapes-cnn":
        from workbench.zoo.shapes import render_shape
        pairs = [render_shape(seed=2_000_000 + i, size=64) for i in range(24)]  # the test split
        return [p[0] for p in pairs], np.array([p[1] for p in pairs])
    from workbench.zoo.digits import load_split, to_rgb
    images, labels = load_split("test")
    return [to_rgb(im, 96) for im in images[:24]], labels[:24]


@pytest.mark.parametrize("name", ["shapes-cnn", "digits-cnn"])
def test_zoo_preprocess_feeds_what_the_zoo_trains_on(name):
    from workbench.zoo.catalogue import ZOO
    entry = ZOO[name]
    handle = load_model(f"zoo:{name}?weights=none")
    image = np.random.default_rng(2).integers(0, 256, (*entry.input_size, 3), dtype=np.uint8)
    torch.testing.assert_close(handle.preprocess(image), entry.to_input(image[None]))


def test_zoo_weights_come_from_the_models_folder(monkeypatch, tmp_path):
    from workbench.zoo import catalogue as zoo
    monkeypatch.setattr(zoo, "MODELS_DIR", tmp_path)
    with pytest.raises(ModelLoadError, match=r"no bundled file for zoo:shapes-cnn.*workbench train shapes-cnn"):
        load_model("zoo:shapes-cnn")
    reference = _seeded(zoo.ZOO["shapes-cnn"].build)
    save_file(_state(reference), str(tmp_path / "shapes-cnn.safetensors"))
    handle = load_model("zoo:shapes-cnn")
    x = handle.preprocess(np.full((90, 70, 3), 100, np.uint8))
    assert x.shape == (1, 3, 64, 64)
    torch.testing.assert_close(handle.module(x), reference(x))
    assert handle.source == f"bundled: {tmp_path / 'shapes-cnn.safetensors'}"
    assert handle.card is None  # no card next to these weights


def test_zoo_random_init_is_reproducible_and_grayscale():
    a, b = load_model("zoo:digits-cnn?weights=none"), load_model("zoo:digits-cnn?weights=none")
    assert a.preprocess.grayscale and a.preprocess(np.zeros((8, 8, 3), np.uint8)).shape == (1, 1, 32, 32)
    for (k, va), vb in zip(a.module.state_dict().items(), b.module.state_dict().values()):
        torch.testing.assert_close(va, vb, msg=k)
    from workbench.zoo.digits import DIGIT_CLASSES
    assert a.labels == list(DIGIT_CLASSES) and len(a.labels) == 10
    assert a.source == "random init (seed 0)"


def test_zoo_with_user_weights(tmp_path):
    from workbench.zoo.catalogue import ZOO
    reference = _seeded(ZOO["shapes-cnn"].build, seed=3)
    mine, other = tmp_path / "mine.safetensors", tmp_path / "other.safetensors"
    save_file(_state(reference), str(mine))
    save_file(_state(ZOO["digits-cnn"].build()), str(other))
    handle = load_model(f"zoo:shapes-cnn?weights={mine}")
    torch.testing.assert_close(_outputs(handle.module, (1, 3, 64, 64)), _outputs(reference, (1, 3, 64, 64)))
    with pytest.raises(ModelLoadError, match=r"do not fit zoo:shapes-cnn: \d+ tensors have other shapes \(.*file \("):
        load_model(f"zoo:shapes-cnn?weights={other}")


def test_unknown_zoo_name_lists_the_zoo():
    with pytest.raises(ModelLoadError, match="no bundled model 'nope'; bundled models: .*shapes-cnn.*digits-cnn"):
        load_model("zoo:nope")


# ---- torchvision ----------------------------------------------------------------------------

def test_random_resnet18_has_imagenet_labels_geometry_and_seed():
    before = torch.random.get_rng_state()
    handle = load_model("torchvision:resnet18?weights=none")
    assert torch.equal(before, torch.random.get_rng_state())  # the global RNG is left alone
    assert handle.task == "classify" and handle.id == "torchvision:resnet18?weights=none"
    assert len(handle.labels) == 1000 and handle.labels[0] == "tench"
    assert handle.geometry == Geometry((224, 224), "shorter", 256, (224, 224))
    assert handle.preprocess.mean == IMAGENET_MEAN and handle.preprocess.std == IMAGENET_STD
    again = load_model("torchvision:resnet18?weights=none")
    torch.testing.assert_close(handle.module.fc.weight, again.module.fc.weight)
    assert not handle.module.training


def test_missing_hub_weights_name_the_expected_file(tmp_path):
    expected = tmp_path / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert hub_weights_path("resnet18") == expected
    with pytest.raises(ModelLoadError, match="not in the local torch hub cache") as info:
        load_model("torchvision:resnet18")
    assert str(expected) in str(info.value)


def test_hub_cache_weights_are_used_when_present():
    reference = _seeded(lambda: models.mobilenet_v3_small(weights=None))
    path = hub_weights_path("mobilenet_v3_small")
    path.parent.mkdir(parents=True)
    torch.save(_state(reference), path)
    handle = load_model("torchvision:mobilenet_v3_small")
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))
    assert handle.source == f"torch hub cache: {path}"
    rows = {r["id"]: r for r in catalogue()}
    assert rows["torchvision:mobilenet_v3_small"]["status"] == "available"
    missing = hub_weights_path("resnet50")
    assert rows["torchvision:resnet50"]["status"] == f"missing: {missing}"


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".pth"])
def test_user_state_dict_round_trips(tmp_path, suffix):
    reference = _seeded(lambda: models.resnet18(weights=None))
    path = tmp_path / f"mine{suffix}"
    save_file(_state(reference), str(path)) if suffix == ".safetensors" else torch.save(reference.state_dict(), path)
    handle = load_model(f"torchvision:resnet18?weights={path}")
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))
    assert handle.source == f"file: {path}" and len(handle.labels) == 1000


def test_class_count_is_read_from_the_state_dict(tmp_path):
    reference = _seeded(lambda: models.resnet18(weights=None, num_classes=7))
    path = tmp_path / "seven.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in reference.state_dict().items()}}, path)
    handle = load_model(f"torchvision:resnet18?weights={path}")
    assert handle.labels == [f"class_{i}" for i in range(7)]
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))


def test_mismatched_keys_are_listed(tmp_path):
    state = _state(_seeded(lambda: models.resnet18(weights=None)))
    del state["layer1.0.conv1.weight"]
    state["extra.head.weight"] = torch.zeros(2)
    path = tmp_path / "odd.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelLoadError, match=r"do not fit torchvision:resnet18: 1 missing \(e.g. layer1.0.conv1.weight\) "
                                             r"and 1 unexpected \(e.g. extra.head.weight\)"):
        load_model(f"torchvision:resnet18?weights={path}")


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "small.safetensors"
    save_file(_state(models.mobilenet_v3_small(weights=None)), str(path))
    with pytest.raises(ModelLoadError, match="do not fit torchvision:resnet18"):
        load_model(f"torchvision:resnet18?weights={path}")


@pytest.mark.parametrize("name, task, labels, size, mean", [
    ("ssdlite320_mobilenet_v3_large", "detect", 91, (512, 512), (0.0, 0.0, 0.0)),
    ("lraspp_mobilenet_v3_large", "segment", 21, (520, 520), IMAGENET_MEAN),
])
def test_detection_and_segmentation_handles(name, task, labels, size, mean):
    handle = load_model(f"torchvision:{name}?weights=none")
    assert handle.task == task and len(handle.labels) == labels
    assert handle.geometry == Geometry(size, "stretch") and handle.preprocess.mean == mean


# ---- file: ----------------------------------------------------------------------------------

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def test_pickled_module_is_refused_unless_trusted(tmp_path):
    reference = _seeded(TinyNet)
    path = tmp_path / "whole.pt"
    torch.save(reference, path)
    with pytest.raises(ModelLoadError, match=r"whole.pt is a pickled Python object .*TinyNet.*run any code.*trust_pickle=True"):
        load_model(f"file:{path}")
    with pytest.raises(ModelLoadError, match="pickled Python object.*Save just the weights"):
        load_model(f"torchvision:resnet18?weights={path}")
    handle = load_model(f"file:{path}", trust_pickle=True)
    assert handle.task == "classify" and handle.geometry == Geometry((224, 224), "stretch")
    assert "assuming 224x224" in handle.card["notes"][0]
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))


def test_state_dict_without_architecture_says_how_to_load_it(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(TinyNet().state_dict(), path)
    with pytest.raises(ModelLoadError, match=r"only weights .* torchvision:ARCH\?weights="):
        load_model(f"file:{path}")
    plain = tmp_path / "plain.safetensors"
    save_file(_state(TinyNet()), str(plain))
    with pytest.raises(ModelLoadError, match="has no 'architecture' in its metadata; load it as torchvision:ARCH"):
        load_model(f"file:{plain}")


def test_safetensors_naming_its_architecture(tmp_path):
    reference = _seeded(lambda: models.resnet18(weights=None, num_classes=3))
    path = tmp_path / "pets.safetensors"
    save_file(_state(reference), str(path), metadata={
        "architecture": "torchvision:resnet18", "labels": json.dumps(["cat", "dog", "bird"]),
        "input_size": "96"})
    handle = load_model(f"file:{path}")
    assert handle.id == f"file:{path}" and handle.task == "classify"
    assert handle.labels == ["cat", "dog", "bird"] and handle.class_index("dog") == 1
    assert handle.geometry == Geometry((96, 96), "stretch")
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))


def test_safetensors_naming_a_zoo_architecture(tmp_path):
    from workbench.zoo.catalogue import ZOO
    reference = _seeded(ZOO["digits-cnn"].build)
    path = tmp_path / "digits.safetensors"
    save_file(_state(reference), str(path), metadata={"architecture": "zoo:digits-cnn", "input_size": "[40, 40]"})
    handle = load_model(f"file:{path}")
    assert handle.geometry == Geometry((40, 40), "stretch") and handle.preprocess.grayscale
    x = torch.rand(1, 1, 32, 32)
    torch.testing.assert_close(handle.module(x), reference(x))


@pytest.mark.parametrize("metadata, message", [
    ({"input_size": "[1, 2, 3]"}, "input_size"),
    ({"task": "dance"}, "task 'dance' is not one of classify"),
    ({"labels": "{\"a\": 1}"}, "labels must be a JSON list"),
])
def test_unusable_metadata_is_named(tmp_path, metadata, message):
    from workbench.zoo.catalogue import ZOO
    path = tmp_path / "odd.safetensors"
    save_file(_state(ZOO["digits-cnn"].build()), str(path), metadata={"architecture": "zoo:digits-cnn", **metadata})
    with pytest.raises(ModelLoadError, match=f"the metadata in {path} cannot be used: {message}"):
        load_model(f"file:{path}")


@pytest.mark.parametrize("size, message", [
    ("100000", "input_size 100000 is not a whole number of pixels from 8 to 4096"),
    ("0", "input_size 0 is not a whole number of pixels from 8 to 4096"),
    ("[4, 224]", "input_size 4 is not a whole number of pixels from 8 to 4096"),
    ("1e9", "input_size 1000000000.0 is not a whole number"),
    ("true", "input_size True is not a size like 224 or [224, 224]"),
    ("[32, 32.5]", "input_size 32.5 is not a whole number"),
])
def test_metadata_sizes_are_bounded_before_the_model_is_built(tmp_path, monkeypatch, size, message):
    from workbench.core import sources
    from workbench.zoo.catalogue import ZOO
    path = tmp_path / "huge.safetensors"
    save_file(_state(ZOO["digits-cnn"].build()), str(path), metadata={"architecture": "zoo:digits-cnn", "input_size": size})
    load, built = sources.load_model, []
    monkeypatch.setattr(sources, "load_model", lambda *a, **k: built.append(a))
    with pytest.raises(ModelLoadError, match=f"the metadata in {path} cannot be used: {re.escape(message)}"):
        load(f"file:{path}")
    assert built == []


@pytest.mark.parametrize("option, message", [
    ("min_size=100000", "min_size 100000 is not a whole number of pixels from 8 to 4096 (in 'torchvision:"),
    ("min_size=0", "min_size 0 is not a whole number of pixels from 8 to 4096"),
    ("max_size=99999999999999999999", "max_size 99999999999999999999 is not a whole number"),
])
def test_detector_sizes_are_bounded_before_the_model_is_built(monkeypatch, option, message):
    from torchvision import models as tv
    built = []
    monkeypatch.setattr(tv, "get_model", lambda *a, **k: built.append(a))
    with pytest.raises(ModelLoadError, match=re.escape(message)):
        load_model(f"torchvision:fcos_resnet50_fpn?weights=none&{option}")
    assert built == []


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
@pytest.mark.parametrize("query, message", [
    ("?input=99999", r"cannot use \?input=99999 in 'file:.*': input 99999 is not a whole number of pixels from 8 to 4096"),
    ("?input=16x0", r"input 0 is not a whole number of pixels"),
    ("?input=abc", r"input 'abc' is not a number of pixels"),
    ("?input=1x2x3", r"input .* is not a size like 224"),
    ("?colour=red", r"cannot read 'colour=red' in 'file:.*': file: ids take only \?input=SIZE"),
    ("?input=32&input=32", r"cannot read 'input=32'"),
])
def test_file_id_options_are_checked(tmp_path, query, message):
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.trace(_seeded(TinyNet), torch.rand(1, 3, 16, 16)), str(path))
    with pytest.raises(ModelLoadError, match=message):
        load_model(f"file:{path}{query}")
    assert load_model(f"file:{path}?input=40x48").geometry == Geometry((40, 48), "stretch")


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_metadata_sizes_are_bounded(tmp_path):
    path = tmp_path / "huge.pt"
    torch.jit.save(torch.jit.trace(_seeded(TinyNet), torch.rand(1, 3, 16, 16)), str(path),
                   _extra_files={"workbench.json": json.dumps({"input_size": [100000, 100000]})})
    with pytest.raises(ModelLoadError, match=r"the metadata in .*huge.pt cannot be used: input_size 100000 is "
                                             r"not a whole number of pixels from 8 to 4096"):
        load_model(f"file:{path}")


@pytest.mark.parametrize("metadata, message", [
    ({"mean": "[0.5, 0.5]"}, r"mean \[0.5, 0.5\] needs 1 value or 3"),
    ({"std": "[0, 1, 1]"}, r"std \[0.0, 1.0, 1.0\] must be above zero"),
    ({"channels": "4"}, r"channels 4 must be 1 \(grey\) or 3 \(RGB\)"),
])
def test_unusable_normalisation_is_named(tmp_path, metadata, message):
    from workbench.zoo.catalogue import ZOO
    path = tmp_path / "odd.safetensors"
    save_file(_state(ZOO["shapes-cnn"].build()), str(path), metadata={"architecture": "zoo:shapes-cnn", **metadata})
    with pytest.raises(ModelLoadError, match=f"the metadata in {path} cannot be used: {message}"):
        load_model(f"file:{path}")


def test_metadata_mean_std_and_comma_lists(tmp_path):
    from workbench.zoo.catalogue import ZOO
    path = tmp_path / "gray.safetensors"
    save_file(_state(ZOO["shapes-cnn"].build()), str(path), metadata={
        "architecture": "zoo:shapes-cnn", "labels": "a, b, c, d, e, f", "mean": "[0.5, 0.5, 0.5]",
        "std": "0.25, 0.25, 0.25"})
    handle = load_model(f"file:{path}")
    assert handle.labels == ["a", "b", "c", "d", "e", "f"]
    assert handle.preprocess.mean == (0.5, 0.5, 0.5) and handle.preprocess.std == (0.25, 0.25, 0.25)
    x = handle.preprocess(np.full((4, 4, 3), 255, np.uint8))
    torch.testing.assert_close(x, torch.full((1, 3, 64, 64), 2.0))


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_with_and_without_metadata(tmp_path):
    reference = _seeded(TinyNet)
    scripted = torch.jit.trace(reference, torch.rand(1, 3, 16, 16))
    described, bare = tmp_path / "described.pt", tmp_path / "bare.ts"
    meta = {"input_size": [48, 64], "labels": ["a", "b", "c"], "task": "classify"}
    torch.jit.save(scripted, str(described), _extra_files={"workbench.json": json.dumps(meta)})
    torch.jit.save(scripted, str(bare))
    handle = load_model(f"file:{described}")
    assert handle.geometry == Geometry((48, 64), "stretch") and handle.labels == ["a", "b", "c"]
    assert handle.card is None and handle.source.startswith("TorchScript")
    torch.testing.assert_close(_outputs(handle.module), _outputs(reference))
    plain = load_model(f"file:{bare}")
    assert plain.geometry == Geometry((224, 224), "stretch") and "assuming 224x224" in plain.card["notes"][0]


# ---- bad ids --------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id, message", [
    ("resnet18", r"not a model id; model ids look like .*did you mean torchvision:resnet18"),
    ("shapes-cnn", r"did you mean zoo:shapes-cnn"),
    ("hub:resnet18", r"unknown model source 'hub'"),
    ("torchvision:resnet_19", r"no torchvision model 'resnet_19'; did you mean resnet18"),
    ("torchvision:resnet18?colour=red", r"the only option is \?weights=none or \?weights=PATH"),
    ("torchvision:resnet18?weights=/no/such.pt", r"weights file not found: /no/such.pt"),
    ("file:/no/such/model.pt", r"model file not found: /no/such/model.pt"),
    ("", r"is not a model id"),
])
def test_bad_ids_have_clear_messages(model_id, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(model_id)


@pytest.mark.parametrize("content", [b"hello, I am text", bytes(range(256)) * 4, b""])
def test_damaged_checkpoints(tmp_path, content):
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="broken.pt is not a PyTorch checkpoint or is damaged"):
        load_model(f"torchvision:resnet18?weights={path}")
    with pytest.raises(ModelLoadError, match="broken.pt is not a PyTorch checkpoint or is damaged"):
        load_model(f"file:{path}", trust_pickle=True)


def test_damaged_safetensors(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ModelLoadError, match="broken.safetensors is not a valid safetensors file"):
        load_model(f"file:{path}")
    with pytest.raises(ModelLoadError, match="broken.safetensors is not a valid safetensors file"):
        load_model(f"torchvision:resnet18?weights={path}")


def test_catalogue_lists_zoo_and_curated_torchvision_models():
    rows = {r["id"]: r for r in catalogue()}
    assert {"zoo:shapes-cnn", "zoo:digits-cnn"} <= set(rows)
    assert rows["zoo:shapes-cnn"]["source"] == "bundled"
    assert rows["torchvision:fasterrcnn_resnet50_fpn"]["task"] == "detect"
    assert rows["torchvision:deeplabv3_resnet50"]["task"] == "segment"
    assert rows["torchvision:vit_b_16"]["task"] == "classify"
    assert len([r for r in rows if r.startswith("torchvision:")]) == 15
    for row in rows.values():
        assert row["status"] == ("available" if Path(row["weights"]).is_file() else f"missing: {row['weights']}")
