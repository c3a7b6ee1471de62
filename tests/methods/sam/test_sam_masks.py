"""SAM mask records -> label image: golden tiny cases and properties (no torch, no weights)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.methods.sam.masks import (
    check_records,
    filter_records,
    priority_order,
    records_to_labels,
    resolve_overlaps,
)


def rec(mask, iou=0.9, stab=0.95, **extra):
    mask = np.asarray(mask, bool)
    return {"segmentation": mask, "predicted_iou": iou, "stability_score": stab,
            "area": int(mask.sum()), "bbox": [0, 0, 1, 1], **extra}


def box(shape, r0, r1, c0, c1):
    m = np.zeros(shape, bool)
    m[r0:r1, c0:c1] = True
    return m


# ------------------------------------------------------------------ golden cases
def test_disjoint_masks_keep_their_pixels_and_scores():
    a, b = box((4, 5), 0, 2, 0, 2), box((4, 5), 2, 4, 3, 5)
    labels, scores = resolve_overlaps([rec(a, iou=0.7), rec(b, iou=0.8)])
    # b has the higher predicted_iou, so it is object 1
    expected = np.array(
        [[2, 2, 0, 0, 0],
         [2, 2, 0, 0, 0],
         [0, 0, 0, 1, 1],
         [0, 0, 0, 1, 1]], np.int32)
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == np.int32
    assert scores == {1: 0.8, 2: 0.7}


def test_higher_predicted_iou_wins_the_overlap():
    a = box((3, 4), 0, 3, 0, 3)  # 9 px
    b = box((3, 4), 0, 3, 1, 4)  # 9 px, 6 shared
    labels, _ = resolve_overlaps([rec(a, iou=0.80), rec(b, iou=0.95)], min_visible_fraction=0)
    np.testing.assert_array_equal(labels, [[2, 1, 1, 1]] * 3)


def test_stability_order_and_product_score():
    a = box((3, 4), 0, 3, 0, 3)
    b = box((3, 4), 0, 3, 1, 4)
    recs = [rec(a, iou=0.80, stab=0.99), rec(b, iou=0.95, stab=0.90)]
    labels, scores = resolve_overlaps(recs, order="stability_score", score="product", min_visible_fraction=0)
    np.testing.assert_array_equal(labels, [[1, 1, 1, 2]] * 3)
    assert scores[1] == pytest.approx(0.80 * 0.99) and scores[2] == pytest.approx(0.95 * 0.90)


def test_smaller_on_top_puts_parts_over_wholes():
    cell = box((6, 6), 0, 6, 0, 6)
    punctum = box((6, 6), 2, 4, 2, 4)
    labels, _ = resolve_overlaps([rec(cell, iou=0.99), rec(punctum, iou=0.5)],
                                 order="smaller_on_top", min_visible_fraction=0)
    assert (labels[2:4, 2:4] == 1).all()
    assert (labels[labels != 1] == 2).all() and (labels == 2).sum() == 32


def test_mostly_covered_mask_is_dropped():
    whole = box((4, 4), 0, 4, 0, 4)  # 16 px, highest priority
    part = box((4, 4), 0, 4, 0, 2)   # 8 px, all covered
    edge = box((4, 4), 0, 1, 0, 4)   # 4 px, all covered
    labels, scores = resolve_overlaps([rec(whole, iou=0.99), rec(part, iou=0.9), rec(edge, iou=0.8)])
    assert (labels == 1).all() and scores == {1: 0.99}


def test_min_visible_fraction_threshold_is_inclusive():
    a = box((2, 4), 0, 2, 0, 2)        # 4 px, wins
    b = box((2, 4), 0, 2, 1, 3)        # 4 px, 2 free -> visible fraction 0.5
    lab_keep, _ = resolve_overlaps([rec(a, iou=0.9), rec(b, iou=0.8)], min_visible_fraction=0.5)
    lab_drop, _ = resolve_overlaps([rec(a, iou=0.9), rec(b, iou=0.8)], min_visible_fraction=0.51)
    np.testing.assert_array_equal(lab_keep, [[1, 1, 2, 0], [1, 1, 2, 0]])
    np.testing.assert_array_equal(lab_drop, [[1, 1, 0, 0], [1, 1, 0, 0]])


def test_ties_are_broken_by_stability_then_area_then_input_order():
    a = box((2, 2), 0, 1, 0, 1)
    b = box((2, 2), 0, 2, 0, 2)
    same = [rec(b, iou=0.9, stab=0.9), rec(a, iou=0.9, stab=0.9)]
    assert priority_order(same).tolist() == [1, 0]  # smaller area first
    assert priority_order([rec(a, iou=0.9, stab=0.9), rec(a, iou=0.9, stab=0.9)]).tolist() == [0, 1]
    assert priority_order([rec(a, iou=0.9, stab=0.8), rec(b, iou=0.9, stab=0.95)]).tolist() == [1, 0]


def test_empty_records_give_background():
    labels, scores = records_to_labels([], shape=(3, 2))
    assert labels.shape == (3, 2) and labels.dtype == np.int32 and not labels.any() and scores == {}


def test_empty_mask_is_ignored():
    labels, scores = resolve_overlaps([rec(np.zeros((2, 2), bool)), rec(box((2, 2), 0, 1, 0, 1))])
    np.testing.assert_array_equal(labels, [[1, 0], [0, 0]])
    assert list(scores) == [1]


def test_filters_area_and_scores_inclusive():
    small = rec(box((5, 5), 0, 1, 0, 2), iou=0.9, stab=0.95)    # 2 px
    mid = rec(box((5, 5), 2, 4, 2, 4), iou=0.85, stab=0.97)     # 4 px
    bg = rec(~box((5, 5), 0, 4, 0, 4), iou=0.99, stab=0.99)      # 9 px
    recs = [small, mid, bg]
    assert filter_records(recs, min_area=2) == recs
    assert filter_records(recs, min_area=3) == [mid, bg]
    assert filter_records(recs, max_area=4) == [small, mid]
    assert filter_records(recs, min_predicted_iou=0.9) == [small, bg]
    assert filter_records(recs, min_stability=0.97) == [mid, bg]
    labels, _ = records_to_labels(recs, min_area=3, max_area=8)
    np.testing.assert_array_equal(labels, np.where(box((5, 5), 2, 4, 2, 4), 1, 0))


def test_integer_masks_are_accepted():
    m = box((3, 3), 0, 2, 0, 2).astype(np.uint8)
    labels, _ = records_to_labels([{"segmentation": m, "predicted_iou": 0.9, "stability_score": 0.9}])
    assert labels.sum() == 4


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"predicted_iou": 0.9, "stability_score": 0.9}, "lacks key"),
        ({"segmentation": np.ones(4, bool), "predicted_iou": 0.9, "stability_score": 0.9}, "2-D"),
        ({"segmentation": np.full((2, 2), 2), "predicted_iou": 0.9, "stability_score": 0.9}, "boolean"),
        ({"segmentation": np.ones((2, 2), bool), "predicted_iou": float("nan"), "stability_score": 0.9}, "finite"),
        ({"segmentation": np.ones((2, 2), bool), "predicted_iou": 0.9, "stability_score": 0.9, "area": 3}, "area"),
    ],
)
def test_bad_records_are_rejected_with_the_field_named(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        records_to_labels([bad])


def test_mismatched_shapes_and_bad_arguments():
    with pytest.raises(ValueError, match=r"records\[1\]"):
        check_records([rec(np.ones((2, 2))), rec(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="`shape` is required"):
        records_to_labels([])
    with pytest.raises(ValueError, match="`order`"):
        resolve_overlaps([rec(np.ones((2, 2)))], order="largest")
    with pytest.raises(ValueError, match="`score`"):
        resolve_overlaps([rec(np.ones((2, 2)))], score="area")
    with pytest.raises(ValueError, match="`min_visible_fraction`"):
        resolve_overlaps([rec(np.ones((2, 2)))], min_visible_fraction=1.5)
    with pytest.raises(ValueError, match="`max_area`"):
        filter_records([rec(np.ones((2, 2)))], min_area=5, max_area=2)
    with pytest.raises(ValueError, match="must have the shape"):
        resolve_overlaps([rec(np.ones((2, 2)))], shape=(3, 3))
    with pytest.raises(TypeError, match="list of dicts"):
        check_records("masks")


# ------------------------------------- known geometry, labels worked out by hand
def grid(text):
    """A label/mask array drawn as text: one row per line, ``.`` = 0, a digit = that value."""
    return np.array([[0 if ch == "." else int(ch) for ch in row] for row in text.split()], np.int32)


def test_nested_masks_best_score_first():
    # a cell (36 px, iou .92) holding a nucleus (16 px, .88) holding a punctum (4 px, .97)
    cell = grid("""
        111111..
        111111..
        111111..
        111111..
        111111..
        111111..""") > 0
    nucleus = grid("""
        ........
        .1111...
        .1111...
        .1111...
        .1111...
        ........""") > 0
    punctum = grid("""
        ........
        ........
        ..11....
        ..11....
        ........
        ........""") > 0
    recs = [rec(cell, iou=0.92), rec(nucleus, iou=0.88), rec(punctum, iou=0.97)]
    # punctum first; the cell claims its other 32 px (>= half of 36); the nucleus finds
    # nothing free and is dropped
    labels, scores = resolve_overlaps(recs)
    np.testing.assert_array_equal(labels, grid("""
        222222..
        222222..
        221122..
        221122..
        222222..
        222222.."""))
    assert scores == {1: 0.97, 2: 0.92}


def test_nested_masks_smaller_on_top_keeps_every_level_until_the_ring_is_too_thin():
    cell = grid("111111.. " * 6) > 0
    nucleus = grid("........ .1111... .1111... .1111... .1111... ........") > 0
    punctum = grid("........ ........ ..11.... ..11.... ........ ........") > 0
    recs = [rec(cell, iou=0.92), rec(nucleus, iou=0.88), rec(punctum, iou=0.97)]
    labels, scores = resolve_overlaps(recs, order="smaller_on_top")
    # punctum (4 px) -> 1; nucleus keeps 12 of 16 -> 2; cell keeps its 20 px ring of 36 -> 3
    np.testing.assert_array_equal(labels, grid("""
        333333..
        322223..
        321123..
        321123..
        322223..
        333333.."""))
    assert scores == {1: 0.97, 2: 0.88, 3: 0.92}
    # the ring is 20/36 = 0.56 of the cell: under a 0.6 visibility threshold the cell goes
    labels, scores = resolve_overlaps(recs, order="smaller_on_top", min_visible_fraction=0.6)
    np.testing.assert_array_equal(labels, grid("""
        ........
        .2222...
        .2112...
        .2112...
        .2222...
        ........"""))
    assert scores == {1: 0.97, 2: 0.88}


def test_overlaps_leave_fragments_and_tiny_masks_go_by_area_and_visibility():
    a = grid("..11... ..11... ..11... ..11... ..11...") > 0       # 10 px, iou .95
    b = grid("....... 1111111 1111111 1111111 .......") > 0       # 21 px, 6 shared with a
    c = grid("......1 ....... ....... ....... .......") > 0       # 1 px
    d = grid("....... ....... ....... ....... .....11") > 0       # 2 px
    e = grid(".111... ....... ....... ....... .......") > 0       # 3 px, 2 of them in a
    recs = [rec(a, iou=0.95), rec(b, iou=0.90), rec(c, iou=0.85), rec(d, iou=0.80), rec(e, iou=0.70)]
    # b keeps 15 of 21 px in two pieces left and right of a: one object, not two;
    # c is under min_area; e keeps 1 of its 3 px (< 0.5) and is dropped
    labels, scores = records_to_labels(recs, min_area=2)
    np.testing.assert_array_equal(labels, grid("""
        ..11...
        2211222
        2211222
        2211222
        ..11.33"""))
    assert scores == {1: 0.95, 2: 0.90, 3: 0.80}
    # without the area filter and with a lower visibility threshold both tiny masks stay
    labels, scores = records_to_labels(recs, min_area=0, min_visible_fraction=0.3)
    np.testing.assert_array_equal(labels, grid("""
        .511..3
        2211222
        2211222
        2211222
        ..11.44"""))
    assert scores == {1: 0.95, 2: 0.90, 3: 0.85, 4: 0.80, 5: 0.70}


def test_masks_touching_the_border_are_kept_and_background_proposals_dropped():
    from bench.methods import get_method

    whole = np.ones((4, 6), bool)                                   # 24 px, iou .99
    background = grid("..1111 " * 4) > 0                            # 16 px, iou .98
    left = grid("11.... " * 4) > 0                                  # 8 px, three borders
    right = grid(".....1 " * 4) > 0                                 # 4 px, three borders
    middle = grid("..111. " * 4) > 0                                # 12 px = the area cap
    recs = [rec(whole, iou=0.99), rec(background, iou=0.98), rec(left, iou=0.90),
            rec(right, iou=0.85), rec(middle, iou=0.80)]
    m = get_method("sam", size_filter="none", max_area_fraction=0.5)  # cap: 0.5 * 24 = 12 px, inclusive
    labels, scores = m.labels_from_records(recs, (4, 6))
    np.testing.assert_array_equal(labels, grid("113332 " * 4))
    assert scores == {1: 0.90, 2: 0.85, 3: 0.80}
    # a cap one pixel lower drops the 12 px mask too
    labels, _ = records_to_labels(recs, max_area=11)
    np.testing.assert_array_equal(labels, grid("11...2 " * 4))


# -------------------------------------------------------------------- properties
@st.composite
def record_lists(draw):
    h = draw(st.integers(1, 8))
    w = draw(st.integers(1, 8))
    n = draw(st.integers(0, 6))
    recs = []
    for _ in range(n):
        r0 = draw(st.integers(0, h - 1))
        r1 = draw(st.integers(r0 + 1, h))
        c0 = draw(st.integers(0, w - 1))
        c1 = draw(st.integers(c0 + 1, w))
        # distinct scores so the priority never falls back on input order
        recs.append(rec(box((h, w), r0, r1, c0, c1),
                        iou=draw(st.floats(0, 1)), stab=draw(st.floats(0, 1))))
    return (h, w), recs


@settings(max_examples=150, deadline=None)
@given(record_lists(), st.sampled_from(["predicted_iou", "stability_score", "smaller_on_top"]),
       st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_properties_of_the_label_image(data, order, frac):
    shape, recs = data
    labels, scores = resolve_overlaps(recs, shape=shape, order=order, min_visible_fraction=frac)
    assert labels.shape == shape and labels.dtype == np.int32
    ids = np.unique(labels[labels > 0])
    # consecutive ids 1..K, one score each
    assert ids.tolist() == list(range(1, ids.size + 1)) and sorted(scores) == ids.tolist()
    # every object lies inside the mask of one record, whose score it carries
    for i in ids:
        obj = labels == i
        owners = [r for r in recs if (r["segmentation"][obj]).all() and r["predicted_iou"] == scores[int(i)]]
        assert owners, f"object {i} is not inside a record's mask with its score"
    union = np.logical_or.reduce([r["segmentation"] for r in recs]) if recs else np.zeros(shape, bool)
    assert not (labels > 0)[~union].any()
    if frac == 0.0:
        np.testing.assert_array_equal(labels > 0, union)


@settings(max_examples=100, deadline=None)
@given(record_lists(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter_without_ties(data, random):
    shape, recs = data
    scores = [r["predicted_iou"] for r in recs]
    if len(set(scores)) < len(scores):
        return  # ties fall back on input order by design
    shuffled = list(recs)
    random.shuffle(shuffled)
    a, sa = resolve_overlaps(recs, shape=shape)
    b, sb = resolve_overlaps(shuffled, shape=shape)
    np.testing.assert_array_equal(a, b)
    assert sa == sb


@settings(max_examples=100, deadline=None)
@given(record_lists(), st.integers(0, 20), st.floats(0, 1))
def test_filter_keeps_exactly_the_passing_records(data, min_area, min_iou):
    _, recs = data
    kept = filter_records(recs, min_area=min_area, min_predicted_iou=min_iou)
    expected = [r for r in recs if r["segmentation"].sum() >= min_area and r["predicted_iou"] >= min_iou]
    assert [id(r) for r in kept] == [id(r) for r in expected]
