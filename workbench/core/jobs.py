"""General engine jobs: the model catalogue and model loading, run on the worker thread.

Each takes the job context first (``fn(jc, *args)``), as ``Engine.submit`` calls it. torch is
imported inside the functions, so the UI can name them without importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NeedsTrust:
    """What ``load_model`` returns when the loader refused a pickled file it was not told to
    trust: the caller may ask the user and load again with ``trust_pickle=True``."""
    model_id: str
    message: str


def catalogue(jc: Any) -> list[dict]:
    """Every model id the workbench knows, with its task and where its weights come from."""
    from workbench.core import sources

    return sources.catalogue()


def load_model(jc: Any, model_id: str, trust_pickle: bool = False) -> Any:
    """The ModelHandle for ``model_id``, its layers listed (so the GUI thread never runs the
    model; a TorchScript model's without shapes, as it takes no hooks); a :class:`NeedsTrust`
    for a ``file:`` model that would run code when loaded (a pickled module, or a .pt2
    archive holding pickles or code) and was not trusted."""
    from workbench.core import sources

    try:
        handle = sources.load_model(model_id, trust_pickle=trust_pickle)
    except Exception as e:
        # only a file: id can be retried with trust; a ?weights= file must hold weights only
        if not trust_pickle and model_id.startswith("file:") and is_pickle_refusal(e):
            return NeedsTrust(model_id, str(e))
        raise
    handle.layers()
    return handle


def is_pickle_refusal(error: Exception) -> bool:
    return bool(getattr(error, "needs_trust", False))
