"""Corpus BLEU checked against sums done by hand."""
import math

import pytest

from workbench.zoo.bleu import closest_length, corpus_bleu, ngrams


def test_one_sentence_worked_by_hand():
    # candidate "a red star left of a blue circle" (8 words) against
    # reference "a red star right of a blue circle":
    # unigrams 7/8 (all but left), bigrams 5/7, trigrams 3/6, 4-grams 1/5 (of a blue circle);
    # same length, so no brevity penalty.
    cand = "a red star left of a blue circle".split()
    ref = "a red star right of a blue circle".split()
    expected = (7 / 8 * 5 / 7 * 3 / 6 * 1 / 5) ** 0.25
    assert corpus_bleu([cand], [[ref]]) == pytest.approx(expected)
    assert expected == pytest.approx(0.5)  # (1/16) ** (1/4)


def test_clipping_and_brevity_penalty_over_a_corpus():
    # first pair: "a a a" vs "a blue circle": unigram "a" clipped to 1 of 3; no bigram matches,
    # so a second pair supplies the higher orders. Pooled counts over the corpus:
    cands = ["a a a".split(), "a red star".split()]
    refs = [["a blue circle".split()], ["a red star left of a blue circle".split()]]
    p1 = (1 + 3) / (3 + 3)
    p2 = (0 + 2) / (2 + 2)
    p3 = (0 + 1) / (1 + 1)
    # 4-grams: none in either candidate -> precision 0/0; BLEU-4 is 0, BLEU-3 is not
    assert corpus_bleu(cands, refs) == 0.0
    c, r = 6, 3 + 8
    expected = math.exp(1 - r / c) * (p1 * p2 * p3) ** (1 / 3)
    assert corpus_bleu(cands, refs, max_n=3) == pytest.approx(expected)


def test_identical_corpus_scores_one_and_longer_candidates_pay_no_penalty():
    text = ["a red star left of a blue circle".split(), "an orange cross".split()]
    assert corpus_bleu(text, [[t] for t in text]) == pytest.approx(1.0)
    assert closest_length(5, ["a b c".split(), "a b c d e f g".split()]) == 3  # tie: shorter
    assert ngrams("a a a".split(), 2) == {("a", "a"): 2}


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="2 candidates but 1"):
        corpus_bleu([["a"], ["b"]], [[["a"]]])
    with pytest.raises(ValueError, match="empty"):
        corpus_bleu([], [])
