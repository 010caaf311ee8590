"""Selective search: R-CNN's region proposals, made from the image alone, shown like an RPN's.

The registry runs every method with a model, so this one is offered with every detector (and
only with detectors: its boxes go to the Detection view, where the detector's own proposals
are shown the same way); it reads the image and never the model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.zoo.selective_search import DEFAULT_SCALES, MODES, selective_search
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.proposals import RankedProposals, rank_scores


@dataclass
class Params:
    mode: str = field(default="fast", metadata=param(
        "Mode", choices=MODES, help="fast: HSV and Lab, the first two scales, 2 similarity strategies; "
                                    "quality: 5 colour spaces, every scale, 4 strategies"))
    scales: str = field(default=",".join(str(k) for k in DEFAULT_SCALES), metadata=param(
        "Scales k", help="Felzenszwalb's k for the initial regions, comma-separated (larger: bigger "
                         "regions); fast uses the first two"))
    min_size: int = field(default=0, metadata=param(
        "Smallest region", range=(0, 100_000), step=1, help="Felzenszwalb's smallest region in pixels",
        at_minimum="k"))
    max_proposals: int = field(default=0, metadata=param(
        "Max proposals", range=(0, 100_000), step=1, help="the best-ranked proposals kept", at_minimum="all"))
    seed: int = field(default=0, metadata=param(
        "Seed", range=(0, 2**31 - 1), step=1, help="of the random factor in the ranking"))


def parse_scales(text: str) -> tuple[int, ...]:
    """"50, 100,150" -> (50, 100, 150); anything else is refused with the reason."""
    parts = [t.strip() for t in str(text).split(",") if t.strip()]
    try:
        scales = tuple(int(t) for t in parts)
    except ValueError:
        raise ValueError(f"scales must be whole numbers separated by commas, like 50,100, not {text!r}") from None
    if not scales or min(scales) <= 0:
        raise ValueError(f"scales must be positive whole numbers separated by commas, not {text!r}")
    return scales


def run(ctx: Context, p: Params) -> RankedProposals:
    scales = parse_scales(p.scales)
    start = time.perf_counter()
    found = selective_search(ctx.image, p.mode, scales, p.min_size or None, p.max_proposals or None, p.seed,
                             on_step=lambda _i, _n: ctx.cancel.check())
    elapsed = (time.perf_counter() - start) * 1000
    n = len(found.boxes)
    return RankedProposals(
        method="selective-search", model=ctx.handle.id, params=as_dict(p), input=None,
        title=f"{n} selective-search proposals ({p.mode}): the best-ranked, coloured by rank",
        label_names=list(ctx.handle.labels),
        proposals=found.boxes, proposal_scores=rank_scores(n), priority=found.priority,
        strategy=found.strategy, strategies=list(found.strategies), initial_regions=found.initial_regions,
        labels=np.zeros((0,), np.int64), time_ms=elapsed, architecture="selective search",
        notes=[f"selective search ({p.mode}): {found.initial_regions} initial regions in "
               f"{len(found.strategies)} groupings; the model is not run"])


METHOD = Method(name="selective-search", kind="detection", tasks=("detect",), params=Params, run=run,
                title="Selective search",
                description="R-CNN's region proposals from the image alone (Felzenszwalb regions grouped "
                            "by colour, texture, size and fill), drawn like the RPN's proposals in the "
                            "Detection panel; the detector is not run.")
