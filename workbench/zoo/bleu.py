"""Corpus BLEU (Papineni et al. 2002): clipped n-gram precisions pooled over the corpus, their
geometric mean, times a brevity penalty for a corpus shorter than its references."""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def ngrams(words: Sequence[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def closest_length(candidate_length: int, references: Sequence[Sequence[str]]) -> int:
    """The reference length nearest the candidate's; the shorter one on a tie."""
    return min((abs(len(r) - candidate_length), len(r)) for r in references)[1]


def corpus_bleu(candidates: Sequence[Sequence[str]],
                references: Sequence[Sequence[Sequence[str]]], max_n: int = 4) -> float:
    """BLEU-``max_n`` of tokenised ``candidates`` against, for each, a list of tokenised
    references; uniform weights 1/max_n. 0 when some n-gram order has no match at all."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference lists")
    if not candidates:
        raise ValueError("BLEU of an empty corpus is undefined")
    matched, total = [0] * max_n, [0] * max_n
    cand_len = ref_len = 0
    for cand, refs in zip(candidates, references):
        if not refs:
            raise ValueError("every candidate needs at least one reference")
        cand_len += len(cand)
        ref_len += closest_length(len(cand), refs)
        for n in range(1, max_n + 1):
            counts = ngrams(cand, n)
            most = Counter()
            for r in refs:
                most |= ngrams(r, n)
            matched[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            total[n - 1] += sum(counts.values())
    if min(matched) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total)) / max_n
    brevity = 1.0 if cand_len > ref_len else math.exp(1 - ref_len / max(cand_len, 1))
    return brevity * math.exp(log_precision)
