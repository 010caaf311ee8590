"""The bundled captioner: its vocabulary covers the caption grammar, the training data's mirroring
keeps captions true, beam 1 is greedy decoding, and on held-out scenes it reproduces its card's
BLEU-4 and each shape noun's attention peaks on the object the noun names."""
import numpy as np
import pytest
import torch

from workbench.core.sources import load_model
from workbench.zoo.caption_data import (cells_touched, flip_batch, flip_caption, mentioned, training_arrays,
                                        word_objects)
from workbench.zoo.caption_eval import decode_scenes, evaluate, named_object, noun_attention
from workbench.zoo.captioner import (CAPTIONER, END, MAX_WORDS, START, VOCABULARY, ShowAttendTell, caption,
                                     encode_caption)
from workbench.zoo.catalogue import ZOO, card
from workbench.zoo.detection_data import SCENE_SEEDS
from workbench.zoo.shapes import make_caption, render_scene

NAME = "shapes-captioner"
VAL_SUBSET = 100
BLEU_TOLERANCE = 0.06


@pytest.fixture(scope="module")
def bundled():
    return load_model(f"zoo:{NAME}"), card(NAME)


@pytest.fixture(scope="module")
def val_scenes():
    from workbench.zoo.caption_data import caption_scenes
    return caption_scenes("val", VAL_SUBSET)


@pytest.fixture(scope="module")
def val_captions(bundled, val_scenes):
    handle, _ = bundled
    return decode_scenes(handle.module, ZOO[NAME].to_input, val_scenes)


def test_every_caption_of_the_grammar_is_in_the_vocabulary():
    for seed in range(300):
        scene = render_scene(seed)
        ids = encode_caption(scene.caption)
        assert ids[0] == START and END in ids and len(ids) == MAX_WORDS + 2
        words = [VOCABULARY[i] for i in ids[1:ids.index(END)]]
        assert " ".join(words) == scene.caption
    with pytest.raises(ValueError, match="'purple' is not in the captioner's vocabulary"):
        encode_caption("a purple star")


def test_mirrored_scenes_keep_true_captions():
    # the caption of a mirrored scene, made from the mirrored masks, is the mirrored caption
    for seed in range(40):
        s = render_scene(seed)
        for axis, flip in ((1, lambda a: a[..., ::-1]), (0, lambda a: a[..., ::-1, :])):
            masks = flip(s.masks)
            boxes = np.stack([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                              for ys, xs in (np.nonzero(m) for m in masks)]).astype(np.float32)
            assert make_caption(s.labels, s.colors, masks, boxes) == flip_caption(s.caption, axis)
    arrays = training_arrays([render_scene(s) for s in range(8)])
    images, tokens, cells = flip_batch(arrays["images"], arrays["tokens"], arrays["cells"],
                                       np.random.default_rng(3), VOCABULARY)
    same_draws = np.random.default_rng(3)
    left_right, up_down = same_draws.random(8) < 0.5, same_draws.random(8) < 0.5
    assert left_right.any() and up_down.any() and not (left_right & up_down).all()
    text = lambda t: " ".join(VOCABULARY[i] for i in t if i > END)   # noqa: E731
    for k in range(8):
        image, words, named = arrays["images"][k], text(arrays["tokens"][k]), arrays["cells"][k]
        if left_right[k]:
            image, words, named = image[:, ::-1], flip_caption(words, 1), named[:, :, ::-1]
        if up_down[k]:
            image, words, named = image[::-1], flip_caption(words, 0), named[:, ::-1]
        np.testing.assert_array_equal(images[k], image)
        np.testing.assert_array_equal(cells[k], named)
        assert text(tokens[k]) == words


def test_each_colour_and_shape_word_names_an_object_of_the_caption():
    assert word_objects("a red star left of a blue circle".split()) == [-1, 0, 0, 1, -1, -1, 1, 1]
    assert word_objects("a red star above a blue circle".split()) == [-1, 0, 0, 1, -1, 1, 1]
    scene = render_scene(5)
    first = mentioned(scene)[0]
    words = scene.caption.split()
    assert scene.labels[first] == ["circle", "square", "triangle", "star", "hexagon", "cross"].index(words[2])
    assert named_object(scene, words, 2, 0) == first
    arrays = training_arrays([scene])
    np.testing.assert_array_equal(arrays["cells"][0, 1], cells_touched(scene.masks[first]))


