from dataclasses import dataclass, field

import pytest

from workbench.core import params as P


@dataclass
class Demo:
    window: int = field(default=16, metadata=P.param("Window", range=(2, 64), step=2))
    noise: float = field(default=0.1, metadata=P.param("Noise", range=(0.0, 1.0)))
    mode: str = field(default="exact", metadata=P.param("Mode", choices=["exact", "approximate"]))
    layer: str = field(default="", metadata=P.param("Layer", choices="conv_layers"))
    signed: bool = True


def test_specs_read_types_defaults_and_metadata():
    specs = {s.name: s for s in P.specs(Demo)}
    assert [s.name for s in P.specs(Demo)] == ["window", "noise", "mode", "layer", "signed"]
    assert specs["window"].type is int and specs["window"].range == (2, 64) and specs["window"].step == 2
    assert specs["noise"].type is float and specs["noise"].default == 0.1
    assert specs["mode"].choices == ["exact", "approximate"]
    assert specs["layer"].choices == "conv_layers"
    assert specs["signed"].type is bool and specs["signed"].label == "signed"


def test_build_coerces_cli_strings():
    p = P.build(Demo, {"window": "8", "noise": "0.25", "mode": "approximate", "signed": "false"})
    assert (p.window, p.noise, p.mode, p.signed) == (8, 0.25, "approximate", False)


@pytest.mark.parametrize("values, fragment", [
    ({"window": "100"}, "outside"), ({"window": "abc"}, "expected int"), ({"mode": "fast"}, "not one of"),
    ({"signed": "maybe"}, "expected bool"), ({"size": "3"}, "unknown parameter")])
def test_build_rejects_bad_values_with_a_message(values, fragment):
    with pytest.raises(ValueError, match=fragment):
        P.build(Demo, values)


def test_unknown_dynamic_choice_source_is_an_error():
    with pytest.raises(ValueError):
        P.param("x", choices="everything")
