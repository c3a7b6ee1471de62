"""Object features and readout comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from bench.metrics import object_features, readouts


def test_object_features_golden():
    labels = np.zeros((6, 7), int)
    labels[1:4, 1:4] = 2  # 3 x 3 square: perimeter 8 (skimage's estimator)
    labels[5, 5] = 9  # one pixel: perimeter 0 -> circularity undefined
    f = object_features(labels)
    assert f.labels.tolist() == [2, 9] and f.area.tolist() == [9, 1]
    assert f.perimeter.tolist() == [8.0, 0.0]
    assert f.circularity[0] == pytest.approx(4 * np.pi * 9 / 64)
    assert np.isnan(f.circularity[1])


def test_object_features_equal_regionprops(lab, nih3t3_masks):
    measure = pytest.importorskip("skimage.measure")
    rng = np.random.default_rng(0)
    images = [lab.blob_labels((50, 60), 25, rng) for _ in range(3)] + [nih3t3_masks[0][1]]
    # touching objects: each must see only its own pixels
    images.append(rng.integers(0, 4, (12, 15)))
    for labels in images:
        f = object_features(labels)
        props = sorted(measure.regionprops(labels), key=lambda p: p.label)
        assert f.labels.tolist() == [p.label for p in props]
        assert f.area.tolist() == [int(p.area) for p in props]
        assert f.perimeter == pytest.approx([p.perimeter for p in props], abs=1e-9)


def test_counts_per_cell_and_occupancy():
    cells = np.zeros((6, 8), int)
    cells[:, :4], cells[:, 4:] = 1, 2
    y_true = np.zeros((6, 8), int)
    y_true[0, 0], y_true[2, 2], y_true[4, 5] = 1, 2, 3  # cell 1: 2 puncta, cell 2: 1
    y_pred = np.zeros((6, 8), int)
    y_pred[0, 0:2], y_pred[4, 5], y_pred[1, 6] = 4, 5, 6  # cell 1: 1, cell 2: 2
    y_pred[3, 3:5] = 7  # straddles the cells: 1 px each -> the smaller cell label
    r = readouts(y_true, y_pred, cells=cells, loaded_true=[1, 3], loaded_pred={4})
    assert r.cell_ids == (1, 2)
    assert r.per_cell_count_true == (2, 1)
    assert r.per_cell_count_pred == (2, 2)
    assert r.per_cell_count_mae == 0.5
    assert (r.count_true, r.count_pred, r.count_error) == (3, 4, 1)
    assert r.relative_count_error == pytest.approx(1 / 3)
    assert r.occupancy_true == pytest.approx(2 / 3) and r.occupancy_pred == 0.25
    assert r.occupancy_error == pytest.approx(0.25 - 2 / 3)
    assert r.area_wasserstein == pytest.approx(wasserstein_distance([1, 1, 1], [2, 1, 1, 2]))


def test_distribution_distances(lab):
    rng = np.random.default_rng(4)
    y = lab.blob_labels((60, 60), 30, rng)
    same = readouts(y, lab.relabel_random(y, rng))
    assert same.area_wasserstein == 0.0 and same.circularity_wasserstein == 0.0
    grown = readouts(y, lab.dilate_labels(y, 1))
    ft, fp = object_features(y), object_features(lab.dilate_labels(y, 1))
    assert grown.area_wasserstein == pytest.approx(wasserstein_distance(ft.area, fp.area))
    assert grown.area_wasserstein > 0
    assert np.isnan(readouts(y, np.zeros_like(y)).area_wasserstein)


def test_empty_convention_and_nan_without_inputs():
    z = np.zeros((4, 4), int)
    r = readouts(z, z, loaded_true=[], loaded_pred=[])
    assert (r.count_error, r.relative_count_error, r.occupancy_true, r.occupancy_pred) == (0, 0.0, 1.0, 1.0)
    r = readouts(z, z)
    assert np.isnan(r.occupancy_true) and np.isnan(r.per_cell_count_mae) and r.cell_ids == ()


def test_validation():
    y = np.zeros((3, 3), int)
    y[1, 1] = 5
    with pytest.raises(ValueError, match=r"`loaded_pred` names labels that are not in the image: \[6\]"):
        readouts(y, y, loaded_pred=[6])
    with pytest.raises(TypeError, match=r"`loaded_true` must be a collection of object labels"):
        readouts(y, y, loaded_true=5)
    with pytest.raises(ValueError, match=r"`cells` \(shape \(2, 3\)\) must have the same shape as `y_true`"):
        readouts(y, y, cells=y[:2])
    with pytest.raises(ValueError, match=r"`labels` must be a 2-d image"):
        object_features(np.zeros((2, 2, 2), int))


def test_wasserstein_1d_equals_scipy():
    """The numpy W1 used by readouts (no scipy.stats import in a cell) gives scipy's value."""
    from bench.metrics.readouts import wasserstein_1d

    rng = np.random.default_rng(3)
    cases = [([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]), ([1.0], [1.0]), ([2.0, 2.0, 2.0], [2.0])]
    for _ in range(50):
        n, m = rng.integers(1, 300, size=2)
        a = rng.gamma(2.0, 40.0, size=n)
        b = np.round(rng.gamma(2.0, 45.0, size=m))  # ties within and across the samples
        cases.append((a, b))
    for a, b in cases:
        assert wasserstein_1d(np.asarray(a), np.asarray(b)) == wasserstein_distance(a, b)