def test_the_bundled_captioner_matches_its_card(bundled):
    handle, c = bundled
    model = handle.module
    assert isinstance(model, ShowAttendTell) and not model.training and handle.task == "caption"
    assert c["params"] == sum(p.numel() for p in model.parameters())
    assert c["vocabulary"] == list(VOCABULARY) == handle.labels
    assert c["architecture"]["config"]["hidden"] == CAPTIONER["hidden"]
    assert c["data"]["splits"]["val"]["first_seed"] == SCENE_SEEDS["val"][0]
    assert ZOO[NAME].weights_path().stat().st_size < 4_000_000
    assert c["train_command"] == f"workbench train {NAME}" and c["train_seconds"] > 0


def test_val_bleu4_reproduces_the_card(bundled, val_scenes, val_captions):
    from workbench.zoo.caption_eval import caption_metrics
    _, c = bundled
    m = caption_metrics(val_scenes, val_captions)
    assert c["metrics"]["val_bleu4"] > 0.5
    assert m["bleu4"] >= c["metrics"]["val_bleu4"] - BLEU_TOLERANCE
    assert m["exact_match"] >= c["metrics"]["val_exact_match"] - 2 * BLEU_TOLERANCE


def test_each_nouns_attention_peaks_on_the_object_it_names(bundled, val_scenes, val_captions):
    _, c = bundled
    looks = noun_attention(val_scenes, val_captions)
    assert looks["nouns"] >= VAL_SUBSET        # most captions name two objects
    assert looks["peak_on_object"] >= 0.8
    assert looks["peak_on_object"] > 3 * looks["chance"]
    assert c["metrics"]["noun_attention_peak_on_object"] >= 0.8
    for cap in val_captions[:10]:
        np.testing.assert_allclose(cap.maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
        assert np.all((cap.probs > 0) & (cap.probs <= 1))


def test_beam_one_is_greedy_and_a_wider_beam_scores_no_worse(bundled, val_scenes):
    handle, _ = bundled
    model = handle.module
    for scene in val_scenes[:8]:
        x = ZOO[NAME].to_input(scene.image[None])
        greedy = caption(model, x, 1)
        beam1 = model.beam_search(x, 1)
        assert beam1.words == greedy.words
        np.testing.assert_allclose(beam1.maps, greedy.maps, atol=1e-6)
        np.testing.assert_allclose(beam1.probs, greedy.probs, atol=1e-6)
        beam3 = caption(model, x, 3)
        assert beam3.log_prob >= beam1.log_prob - 1e-5
    with pytest.raises(ValueError, match="beam size must be at least 1"):
        caption(model, x, 0)


def test_decoding_respects_max_words(bundled, val_scenes):
    model = bundled[0].module
    x = ZOO[NAME].to_input(val_scenes[0].image[None])
    assert len(caption(model, x, 1, max_words=2).words) <= 2
    assert len(caption(model, x, 3, max_words=2).words) <= 2
    with torch.no_grad():
        logits, alphas = model(x, torch.tensor([encode_caption(val_scenes[0].caption)]))
    assert logits.shape == (1, MAX_WORDS + 1, len(VOCABULARY)) and alphas.shape == (1, MAX_WORDS + 1, 256)


def test_a_short_training_run_is_reproducible_and_writes_weights_and_card(tmp_path):
    from safetensors.torch import load_file

    from workbench.zoo.train_captioner import CaptionRecipe, train_captioner
    recipe = CaptionRecipe(steps=3, batch_size=8, warmup=1, train_scenes=16, val_scenes=6, test_scenes=6)
    cards = [train_captioner(tmp_path / d, recipe=recipe, log=lambda _: None) for d in ("a", "b")]
    a, b = (load_file(str(tmp_path / d / f"{NAME}.safetensors")) for d in ("a", "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = cards[0]
    assert c["steps"] == 3 and c["train_threads"] == 1 and c["loss"]["doubly_stochastic"] == 1.0
    assert {"val_bleu4", "val_bleu4_beam3", "val_exact_match", "test_bleu4",
            "noun_attention_peak_on_object", "noun_attention_chance"} <= set(c["metrics"])
    assert c["data"]["splits"]["train"] == {"first_seed": 0, "count": 16}
    assert c["history"][-1]["step"] == 3
