"""Channel planes, normalisation and the automatic channel choice."""

import numpy as np
import pytest

from bench.data import Sample
from bench.methods import get_method
from bench.methods._shared import fit_mode
from bench.methods.classical.boxes import box_masks
from bench.methods.classical.channels import youden_j
from bench.methods.classical.planes import channel_candidates, channel_plane, local_std, normalize_channels


def test_normalize_channels_maps_percentiles_per_channel():
    rng = np.random.default_rng(0)
    img = np.stack([rng.random((40, 40)) * 10, rng.random((40, 40)) + 5], -1).astype(np.float32)
    out = normalize_channels(img)
    for c in range(2):
        lo, hi = np.percentile(out[..., c], [1, 99.8])
        assert lo == pytest.approx(0, abs=1e-5) and hi == pytest.approx(1, abs=1e-5)
    flat = normalize_channels(np.ones((4, 4, 1), np.float32))
    assert np.all(np.isfinite(flat))


def test_channel_planes():
    x = np.zeros((8, 8, 2), np.float32)
    x[..., 0] = 0.2
    x[2:6, 2:6, 1] = 1.0
    ch = ["a", "b"]
    assert channel_plane(x, ch, "a")[0, 0] == pytest.approx(0.2)
    assert channel_plane(x, ch, "-a")[0, 0] == pytest.approx(0.8)
    assert channel_plane(x, ch, "sum")[3, 3] == pytest.approx(0.6)
    assert channel_plane(x, ch, "max")[0, 0] == pytest.approx(0.2)
    combo = channel_plane(x, ch, "max(a,b)")
    np.testing.assert_array_equal(combo, np.maximum(x[..., 0], x[..., 1]))
    big = np.zeros((24, 24, 2), np.float32)
    big[4:20, 4:20, 1] = 1.0
    tex = channel_plane(big, ch, "std:b")
    assert tex[4, 12] > 2 * tex[12, 12] and tex[4, 12] > 2 * tex[0, 0]  # texture peaks at the edge
    with pytest.raises(ValueError, match="`channel`='c'"):
        channel_plane(x, ch, "c")
    with pytest.raises(ValueError, match="empty combination"):
        channel_plane(x, ch, "max()")
    assert channel_candidates(["x"]) == ["x", "-x", "std:x"]


def test_local_std_is_zero_on_flat_regions_and_scaled():
    x = np.zeros((32, 32), np.float32)
    x[::2] = 1.0  # stripes: texture everywhere on the left half only
    x[:, 16:] = 0.5
    s = local_std(x, 1.0)
    assert s[16, 4] > 0.5 and s[16, 28] < 0.05


def test_youden_j_golden():
    assert youden_j(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert youden_j(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert youden_j(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0
    assert youden_j(np.array([2.0, 4.0, 6.0, 8.0]), np.array([1.0, 3.0, 5.0, 7.0])) == 0.25


def test_box_masks_inner_ellipse_and_outside():
    boxes = np.array([[2.0, 2.0, 10.0, 14.0]])  # y0, x0, y1, x1
    obj, bg = box_masks((16, 16), boxes, 1)
    assert obj[6, 8] and not obj[3, 3] and not obj[6, 3]  # centre in, corners out
    assert bg[0, 0] and bg[12, 8] and not bg[6, 8] and not bg[3, 3]
    assert not (obj & bg).any()


def test_fit_mode():
    img = np.zeros((4, 4, 1), np.float32)
    lab = Sample("a", img, ("x",), labels=np.zeros((4, 4), np.int32))
    sem = Sample("b", img, ("x",), semantic=np.zeros((4, 4), np.int32))
    box = Sample("c", img, ("x",), boxes=np.zeros((0, 5)))
    assert fit_mode([lab]) == "instance" and fit_mode([sem]) == "semantic" and fit_mode([box]) == "detection"
    with pytest.raises(ValueError, match="all carry"):
        fit_mode([lab, sem])


def test_auto_channel_prefers_the_planes_that_separate_objects():
    """Synthetic two-channel data: objects only in channel `b`, a bright distractor in `a`."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(2):
        lab = np.zeros((64, 64), np.int32)
        yy, xx = np.mgrid[:64, :64]
        for k, (cy, cx) in enumerate([(16, 16), (16, 48), (48, 16), (48, 48)], 1):
            lab[(yy - cy) ** 2 + (xx - cx) ** 2 <= 36] = k
        img = np.stack([rng.random((64, 64)) * 0.5 + (xx > 32), (lab > 0) + 0.1 * rng.random((64, 64))], -1)
        samples.append(Sample(f"s{i}", img.astype(np.float32), ("a", "b"), labels=lab))
    m = get_method("isodata_watershed", profile="ci").fit(samples, [], rng=0)
    assert m.state["channel"] == "b"
    report = m.state["channel_separation"]
    assert report["b"]["youden_j"] > report["a"]["youden_j"]
