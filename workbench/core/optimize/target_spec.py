"""What activation maximisation aims at, written as one string (``--set target=...``).

``class`` (the context's class: ``--target``, else the image's top prediction), ``class:NAME`` or
``class:INDEX``, ``channel:N`` (channel N of the layer), ``unit:N`` (channel N at the centre of the
layer's map), ``channels`` (every channel of the layer, one image each, as a grid), ``classes``
(every class of a classifier, one image each).
"""
from __future__ import annotations

from dataclasses import dataclass

CLASS, CHANNEL, UNIT, CHANNELS, CLASSES = "class", "channel", "unit", "channels", "classes"
FORMS = "class, class:NAME, class:INDEX, classes, channel:N, unit:N or channels"


@dataclass(frozen=True)
class TargetSpec:
    kind: str                  # CLASS, CLASSES, CHANNEL, UNIT or CHANNELS
    index: int | None = None   # the class or channel (None for CHANNELS, CLASSES, and for CLASS: the context's)
    name: str = ""             # a class given by name, resolved against the model's labels

    def text(self) -> str:
        if self.kind in (CHANNELS, CLASSES):
            return self.kind
        if self.kind == CLASS and self.index is None:
            return CLASS + (f":{self.name}" if self.name else "")
        return f"{self.kind}:{self.index}"


def parse(spec: str) -> TargetSpec:
    text = (spec or "").strip()
    kind, _, arg = text.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind in (CHANNELS, CLASSES) and not arg:
        return TargetSpec(kind)
    if kind == CLASS:
        if not arg:
            return TargetSpec(CLASS)
        if arg.lstrip("-").isdigit():
            return TargetSpec(CLASS, _non_negative(arg, text))
        return TargetSpec(CLASS, name=arg)
    if kind in (CHANNEL, UNIT) and arg:
        if not arg.lstrip("-").isdigit():
            raise ValueError(f"target {text!r}: {kind} needs a channel number, as in {kind}:3")
        return TargetSpec(kind, _non_negative(arg, text))
    raise ValueError(f"target {text!r} is not one of: {FORMS}")


def _non_negative(arg: str, text: str) -> int:
    value = int(arg)
    if value < 0:
        raise ValueError(f"target {text!r}: the index must not be negative")
    return value
