"""The method registry: every method, built-in or from a plugin, is registered here."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from workbench.core import params as P

TASKS = ("classify", "detect", "segment", "generate", "autoencode", "attend", "caption", "inpaint", "superres")

# A method's family, which decides the panels that offer it (attribution: the Attribution dock and
# the Compare tab; every other kind: the Method dock):
KINDS = {
    "attribution": "a Heatmap explaining one class of the image (Attribution panel, Compare tab)",
    "features": "what the network holds inside: filters, activations",
    "detection": "boxes and what leads to them: detections, proposals, ROI pooling, one box explained",
    "segmentation": "a class per pixel",
    "generative": "samples, interpolations and latent spaces of generative models",
    "metrics": "numbers that score a model's outputs, such as sample quality",
    "attention": "where a transformer looks: attention weights, rollout, positional embeddings",
    "other": "none of these (the default)",
}


@dataclass(frozen=True)
class Method:
    name: str
    tasks: tuple[str, ...]
    params: type
    run: Callable[..., Any]
    title: str = ""
    description: str = ""
    needs_image: bool = True
    kind: str = "other"          # one of KINDS
    # which models of its tasks it reads (module -> bool, without importing torch); None: all
    accepts: Callable[[Any], bool] | None = None
    accepts_what: str = ""       # what it needs, for the message when a model lacks it
    default_model: Callable[[], Any] | None = None   # () -> the model id or handle it runs on when given none

    def applies_to(self, task: str) -> bool:
        return task in self.tasks

    def accepts_model(self, task: str, module: Any) -> bool:
        return self.applies_to(task) and (self.accepts is None or bool(self.accepts(module)))

    def is_generator(self) -> bool:
        return inspect.isgeneratorfunction(self.run)

    def param_specs(self) -> list[P.ParamSpec]:
        return P.specs(self.params)


class Registry:
    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def add(self, method: Method) -> None:
        if not isinstance(method, Method):
            raise TypeError(f"expected a Method, got {type(method).__name__}")
        bad = [t for t in method.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"method {method.name!r}: unknown task(s) {bad}; known: {TASKS}")
        if method.kind not in KINDS:
            raise ValueError(f"method {method.name!r}: unknown kind {method.kind!r}; "
                             f"known: {', '.join(KINDS)}")
        if method.name in self._methods:
            raise ValueError(f"a method named {method.name!r} is already registered")
        self._methods[method.name] = method

    def get(self, name: str) -> Method:
        try:
            return self._methods[name]
        except KeyError:
            raise KeyError(f"no method {name!r}; known: {', '.join(sorted(self._methods))}") from None

    def names(self) -> list[str]:
        return sorted(self._methods)

    def for_task(self, task: str | None) -> list[Method]:
        return [m for n, m in sorted(self._methods.items()) if task is None or m.applies_to(task)]

    def for_model(self, task: str, module: Any) -> list[Method]:
        """The methods that apply to a model of ``task`` and accept ``module``."""
        return [m for m in self.for_task(task) if m.accepts_model(task, module)]

    def of_kind(self, kind: str, task: str | None = None) -> list[Method]:
        """The methods of one family (see KINDS) that apply to ``task`` (all tasks when None)."""
        if kind not in KINDS:
            raise ValueError(f"unknown method kind {kind!r}; known: {', '.join(KINDS)}")
        return [m for m in self.for_task(task) if m.kind == kind]

    def __iter__(self) -> Iterator[Method]:
        return iter(self.for_task(None))

    def __contains__(self, name: str) -> bool:
        return name in self._methods
