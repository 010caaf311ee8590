"""A result made of named numbers (sample-quality scores and the like)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import Result


@dataclass
class Scores(Result):
    """Named values; each becomes an array of the same name in the npz. ``references``: values
    to read them against, each {"header", "detail", "values"} (e.g. what the model card measured)."""
    values: dict[str, Any] = field(default_factory=dict)
    references: list[dict[str, Any]] = field(default_factory=list)

    kind = "scores"

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.values.items()}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "values": self.values, "references": self.references}

    def summary(self) -> dict[str, Any]:
        plain = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.values.items()}
        return {**super().summary(), **{k: v for k, v in plain.items() if isinstance(v, (bool, int, float, str))}}
