"""Method parameters: dataclass fields whose metadata tells a form how to edit them.

A method's ``Params`` is a plain dataclass. Each field may carry ``param(...)`` metadata:
a label, a numeric range and step, a fixed list of choices, or a dynamic choice source
(``"layers"``, ``"conv_layers"``) that the form fills from the loaded model.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

DYNAMIC_CHOICES = ("layers", "conv_layers", "classes")


def param(label: str, *, range: tuple[float, float] | None = None, step: float | None = None,
          choices: typing.Sequence[Any] | str | None = None, help: str = "", at_minimum: str = "") -> dict:
    """Field metadata for one parameter (use as ``field(default=..., metadata=param(...))``).
    ``at_minimum``: what the bottom of the range means, shown in its place (e.g. "auto")."""
    if isinstance(choices, str) and choices not in DYNAMIC_CHOICES:
        raise ValueError(f"dynamic choices must be one of {DYNAMIC_CHOICES}, got {choices!r}")
    return {"label": label, "range": range, "step": step, "choices": choices, "help": help, "at_minimum": at_minimum}


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    name: str
    type: type
    default: Any
    label: str
    range: tuple[float, float] | None
    step: float | None
    choices: typing.Sequence[Any] | str | None
    help: str
    at_minimum: str = ""


def specs(params_cls: type) -> list[ParamSpec]:
    """The editable parameters of a Params dataclass, in declaration order."""
    hints = typing.get_type_hints(params_cls)
    out = []
    for f in dataclasses.fields(params_cls):
        md = dict(f.metadata) or {}
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        out.append(ParamSpec(
            name=f.name, type=_base_type(hints[f.name]), default=default,
            label=md.get("label", f.name.replace("_", " ")), range=md.get("range"),
            step=md.get("step"), choices=md.get("choices"), help=md.get("help", ""),
            at_minimum=md.get("at_minimum", "")))
    return out


def _base_type(hint: Any) -> type:
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "types.UnionType":
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _base_type(args[0])
    if origin is typing.Literal:
        return type(typing.get_args(hint)[0])
    return hint if isinstance(hint, type) else str


def coerce(spec: ParamSpec, value: Any) -> Any:
    """Convert a value (often a CLI string) to the parameter's type and check its bounds."""
    try:
        if spec.type is bool and isinstance(value, str):
            low = value.strip().lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            v: Any = low in ("1", "true", "yes", "on")
        elif spec.type is int and isinstance(value, str):
            v = int(float(value)) if float(value).is_integer() else int(value)
        else:
            v = spec.type(value)
    except (TypeError, ValueError):
        raise ValueError(f"{spec.name}: expected {spec.type.__name__}, got {value!r}") from None
    if spec.range is not None and spec.type in (int, float):
        lo, hi = spec.range
        if not lo <= v <= hi:
            raise ValueError(f"{spec.name}: {v} is outside [{lo}, {hi}]")
    if isinstance(spec.choices, (list, tuple)) and v not in spec.choices:
        raise ValueError(f"{spec.name}: {v!r} is not one of {list(spec.choices)}")
    return v


def build(params_cls: type, values: dict[str, Any] | None = None) -> Any:
    """Instantiate Params from a mapping of (possibly string) values; unknown names are errors."""
    values = dict(values or {})
    by_name = {s.name: s for s in specs(params_cls)}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(by_name) or 'none'}")
    return params_cls(**{k: coerce(by_name[k], v) for k, v in values.items()})


def as_dict(params: Any) -> dict[str, Any]:
    return dataclasses.asdict(params) if dataclasses.is_dataclass(params) else dict(params or {})
