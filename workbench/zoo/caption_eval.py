"""The captioner's card metrics: corpus BLEU-4 and exact matches against the scenes' captions,
and whether each shape noun's attention peaks on the object that noun names."""
from __future__ import annotations

import numpy as np
import torch

from workbench.zoo.bleu import corpus_bleu
from workbench.zoo.caption_data import cells_touched, mentioned
from workbench.zoo.captioner import Caption, ShowAttendTell, caption
from workbench.zoo.shapes import COLOR_NAMES, SHAPE_CLASSES, Scene


def decode_scenes(model: ShowAttendTell, to_input, scenes: list[Scene], beam_size: int = 1,
                  batch_size: int = 100) -> list[Caption]:
    """Captions of ``scenes``; ``to_input`` maps (N, H, W, 3) uint8 to the model's input."""
    model.eval()
    out: list[Caption] = []
    for i in range(0, len(scenes), batch_size):
        x = to_input(np.stack([s.image for s in scenes[i:i + batch_size]]))
        if beam_size == 1:
            out += model.greedy(x)
        else:
            out += [caption(model, x[j:j + 1], beam_size) for j in range(len(x))]
    return out


def named_object(scene: Scene, words: list[str], position: int, nth: int) -> int | None:
    """The object the shape noun ``words[position]`` names: the scene's objects of that shape
    (and colour, if the word before is one); among several, the one the reference caption
    names at that place, else the largest. None when the scene has no such shape."""
    label = SHAPE_CLASSES.index(words[position])
    colour = words[position - 1] if position > 0 and words[position - 1] in COLOR_NAMES else None
    same = [i for i in range(len(scene.labels)) if scene.labels[i] == label]
    exact = [i for i in same if scene.colors[i] == colour]
    candidates = exact or same
    if not candidates:
        return None
    reference = mentioned(scene)
    if nth < len(reference) and reference[nth] in candidates:
        return reference[nth]
    return max(candidates, key=lambda i: int(scene.masks[i].sum()))


def noun_attention(scenes: list[Scene], captions: list[Caption]) -> dict:
    """For each shape noun of each caption: does its attention map's highest cell hold a pixel
    of the object it names? ``chance`` is the same for a cell drawn uniformly (the share of
    cells the object touches), averaged over the same nouns."""
    hits, chance, unmatched = [], [], 0
    for scene, cap in zip(scenes, captions):
        nth = 0
        for pos, word in enumerate(cap.words):
            if word not in SHAPE_CLASSES:
                continue
            obj = named_object(scene, cap.words, pos, nth)
            nth += 1
            if obj is None:
                unmatched += 1
                continue
            touched = cells_touched(scene.masks[obj])
            peak = np.unravel_index(int(np.argmax(cap.maps[pos])), touched.shape)
            hits.append(bool(touched[peak]))
            chance.append(float(touched.mean()))
    return {"peak_on_object": float(np.mean(hits)) if hits else 0.0,
            "chance": float(np.mean(chance)) if chance else 0.0,
            "nouns": len(hits), "nouns_unmatched": unmatched}


def caption_metrics(scenes: list[Scene], captions: list[Caption]) -> dict:
    refs = [[s.caption.split()] for s in scenes]
    hyps = [c.words for c in captions]
    looks = noun_attention(scenes, captions)
    return {"bleu4": corpus_bleu(hyps, refs),
            "exact_match": float(np.mean([h == r[0] for h, r in zip(hyps, refs)])),
            "noun_attention_peak_on_object": looks["peak_on_object"],
            "noun_attention_chance": looks["chance"], "nouns": looks["nouns"],
            "nouns_unmatched": looks["nouns_unmatched"], "scenes": len(scenes)}


@torch.no_grad()
def evaluate(model: ShowAttendTell, to_input, scenes: list[Scene], beam_size: int = 1) -> dict:
    return caption_metrics(scenes, decode_scenes(model, to_input, scenes, beam_size))
