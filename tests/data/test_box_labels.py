"""bench.data.box_labels: known boxes -> known masks, overlaps, errors, the threshold maker."""

import numpy as np
import pytest

from bench.data.box_labels import (
    BoxThreshold,
    box_corners,
    box_label_image,
    box_training_samples,
    drop_empty_boxes,
    fit_box_threshold,
    sample_boxes,
)
from bench.data.sample import Sample
from bench.metrics import boxes_from_labels


def yolo(y0, x0, y1, x1, shape):
    """Pixel-edge corners -> a normalised YOLO row."""
    h, w = shape
    return [0, (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]


def test_box_maker_is_the_rectangle():
    shape = (6, 8)
    got = box_label_image([yolo(1, 2, 4, 7, shape)], shape, maker="box").labels
    want = np.zeros(shape, np.int32)
    want[1:4, 2:7] = 1
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int32


def test_box_maker_inverts_boxes_from_labels():
    truth = np.zeros((9, 11), np.int32)
    truth[0:3, 1:5] = 1
    truth[5:9, 6:11] = 2
    made = box_label_image(boxes_from_labels(truth), truth.shape, maker="box").labels
    np.testing.assert_array_equal(made, truth)


def test_ellipse_of_a_5x3_box_by_hand():
    # box rows 0..5, cols 0..3: centre (2.5, 1.5), semi-axes 2.5 and 1.5.
    # Pixel (0, 0): ((0.5-2.5)/2.5)^2 + ((0.5-1.5)/1.5)^2 = 0.64 + 0.444 > 1 -> out;
    # pixel (0, 1): 0.64 + 0 <= 1 -> in; pixel (1, 0): 0.16 + 0.444 <= 1 -> in.
    shape = (5, 3)
    got = box_label_image([yolo(0, 0, 5, 3, shape)], shape, maker="ellipse").labels
    want = np.array([[0, 1, 0], [1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 1, 0]], np.int32)
    np.testing.assert_array_equal(got, want)


def test_sub_pixel_box_gets_its_centre_pixel():
    shape = (4, 4)
    got = box_label_image([yolo(1.2, 2.1, 1.4, 2.3, shape)], shape, maker="ellipse").labels
    assert got.sum() == 1 and got[1, 2] == 1


def test_overlap_smaller_box_wins():
    shape = (6, 6)
    big = yolo(0, 0, 4, 4, shape)      # area 16, box 0 -> label 1
    small = yolo(2, 2, 5, 5, shape)    # area 9, box 1 -> label 2
    for boxes in ([big, small], [small, big]):
        lab = box_label_image(boxes, shape, maker="box").labels
        small_id = 2 if boxes[1] is small else 1
        big_id = 3 - small_id
        assert (lab[2:4, 2:4] == small_id).all()      # the overlap goes to the smaller box
        assert (lab[0:2, 0:4] == big_id).all() and (lab[4, 2:5] == small_id).all()


def test_overlap_equal_areas_lower_index_wins_and_hidden_counted():
    shape = (4, 6)
    a = yolo(0, 0, 3, 3, shape)
    b = yolo(0, 2, 3, 5, shape)
    lab = box_label_image([a, b], shape, maker="box").labels
    assert (lab[0:3, 2] == 1).all()  # the shared column goes to box 0
    # a box covered by a smaller one disappears, counted as hidden
    made = box_label_image([yolo(1, 1, 3, 3, shape), yolo(1, 1, 3, 3, shape)], shape, maker="box")
    assert made.n_hidden == 1 and set(np.unique(made.labels)) == {0, 1}


@pytest.mark.parametrize(
    "boxes, match",
    [
        ([[0, 0.5, 0.5, 0.0, 0.2]], "width 0.0"),
        ([[0, 0.5, 0.5, 0.2, -0.1]], "height -0.1"),
        ([[0, 0.95, 0.5, 0.2, 0.2]], "outside the image"),
        ([[0, np.nan, 0.5, 0.2, 0.2]], "non-finite"),
        ([[0.5, 0.5, 0.2, 0.2]], r"shape \(K, 5\)"),
    ],
)
def test_invalid_boxes_raise(boxes, match):
    with pytest.raises(ValueError, match=match):
        box_label_image(boxes, (10, 10))


def test_unknown_maker_and_missing_threshold_raise():
    with pytest.raises(ValueError, match="`maker` must be one of"):
        box_label_image([[0, 0.5, 0.5, 0.2, 0.2]], (10, 10), maker="polygon")
    with pytest.raises(ValueError, match="fit_box_threshold"):
        box_label_image([[0, 0.5, 0.5, 0.2, 0.2]], (10, 10), maker="threshold")
    with pytest.raises(ValueError, match="`shape`"):
        box_corners([[0, 0.5, 0.5, 0.2, 0.2]], (0, 10))


def _disc_sample(name="s", with_boxes=True):
    """Two bright discs on a dark background, boxes loose around them."""
    shape = (64, 64)
    yy, xx = np.mgrid[:64, :64]
    truth = np.zeros(shape, np.int32)
    truth[(yy - 16) ** 2 + (xx - 18) ** 2 <= 64] = 1
    truth[(yy - 44) ** 2 + (xx - 42) ** 2 <= 81] = 2
    image = np.where(truth > 0, 1.0, 0.1).astype(np.float32)[..., None]
    boxes = np.array([yolo(6, 8, 27, 29, shape), yolo(33, 31, 56, 54, shape)])
    return Sample(name=name, image=image, channels=("c",), labels=truth, boxes=boxes if with_boxes else None)


def test_threshold_maker_keeps_each_disc_and_its_blur_halo_only():
    from scipy import ndimage as ndi

    s = _disc_sample()
    th = fit_box_threshold([s])
    assert th.plane == "0" and th.youden_j > 0.5
    made = box_label_image(s.boxes, s.shape, maker="threshold", image=s.image, threshold=th)
    box = box_label_image(s.boxes, s.shape, maker="box").labels
    assert made.n_fallback == 0
    for k in (1, 2):
        disc = s.labels == k
        # the whole disc, nothing beyond the reach of the plane's smoothing (sigma 1 px, truncated at 4 px)
        assert (made.labels[disc] == k).all()
        assert not ((made.labels == k) & ~ndi.binary_dilation(disc, np.ones((3, 3)), iterations=4)).any()
        assert (made.labels == k).sum() < (box == k).sum()


def test_threshold_maker_falls_back_to_the_ellipse_where_nothing_passes():
    s = _disc_sample()
    made = box_label_image(s.boxes, s.shape, maker="threshold", image=s.image,
                           threshold=BoxThreshold(plane="0", value=10.0, youden_j=0.0))
    ell = box_label_image(s.boxes, s.shape, maker="ellipse")
    assert made.n_fallback == 2
    np.testing.assert_array_equal(made.labels, ell.labels)


def test_samples_keep_no_truth_but_the_boxes():
    s = _disc_sample(with_boxes=False)
    np.testing.assert_allclose(sample_boxes(s), boxes_from_labels(s.labels))
    out, info = box_training_samples([s], "ellipse")
    assert info == {"maker": "ellipse", "n_boxes": 2, "n_hidden": 0, "n_fallback": 0, "n_empty": 0}
    assert out[0].classes is None and out[0].labels.max() == 2
    assert not np.array_equal(out[0].labels, s.labels)
    with pytest.raises(ValueError, match="neither boxes nor instance labels"):
        sample_boxes(s.image_only())


# ------------------------------------------------------------ empty boxes
# CELLULAR holds two boxes of zero width and height among 14,024 (e.g. "0 0.5625 0.2919921875 0.0 0.0").


def test_drop_empty_boxes_keeps_the_rest_in_order():
    rows = [[0, 0.5, 0.5, 0.2, 0.2], [0, 0.5625, 0.29, 0.0, 0.0], [0, 0.3, 0.3, 0.1, 0.0], [0, 0.2, 0.2, 0.1, 0.1]]
    kept, n = drop_empty_boxes(rows)
    assert n == 2
    np.testing.assert_array_equal(kept, np.asarray(rows)[[0, 3]])
    empty, n0 = drop_empty_boxes(np.zeros((0, 5)))
    assert empty.shape == (0, 5) and n0 == 0


def test_empty_boxes_are_dropped_from_training_masks_and_counted():
    shape = (10, 10)
    image = np.zeros((*shape, 1), np.float32)
    boxes = np.array([yolo(2, 2, 6, 6, shape), [0, 0.9, 0.9, 0.0, 0.0], [0, 0.1, 0.5, 0.0, 0.3]])
    s = Sample(name="s", image=image, channels=("c",), boxes=boxes)
    out, info = box_training_samples([s], "box")
    assert info["n_empty"] == 2 and info["n_boxes"] == 1
    want = np.zeros(shape, np.int32)
    want[2:6, 2:6] = 1
    np.testing.assert_array_equal(out[0].labels, want)
    np.testing.assert_array_equal(out[0].boxes, boxes[:1])
    # the threshold maker's fit ignores them too (box_corners would refuse them)
    image[2:6, 2:6] = 1.0
    th = fit_box_threshold([s])
    out, info = box_training_samples([s], "threshold", threshold=th)
    assert info["n_empty"] == 2 and (out[0].labels > 0).sum() > 0
