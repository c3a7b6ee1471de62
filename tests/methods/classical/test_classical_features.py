"""ilastik-like pixel features: layout, invariants, cross-checks against scipy / numpy."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from bench.methods.classical.features import (
    FEATURES,
    ILASTIK_SIGMAS,
    feature_names,
    n_features,
    pixel_features,
)


def test_layout_matches_names():
    img = np.random.default_rng(0).random((16, 20, 2)).astype(np.float32)
    f = pixel_features(img)
    names = feature_names(["a", "b"])
    assert f.shape == (16, 20, len(names)) == (16, 20, n_features(2))
    assert f.dtype == np.float32
    # ilastik: 0.3 px gets Gaussian smoothing only; 8 columns per other scale
    assert n_features(1) == 1 + 8 * (len(ILASTIK_SIGMAS) - 1)
    assert names[0] == "a:gaussian@0.3" and names[-1] == "b:hessian1@10.0"


def test_constant_image_has_zero_derivatives():
    f = pixel_features(np.full((24, 24), 3.0, np.float32), sigmas=(1.0, 2.0))
    names = feature_names(["x"], sigmas=(1.0, 2.0))
    for j, name in enumerate(names):
        expected = 3.0 if ":gaussian" in name else 0.0
        np.testing.assert_allclose(f[..., j], expected, atol=1e-5, err_msg=name)


def test_cross_check_against_untruncated_gaussian_derivatives():
    # scipy with a very wide window approximates the exact Gaussian derivatives;
    # the features' 4-sigma kernels must agree within 3 % of each feature's spread
    rng = np.random.default_rng(1)
    x = ndi.gaussian_filter(rng.random((48, 48)), 1).astype(np.float64)
    s = 1.6
    f = pixel_features(x, sigmas=(s,))
    cols = dict(zip(feature_names(["x"], sigmas=(s,)), np.moveaxis(f, -1, 0)))
    cols = {k: v[8:-8, 8:-8] for k, v in cols.items()}  # away from the reflected border

    def close(actual, desired):
        np.testing.assert_allclose(actual, desired, atol=0.03 * float(np.std(desired)))

    def g(order, sigma=s, img=x):
        return ndi.gaussian_filter(img, sigma, order=order, truncate=10.0)[8:-8, 8:-8]

    gyy, gxx, gxy = g((2, 0)), g((0, 2)), g((1, 1))
    close(cols["x:gaussian@1.6"], g((0, 0)))
    close(cols["x:log@1.6"], gxx + gyy)
    close(cols["x:ggm@1.6"], np.hypot(g((0, 1)), g((1, 0))))
    close(cols["x:dog@1.6"], g((0, 0)) - g((0, 0), 0.66 * s))
    hess = np.stack([np.stack([gyy, gxy], -1), np.stack([gxy, gxx], -1)], -2)
    ev = np.linalg.eigvalsh(hess)  # ascending
    close(cols["x:hessian0@1.6"], ev[..., 1])
    close(cols["x:hessian1@1.6"], ev[..., 0])
    full = [ndi.gaussian_filter(x, s, order=o, truncate=10.0) for o in ((0, 1), (1, 0))]
    gx, gy = full
    t = [ndi.gaussian_filter(a, 0.5 * s, truncate=10.0)[8:-8, 8:-8] for a in (gx * gx, gx * gy, gy * gy)]
    st = np.stack([np.stack([t[0], t[1]], -1), np.stack([t[1], t[2]], -1)], -2)
    ev = np.linalg.eigvalsh(st)
    close(cols["x:structure0@1.6"], ev[..., 1])
    close(cols["x:structure1@1.6"], ev[..., 0])
    assert np.all(cols["x:structure1@1.6"] >= -1e-6)  # structure tensors are positive semi-definite


def test_feature_subset_and_validation():
    f = pixel_features(np.zeros((8, 8), np.float32), sigmas=(1.0,), features=("hessian", "gaussian"))
    assert f.shape[-1] == 3  # families are emitted in FEATURES order
    with pytest.raises(ValueError, match="`features`"):
        pixel_features(np.zeros((8, 8), np.float32), features=("sobel",))
    with pytest.raises(ValueError, match="`sigmas`"):
        pixel_features(np.zeros((8, 8), np.float32), sigmas=(0.0,))
    with pytest.raises(ValueError, match="`image`"):
        pixel_features(np.zeros((2, 8, 8, 1), np.float32))
    assert set(FEATURES) == {"gaussian", "log", "ggm", "dog", "structure", "hessian"}


def test_large_scales_on_a_coarser_grid_agree_with_full_resolution():
    import bench.methods.classical.features as F

    rng = np.random.default_rng(2)
    x = ndi.gaussian_filter(rng.random((96, 96)), 1).astype(np.float32)
    want = set(FEATURES)
    for s in (5.0, 10.0):
        assert F._pyramid_factor(s, x.shape) == 2
        exact = F._combine(F._primitives(x, s, want), s, want)
        fast = pixel_features(x, sigmas=(s,))
        c = slice(20, -20)
        for j, e in enumerate(exact):
            err = np.abs(fast[c, c, j] - e[c, c]).max() / np.abs(e[c, c]).max()
            assert err < 0.1, (s, j, err)
