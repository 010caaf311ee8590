from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from workbench.core.params import param
from workbench.ui.forms import DEFAULT_CHOICE, ParamsForm


@dataclass
class Params:
    steps: int = field(default=8, metadata=param("Steps", range=(1, 64), step=2))
    sigma: float = field(default=0.25, metadata=param("Sigma", range=(0.0, 2.0), step=0.05))
    lr: float = field(default=0.001, metadata=param("Learning rate", range=(1e-5, 1.0), step=0.0001))
    abs_values: bool = field(default=True, metadata=param("Absolute"))
    mode: str = field(default="mean", metadata=param("Mode", choices=["mean", "max", "sum"]))
    layer: str = field(default="", metadata=param("Layer", choices="conv_layers"))
    any_layer: str = field(default="", metadata=param("Any layer", choices="layers"))
    note: str = "hello"


def fake_handle():
    layer = lambda name, conv: SimpleNamespace(name=name, type="Conv2d" if conv else "ReLU",
                                               output_shape=(1, 4, 8, 8), is_conv=conv)
    layers = [layer("features.0", True), layer("features.1", False), layer("features.2", True)]
    return SimpleNamespace(layers=lambda: layers, conv_layers=lambda: [l.name for l in layers if l.is_conv],
                           labels=["cat", "dog"])


def test_widgets_match_the_field_types_and_metadata(qtbot):
    form = ParamsForm(Params, handle=fake_handle())
    qtbot.addWidget(form)
    steps = form.editor("steps")
    assert isinstance(steps, QSpinBox)
    assert (steps.minimum(), steps.maximum(), steps.singleStep(), steps.value()) == (1, 64, 2, 8)
    sigma = form.editor("sigma")
    assert isinstance(sigma, QDoubleSpinBox)
    assert (sigma.minimum(), sigma.maximum(), sigma.singleStep()) == (0.0, 2.0, 0.05)
    assert sigma.value() == pytest.approx(0.25)
    assert form.editor("lr").decimals() >= 5 and form.editor("lr").value() == pytest.approx(0.001)
    assert isinstance(form.editor("abs_values"), QCheckBox) and form.editor("abs_values").isChecked()
    mode = form.editor("mode")
    assert isinstance(mode, QComboBox)
    assert [mode.itemText(i) for i in range(mode.count())] == ["mean", "max", "sum"]
    assert isinstance(form.editor("note"), QLineEdit)


def test_values_are_typed_and_follow_edits(qtbot):
    form = ParamsForm(Params, handle=fake_handle())
    qtbot.addWidget(form)
    assert form.values() == {"steps": 8, "sigma": 0.25, "lr": 0.001, "abs_values": True, "mode": "mean",
                             "layer": "", "any_layer": "", "note": "hello"}
    with qtbot.waitSignal(form.changed):
        form.editor("steps").setValue(12)
    form.editor("mode").setCurrentIndex(2)
    form.editor("abs_values").setChecked(False)
    values = form.values()
    assert values["steps"] == 12 and type(values["steps"]) is int
    assert values["mode"] == "sum" and values["abs_values"] is False


def test_set_values_updates_editors_and_rejects_unknown_names(qtbot):
    form = ParamsForm(Params, handle=fake_handle())
    qtbot.addWidget(form)
    form.set_values({"steps": 33, "sigma": 1.5, "mode": "max", "layer": "features.2", "note": "x"})
    v = form.values()
    assert (v["steps"], v["sigma"], v["mode"], v["layer"], v["note"]) == (33, 1.5, "max", "features.2", "x")
    form.set_values({"steps": 1000})  # clamped by the spin box range
    assert form.values()["steps"] == 64
    with pytest.raises(KeyError):
        form.set_values({"nope": 1})
    with pytest.raises(ValueError):
        form.set_values({"mode": "median"})


def test_dynamic_layer_choices_come_from_the_handle(qtbot):
    form = ParamsForm(Params, handle=fake_handle())
    qtbot.addWidget(form)
    conv = form.editor("layer")
    assert [conv.itemText(i) for i in range(conv.count())] == [DEFAULT_CHOICE, "features.0", "features.2"]
    every = form.editor("any_layer")
    assert [every.itemText(i) for i in range(every.count())] == \
        [DEFAULT_CHOICE, "features.0", "features.1", "features.2"]
    conv.setCurrentIndex(2)
    assert form.values()["layer"] == "features.2"
    conv.setCurrentIndex(0)
    assert form.values()["layer"] == ""


def test_set_handle_refills_choices_and_keeps_a_still_valid_selection(qtbot):
    form = ParamsForm(Params)
    qtbot.addWidget(form)
    assert form.editor("layer").count() == 1  # only "(default)" without a model
    form.set_handle(fake_handle())
    form.set_values({"layer": "features.2"})
    smaller = fake_handle()
    form.set_handle(smaller)
    assert form.values()["layer"] == "features.2"
    form.set_handle(None)
    assert form.values()["layer"] == ""


def test_rebuilding_for_another_params_class_replaces_the_rows(qtbot):
    @dataclass
    class Other:
        k: int = field(default=3, metadata=param("K", range=(0, 5)))

    form = ParamsForm(Params)
    qtbot.addWidget(form)
    form.set_params(Other)
    assert form.names() == ["k"] and form.values() == {"k": 3}
    form.set_params(None)
    assert form.values() == {}


@dataclass
class AutoParams:
    window: int = field(default=0, metadata=param("Window", range=(0, 64), at_minimum="auto"))
    reach: float = field(default=0.5, metadata=param("Reach", range=(0.0, 1.0), step=0.1, at_minimum="auto"))


def test_the_bottom_of_a_range_shows_what_it_means(qtbot):
    form = ParamsForm(AutoParams)
    qtbot.addWidget(form)
    window, reach = form.editor("window"), form.editor("reach")
    assert window.text() == "auto" and form.values()["window"] == 0
    assert reach.text() != "auto"
    reach.setValue(0.0)
    assert reach.text() == "auto" and form.values()["reach"] == 0.0
