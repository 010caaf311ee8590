"""Why a map shows nothing: the note an all-zero attribution map carries (Qt- and torch-free,
so the GUI can show it)."""
from __future__ import annotations

from typing import Any

import numpy as np

ZERO_GRADIENT = ("all-zero map: the target's gradient is zero at this input "
                 "(e.g. untrained head or saturated ReLUs)")
ZERO_SCORE_CHANGE = ("all-zero map: covering any part of the input leaves the target's score unchanged "
                     "(e.g. untrained head or saturated outputs)")
# what the result's title says (a figure title has room for a few words); the full note is shown apart
SHORT = {ZERO_GRADIENT: "all-zero map: zero gradient at this input",
         ZERO_SCORE_CHANGE: "all-zero map: the score never changes"}
# methods that measure score changes rather than gradients
SCORE_CHANGE_METHODS = frozenset({"occlusion", "perturbation"})


def is_all_zero(values: Any) -> bool:
    """True for a non-empty map whose finite values are all exactly 0."""
    a = np.asarray(values, np.float64)
    return a.size > 0 and not np.any(a[np.isfinite(a)])


def zero_map_note(result: Any) -> str:
    """Why an attribution map is all zeros (``""`` when it is not, or is no map)."""
    heatmap = getattr(result, "heatmap", None)
    if heatmap is None or not is_all_zero(heatmap):
        return ""
    return ZERO_SCORE_CHANGE if getattr(result, "method", "") in SCORE_CHANGE_METHODS else ZERO_GRADIENT


def noted_title(title: str, note: str) -> str:
    """``title`` with the short form of ``note`` (unchanged when there is no note)."""
    return f"{title} — {SHORT.get(note, note)}" if note else title
