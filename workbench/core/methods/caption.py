"""A captioner's caption, written word by word, with the attention map behind every word.

Greedy decoding for beam size 1, beam search above; the result holds each word's map on the
model's token grid and on the image, so the panel can step through the words without
running the model again. Without an image it captions the sample scene ``DEFAULT_SAMPLE``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from workbench.core.context import Context
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.caption import CaptionAttention

MAX_BEAM = 10
# captioned when no image is given: the first validation scene, never seen in training
DEFAULT_SAMPLE = "scene-1000000"


@dataclass
class Params:
    beam_size: int = field(default=1, metadata=param(
        "Beam size", range=(1, MAX_BEAM), step=1,
        help="hypotheses kept at each step; 1 is greedy decoding"))
    max_words: int = field(default=8, metadata=param(
        "Max words", range=(1, 30), step=1, help="stop a caption after this many words"))
    word: int = field(default=0, metadata=param(
        "Word", range=(0, 29), step=1, help="the word whose attention is shown, first is 0"))


def writes_captions(module) -> bool:
    """A captioner with greedy and beam-search decoding (``workbench.zoo.captioner``)."""
    return all(callable(getattr(module, a, None)) for a in ("greedy", "beam_search"))


def run(ctx: Context, p: Params) -> CaptionAttention:
    from workbench.zoo.captioner import caption
    h = ctx.handle
    if not 1 <= p.beam_size <= MAX_BEAM:
        raise ValueError(f"beam size {p.beam_size}: choose 1 (greedy) to {MAX_BEAM}")
    if p.max_words < 1:
        raise ValueError(f"max words {p.max_words}: a caption needs at least 1")
    if not writes_captions(h.module):
        raise ValueError(f"{h.id} is not a captioner (it has no greedy and beam_search decoding)")
    if ctx.image is None:
        from workbench.core.samples import sample_image
        ctx = replace(ctx, image=sample_image(DEFAULT_SAMPLE))
    x = ctx.input_tensor()
    cap = caption(h.module, x, p.beam_size, p.max_words)
    result = CaptionAttention(
        method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
        words=list(cap.words), maps=np.asarray(cap.maps, np.float32), probs=cap.probs,
        weights=np.asarray(cap.maps, np.float32).reshape(1, 1, len(cap.words), -1),
        grid_hw=tuple(cap.maps.shape[1:]), beam_size=p.beam_size, log_prob=cap.log_prob,
        geometry=h.geometry, image_hw=tuple(ctx.image.shape[:2]), image=ctx.image)
    if cap.words and not 0 <= p.word < len(cap.words):
        raise ValueError(f"word {p.word}: the caption {cap.text!r} has {len(cap.words)} words "
                         f"(0-{len(cap.words) - 1})")
    return result.at(p.word)


METHOD = Method(name="caption", kind="attention", tasks=("caption",), accepts=writes_captions,
                needs_image=False, accepts_what="a captioner (greedy and beam-search decoding)", params=Params, run=run,
                title="Caption with attention",
                description="The caption a captioner writes, word by word, with the soft-attention "
                            "map over the image behind each word (Show, Attend and Tell).")
