"""Labels placed clear of the labels other layers already placed (``taken``)."""
from __future__ import annotations

import numpy as np

from workbench.core.label_placement import Placement, place_labels

BOX = np.array([[10, 30, 60, 80]], float)
SIZE = np.array([[20.0, 10.0]])


def test_a_taken_place_is_avoided_like_a_higher_scoring_label():
    (alone,) = place_labels(BOX, SIZE, bounds=(100, 100))
    assert (alone.where, alone.x, alone.y) == ("above", 10, 20)
    above = Placement(0, 5, 18, 30, 10, "above")      # another layer's label over the best place
    (moved,) = place_labels(BOX, SIZE, bounds=(100, 100), taken=[above])
    assert (moved.where, moved.y) == ("inside", 30) and not above.overlaps(moved.x, moved.y, moved.w, moved.h)
    inside = Placement(0, 10, 30, 20, 10, "inside")
    (below,) = place_labels(BOX, SIZE, bounds=(100, 100), taken=[above, inside])
    assert (below.where, below.y) == ("below", 80)
    everywhere = [above, inside, Placement(0, 10, 80, 20, 10, "below")]
    assert place_labels(BOX, SIZE, bounds=(100, 100), taken=everywhere) == []


def test_taken_labels_elsewhere_change_nothing_and_are_not_returned():
    boxes = np.array([[10, 30, 60, 80], [12, 31, 62, 81]], float)
    sizes = np.full((2, 2), (20.0, 10.0))
    plain = place_labels(boxes, sizes, scores=[0.9, 0.8], bounds=(100, 100))
    far = [Placement(3, 70, 0, 20, 10, "above"), Placement(0, 30, 20, 5, 10, "above")]   # touching only
    assert place_labels(boxes, sizes, scores=[0.9, 0.8], bounds=(100, 100), taken=far) == plain
    # the layer's own order still holds against what is taken: the best takes the best free place
    blocked = place_labels(boxes, sizes, scores=[0.9, 0.8], bounds=(100, 100),
                           taken=[Placement(0, 0, 20, 40, 10, "above")])
    assert {p.index: p.where for p in blocked} == {0: "inside", 1: "below"}
