"""The attribution methods a model can use: every registered method of kind "attribution".

Built-ins come in the order a user meets them (gradients, then CAMs, then perturbations);
any other, such as a plugin's, follows by title.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.core.registry import Method, Registry

ATTRIBUTION = "attribution"
BUILTIN_ORDER = ("saliency", "gradient-x-input", "smoothgrad", "integrated-gradients", "guided-backprop",
                 "gradcam", "gradcam-pp", "scorecam", "occlusion", "perturbation")


def attribution_methods(registry: "Registry | None", task: str | None) -> list["Method"]:
    """The registry's attribution methods that apply to ``task`` (every one when None)."""
    if registry is None:
        return []
    rank = {name: i for i, name in enumerate(BUILTIN_ORDER)}
    return sorted(registry.of_kind(ATTRIBUTION, task),
                  key=lambda m: (rank.get(m.name, len(rank)), (m.title or m.name).casefold(), m.name))
