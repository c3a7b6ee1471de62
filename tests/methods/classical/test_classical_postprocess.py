"""Golden tests on tiny arrays for the classical post-processing and rescaling helpers."""

import math

import numpy as np
import pytest

from bench.data import Sample
from bench.methods._shared import ObjectStats, downscale_image, downscale_labels, upscale_labels
from bench.methods.classical.postprocess import (
    distance_markers,
    fill_dark_holes,
    fill_small_holes,
    instances_from_mask,
    instances_from_probability,
    paint_disks,
    relabel,
    remove_small_objects,
    split_touching,
)


def disk(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_relabel_keeps_order_of_ids():
    lab = np.array([[0, 9, 9], [4, 0, 2]])
    assert relabel(lab).tolist() == [[0, 3, 3], [2, 0, 1]]
    assert relabel(lab).dtype == np.int32


def test_remove_small_objects_threshold_is_inclusive():
    lab = np.array([[1, 1, 0, 2, 2, 2], [1, 1, 0, 0, 0, 3]])
    assert remove_small_objects(lab, 3).tolist() == [[1, 1, 0, 2, 2, 2], [1, 1, 0, 0, 0, 0]]
    assert remove_small_objects(lab, 4).tolist() == [[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]]


def test_fill_small_holes_respects_size_and_border():
    m = np.ones((7, 9), bool)
    m[2:5, 1:4] = False  # 9-px hole
    m[3, 6] = False  # 1-px hole
    m[0, 8] = False  # touches the border: not a hole
    out = fill_small_holes(m, 1)
    assert not out[3, 2] and out[3, 6] and not out[0, 8]
    out = fill_small_holes(m, 9)
    assert out[3, 2] and out[3, 6] and not out[0, 8]
    assert fill_small_holes(m, math.inf)[3, 2]


def test_fill_dark_holes_fills_a_ring_lumen_only():
    ring = disk((21, 21), 10, 10, 7) & ~disk((21, 21), 10, 10, 4)
    plane = ring.astype(np.float32)
    out = fill_dark_holes(plane, max_area=200)
    assert out[10, 10] > 0.5  # lumen raised
    assert out[0, 0] == 0.0  # outside untouched
    assert np.all(out >= plane)


def test_split_touching_two_disks_and_seedless_component():
    shape = (15, 30)
    mask = disk(shape, 7, 7, 5) | disk(shape, 7, 16, 5)
    lab = split_touching(mask, min_distance=3)
    assert lab.max() == 2
    assert lab[7, 7] != lab[7, 16]
    assert np.array_equal(lab > 0, mask)
    # an explicit marker image with only one seed: the other disk's pixels are not lost
    markers = np.zeros(shape, np.int32)
    markers[7, 7] = 1
    lab = split_touching(disk(shape, 7, 7, 4) | disk(shape, 7, 24, 3), min_distance=3, markers=markers)
    assert lab.max() == 2 and lab[7, 24] > 0


def test_distance_markers_one_seed_per_disk():
    mask = disk((21, 41), 10, 10, 6) | disk((21, 41), 10, 30, 6)
    markers, dist = distance_markers(mask, min_distance=4)
    assert markers.max() == 2
    assert dist.dtype == np.float32 and dist[10, 10] == dist.max()


def test_instances_from_mask_split_or_components():
    shape = (15, 30)
    mask = disk(shape, 7, 7, 5) | disk(shape, 7, 16, 5)
    assert instances_from_mask(mask, min_area=1, split=False).max() == 1
    assert instances_from_mask(mask, min_area=1, split=True, min_distance=3).max() == 2
    assert instances_from_mask(mask, min_area=1000).max() == 0


def test_instances_from_probability_core_seeds():
    p = np.zeros((5, 9))
    p[1:4, 1:4] = 0.9
    p[1:4, 5:8] = 0.8
    p[2, 4] = 0.6  # a bridge above the threshold but not core
    lab = instances_from_probability(p, threshold=0.5, min_area=1, core=p, core_threshold=0.7)
    assert lab[2].tolist() == [0, 1, 1, 1, 1, 2, 2, 2, 0]
    with pytest.raises(ValueError, match="`core`"):
        instances_from_probability(p, threshold=0.5, min_area=1, core=p[:3])


def test_rescaling_round_trip_and_padding():
    img = np.arange(30, dtype=np.float32).reshape(5, 6)
    small = downscale_image(img, 2)
    assert small.shape == (3, 3)
    assert small[0, 0] == pytest.approx((0 + 1 + 6 + 7) / 4)
    assert small[2, 0] == pytest.approx((24 + 25 + 24 + 25) / 4)  # edge replicated
    lab = np.zeros((6, 8), np.int32)
    lab[0:4, 0:4] = 3
    down = downscale_labels(lab, 2)
    assert down.shape == (3, 4) and down[0, 0] == 3 and down[2, 2] == 0
    up = upscale_labels(down, 2, lab.shape)
    assert np.array_equal(up, lab)
    with pytest.raises(ValueError, match="`factor`"):
        downscale_image(img, 0)
    with pytest.raises(ValueError, match="smaller than `shape`"):
        upscale_labels(down, 1, lab.shape)


def test_paint_disks_order_decides_overlaps():
    centers = np.array([[2, 2], [2, 4]])
    a = paint_disks((5, 7), centers, np.array([2.0, 2.0]))
    b = paint_disks((5, 7), centers, np.array([2.0, 2.0]), order=[1, 0])
    assert a[2, 3] == 2 and b[2, 3] == 1
    assert (a > 0).sum() == (b > 0).sum()
    # a disk half outside the image is clipped
    c = paint_disks((4, 4), np.array([[0, 0]]), np.array([1.0]))
    assert c.tolist() == [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    with pytest.raises(ValueError, match="`radii`"):
        paint_disks((4, 4), centers, np.array([1.0]))


def test_object_stats_from_masks_and_boxes():
    lab = np.zeros((10, 10), np.int32)
    lab[0:2, 0:2] = 1
    lab[5:9, 5:9] = 2
    s = Sample("a", np.zeros((10, 10, 1), np.float32), ("x",), labels=lab)
    st = ObjectStats.from_samples([s])
    assert st.n_objects == 2 and st.area_median == 10.0 and st.source == "masks"
    assert st.radius_median == pytest.approx(math.sqrt(10 / math.pi))
    assert st.scaled(2).area_median == 2.5
    boxes = np.array([[0, 0.5, 0.5, 0.2, 0.4]])
    b = Sample("b", np.zeros((10, 10, 1), np.float32), ("x",), boxes=boxes)
    sb = ObjectStats.from_samples([b])
    assert sb.source == "boxes" and sb.area_median == pytest.approx(math.pi / 4 * 2 * 4)
    with pytest.raises(ValueError, match="neither"):
        ObjectStats.from_samples([Sample("c", np.zeros((4, 4, 1), np.float32), ("x",))])
    with pytest.raises(ValueError, match="no objects"):
        ObjectStats.from_areas(np.array([]))


def test_full_resolution_boxes_equal_boxes_of_upscaled_labels():
    from bench.methods.classical.boxes import full_resolution_boxes as _full_resolution_boxes
    from bench.metrics import boxes_from_labels

    rng = np.random.default_rng(3)
    for factor, shape in ((1, (9, 7)), (3, (25, 20)), (4, (21, 30))):
        small = (-(-shape[0] // factor), -(-shape[1] // factor))
        lab = rng.integers(0, 5, small).astype(np.int32)
        lab[-1, -1] = 9  # an object in the last, partly cropped block
        got = _full_resolution_boxes(boxes_from_labels(lab), lab.shape, factor, shape)
        want = boxes_from_labels(upscale_labels(lab, factor, shape))
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_fill_dark_holes_is_the_same_on_one_thread_or_two(monkeypatch):
    rng = np.random.default_rng(3)
    plane = np.zeros((300, 200), np.float32)
    for _ in range(40):
        cy, cx, r = rng.integers(10, 290), rng.integers(10, 190), rng.integers(3, 9)
        plane[disk(plane.shape, cy, cx, r) & ~disk(plane.shape, cy, cx, r - 2)] = rng.uniform(0.3, 1)
    plane += rng.normal(0, 0.05, plane.shape).astype(np.float32)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = fill_dark_holes(plane, max_area=60)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    two = fill_dark_holes(plane, max_area=60)
    assert one.tobytes() == two.tobytes()
    assert (one > plane).sum() > 100  # lumens were raised
