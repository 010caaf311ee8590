import numpy as np
import pytest

from workbench.zoo.shapes import (COLOR_NAMES, COLORS_RGB, SHAPE_CLASSES, Scene, render_scene,
                                  render_shape)

SEEDS = range(40)


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    return [render_scene(s) for s in SEEDS]


def test_classes_and_colours():
    assert SHAPE_CLASSES == ("circle", "square", "triangle", "star", "hexagon", "cross")
    assert set(COLOR_NAMES) == {"red", "green", "blue", "yellow", "magenta", "cyan", "orange", "white"}


def test_scene_is_deterministic_per_seed():
    a, b, c = render_scene(7), render_scene(7), render_scene(8)
    for field in ("image", "boxes", "labels", "masks", "semantic"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.colors == b.colors and a.caption == b.caption
    assert not np.array_equal(a.image, c.image)


def test_shape_is_deterministic_per_seed():
    (a, la), (b, lb) = render_shape(3), render_shape(3)
    np.testing.assert_array_equal(a, b)
    assert la == lb
    assert not np.array_equal(render_shape(4)[0], a)


def test_generators_leave_the_global_rng_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    render_scene(1)
    render_shape(1)
    assert np.random.random() == expected


def test_scene_arrays_have_the_documented_types(scenes):
    for s in scenes:
        n = len(s.labels)
        assert 1 <= n <= 4
        assert s.image.shape == (128, 128, 3) and s.image.dtype == np.uint8
        assert s.boxes.shape == (n, 4) and s.boxes.dtype == np.float32
        assert s.labels.dtype == np.int64 and s.labels.min() >= 0 and s.labels.max() < 6
        assert s.masks.shape == (n, 128, 128) and s.masks.dtype == bool
        assert s.semantic.shape == (128, 128) and s.semantic.dtype == np.int64
        assert len(s.colors) == n and set(s.colors) <= set(COLOR_NAMES)
    assert max(len(s.labels) for s in scenes) == 4


def test_object_count_and_size_follow_arguments():
    s = render_scene(5, size=256, n_objects=(2, 2))
    assert s.image.shape == (256, 256, 3) and len(s.labels) == 2
    assert len(render_scene(5, n_objects=1).labels) == 1


def test_boxes_tightly_bound_visible_masks(scenes):
    for s in scenes:
        for box, mask in zip(s.boxes, s.masks):
            ys, xs = np.nonzero(mask)
            assert len(xs) > 0
            np.testing.assert_array_equal(box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def test_masks_are_disjoint_and_match_semantic(scenes):
    for s in scenes:
        assert s.masks.sum(0).max() <= 1
        expected = np.zeros_like(s.semantic)
        for m, lab in zip(s.masks, s.labels):
            expected[m] = lab + 1
        np.testing.assert_array_equal(s.semantic, expected)


def test_objects_stay_mostly_visible(scenes):
    for s in scenes:
        for m, box in zip(s.masks, s.boxes):
            w, h = box[2] - box[0], box[3] - box[1]
            assert m.sum() >= 40
            assert m.sum() / (w * h) > 0.2


def test_objects_have_their_named_colour(scenes):
    import cv2
    for s in scenes:
        for m, name in zip(s.masks, s.colors):
            core = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            if core.sum() < 10:
                continue
            mean = s.image[core].mean(0)
            assert np.abs(mean - COLORS_RGB[name]).max() < 25, (name, mean)


def test_backgrounds_are_textured(scenes):
    stds = [s.image[s.semantic == 0].std(0).mean() for s in scenes]
    assert min(stds) > 2.0
    assert np.median(stds) > 5.0


def _noun(color, label):
    return f"{'an' if color[0] in 'aeiou' else 'a'} {color} {SHAPE_CLASSES[label]}"


def test_caption_names_the_two_largest_objects_and_their_relation(scenes):
    seen = set()
    for s in scenes:
        areas = s.masks.reshape(len(s.labels), -1).sum(1)
        order = sorted(range(len(areas)), key=lambda i: (-areas[i], i))
        a = order[0]
        if len(order) == 1:
            assert s.caption == _noun(s.colors[a], s.labels[a])
            continue
        b = order[1]
        ca = (s.boxes[a][:2] + s.boxes[a][2:]) / 2
        cb = (s.boxes[b][:2] + s.boxes[b][2:]) / 2
        dx, dy = ca - cb
        if abs(dx) >= abs(dy):
            rel = "left of" if dx < 0 else "right of"
        else:
            rel = "above" if dy < 0 else "below"
        seen.add(rel)
        assert s.caption == f"{_noun(s.colors[a], s.labels[a])} {rel} {_noun(s.colors[b], s.labels[b])}"
    assert seen == {"left of", "right of", "above", "below"}


def test_render_shape_covers_every_class_uniformly():
    labels = np.array([render_shape(s)[1] for s in range(600)])
    counts = np.bincount(labels, minlength=6)
    assert counts.min() >= 70 and counts.max() <= 130, counts
    image, _ = render_shape(0, size=48)
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8
