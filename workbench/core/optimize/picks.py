"""A channel the user picked in the activation grid, as the workspace carries it: the Grid tab shows
the picked channel over the image (a Heatmap whose params name the layer and the channel)."""
from __future__ import annotations

from typing import Any

from workbench.core.results import Heatmap


def picked_channel(result: Any) -> tuple[str, int] | None:
    """(layer, channel) when ``result`` is one channel of an activation grid shown over the image."""
    if not isinstance(result, Heatmap) or result.method != "activations":
        return None
    layer, channel = result.params.get("layer"), result.params.get("channel")
    if not isinstance(layer, str) or not layer or channel is None:
        return None
    return layer, int(channel)
