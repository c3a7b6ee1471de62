"""ilastik-like pixel features, shared by the ``random_forest`` and ``svm`` pixel classifiers.

The feature set is ilastik's default pixel-classification set (Berg et al., 2019):
for every channel and every scale ``sigma``

* ``gaussian``  Gaussian smoothing (every scale, including 0.3);
* ``log``       Laplacian of Gaussian, ``Ixx + Iyy``;
* ``ggm``       Gaussian gradient magnitude, ``sqrt(Ix^2 + Iy^2)``;
* ``dog``       difference of Gaussians, ``G_sigma * I - G_{0.66 sigma} * I``;
* ``structure`` the two eigenvalues of the structure tensor (gradients at
  ``sigma``, products smoothed at ``sigma / 2``, as ilastik calls vigra);
* ``hessian``   the two eigenvalues of the Hessian of Gaussian.

As in ilastik, only Gaussian smoothing is computed at the smallest scale (0.3 px);
the other features start at 0.7 px. Derivatives are separable Gaussian-derivative
filters truncated at 4 sigma, second-derivative kernels corrected as vigra's so
that a constant image has exactly zero curvature (:func:`gaussian_kernel`), all
in float32. For speed (a third less time with ilastik's scales), scales >= 5 px
are computed on a 2x block-averaged grid, with the scale reduced to account for
the averaging, and their linear responses (smoothed image, derivatives,
structure-tensor entries) interpolated back linearly before magnitudes and
eigenvalues are formed; this agrees with full-resolution filtering to within
about 10 % of each feature's largest value (tested).

References
----------
.. [1] S. Berg et al., "ilastik: interactive machine learning for (bio)image
   analysis", Nat Methods 16, 1226-1232 (2019). :doi:`10.1038/s41592-019-0582-9`
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

__all__ = ["FEATURES", "ILASTIK_SIGMAS", "pixel_features", "feature_names", "n_features", "gaussian_kernel"]

#: Feature families, in output order.
FEATURES = ("gaussian", "log", "ggm", "dog", "structure", "hessian")
#: ilastik's default scales (px).
ILASTIK_SIGMAS = (0.3, 0.7, 1.0, 1.6, 3.5, 5.0, 10.0)
#: Scales below this get Gaussian smoothing only (ilastik's convention).
_MIN_DERIVATIVE_SIGMA = 0.5
_WIDTH = {"gaussian": 1, "log": 1, "ggm": 1, "dog": 1, "structure": 2, "hessian": 2}
_TRUNCATE = 4.0
#: Scales from this one are computed on a 2x block-averaged grid and interpolated back.
_PYRAMID_SIGMA = 5.0


def _check(sigmas, features) -> tuple[tuple[float, ...], tuple[str, ...]]:
    sigmas = tuple(float(s) for s in sigmas)
    if not sigmas or any(s <= 0 for s in sigmas):
        raise ValueError(f"`sigmas` must be a non-empty sequence of positive scales, got {sigmas}")
    features = tuple(features)
    bad = [f for f in features if f not in FEATURES]
    if bad or not features:
        raise ValueError(f"`features` must be a non-empty subset of {FEATURES}, got {features}")
    return sigmas, tuple(f for f in FEATURES if f in features)


def _columns(sigmas, features) -> list[tuple[str, float, int]]:
    cols = []
    for s in sigmas:
        for f in features:
            if f != "gaussian" and s < _MIN_DERIVATIVE_SIGMA:
                continue
            for k in range(_WIDTH[f]):
                cols.append((f, s, k))
    return cols


def n_features(n_channels: int, *, sigmas=ILASTIK_SIGMAS, features=FEATURES) -> int:
    """Number of feature columns for `n_channels` channels.

    >>> n_features(1)
    49
    """
    sigmas, features = _check(sigmas, features)
    return n_channels * len(_columns(sigmas, features))


def feature_names(channels: Sequence[str], *, sigmas=ILASTIK_SIGMAS, features=FEATURES) -> list[str]:
    """Names of the columns of :func:`pixel_features`, ``"<channel>:<feature>[<k>]@<sigma>"``.

    >>> feature_names(["a"], sigmas=(0.3, 1.0), features=("gaussian", "hessian"))
    ['a:gaussian@0.3', 'a:gaussian@1.0', 'a:hessian0@1.0', 'a:hessian1@1.0']
    """
    sigmas, features = _check(sigmas, features)
    names = []
    for c in channels:
        for f, s, k in _columns(sigmas, features):
            suffix = str(k) if _WIDTH[f] > 1 else ""
            names.append(f"{c}:{f}{suffix}@{s}")
    return names


def _eig2(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (larger first) of the symmetric 2x2 matrices [[a, b], [b, c]]."""
    half_tr = (a + c) * 0.5
    disc = np.sqrt(((a - c) * 0.5) ** 2 + b * b)
    return half_tr + disc, half_tr - disc


def gaussian_kernel(sigma: float, order: int) -> np.ndarray:
    """1-D Gaussian (derivative) kernel of radius ``ceil(4 sigma)``.

    Order 0 sums to 1; order 1 is antisymmetric (zero sum); order 2 is
    corrected, as vigra does, to have zero sum (a constant image has exactly
    zero Laplacian and Hessian) and to map ``x**2 / 2`` to 1. Use with
    :func:`scipy.ndimage.convolve1d`.

    Examples
    --------
    >>> k = gaussian_kernel(1.0, 2)
    >>> x = np.arange(-4, 5)
    >>> round(float(k.sum()), 12) + 0.0, round(float((k[::-1] * x**2 / 2).sum()), 12)
    (0.0, 1.0)
    """
    r = max(int(np.ceil(_TRUNCATE * sigma)), 1)
    x = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    g /= g.sum()
    if order == 0:
        k = g
    elif order == 1:
        k = -x / sigma**2 * g  # antisymmetric: zero sum
    elif order == 2:
        k = (x**2 / sigma**4 - 1 / sigma**2) * g
        k -= g * (k.sum() / g.sum())  # zero DC
        k /= (x**2 / 2 * k).sum()  # convolution with x^2 / 2 gives 1
    else:
        raise ValueError(f"`order` must be 0, 1 or 2, got {order}")
    return k


def _d(x, sigma, order, axis):
    return ndi.convolve1d(x, gaussian_kernel(sigma, order).astype(np.float32), axis=axis, mode="reflect")


def _g(x, sigma, oy, ox):
    return _d(_d(x, sigma, oy, 0), sigma, ox, 1)


def pixel_features(
    image: np.ndarray, *, sigmas: Sequence[float] = ILASTIK_SIGMAS, features: Sequence[str] = FEATURES
) -> np.ndarray:
    """ilastik's pixel features of every channel at every scale.

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray
        Intensities (normalise them first; the features are linear in them).
    sigmas : sequence of float, optional
        Scales in pixels (default :data:`ILASTIK_SIGMAS`).
    features : sequence of str, optional
        Subset of :data:`FEATURES`.

    Returns
    -------
    (M, N, F) ndarray of float32
        Columns named by :func:`feature_names`.

    Examples
    --------
    >>> img = np.zeros((5, 5), np.float32); img[2, 2] = 1
    >>> f = pixel_features(img, sigmas=(1.0,), features=("gaussian", "hessian"))
    >>> f.shape, f.dtype
    ((5, 5, 3), dtype('float32'))
    >>> bool(f[2, 2, 0] == f[..., 0].max()), bool(f[2, 2, 1] < 0)  # a bright blob: negative curvature
    (True, True)
    """
    sigmas, features = _check(sigmas, features)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"`image` must be (M, N) or (M, N, C), got shape {image.shape}")
    cols = _columns(sigmas, features)
    out = np.empty(image.shape[:2] + (image.shape[2] * len(cols),), dtype=np.float32)
    j = 0
    want = set(features)
    shape = image.shape[:2]
    for c in range(image.shape[2]):
        x = np.ascontiguousarray(image[..., c])
        coarse: dict[int, np.ndarray] = {}
        for s in sigmas:
            f = _pyramid_factor(s, shape)
            if f == 1:
                planes = _scale_features(x, s, want)
            else:
                if f not in coarse:
                    coarse[f] = _block_mean(x, f)
                # block-averaging by f blurs like a Gaussian of variance (f^2 - 1) / 12
                sc = math.sqrt(s * s - (f * f - 1) / 12.0) / f
                prims = _primitives(coarse[f], sc, want, unit=f)
                planes = _combine({k: _upsample(v, f, shape) for k, v in prims.items()}, s, want)
            for p in planes:
                out[..., j] = p
                j += 1
    return out


def _pyramid_factor(sigma: float, shape) -> int:
    """2 (a 2x coarser grid) for scales >= ``_PYRAMID_SIGMA`` on images of at least 32 px, else 1."""
    return 2 if sigma >= _PYRAMID_SIGMA and min(shape) >= 32 else 1


def _block_mean(x: np.ndarray, f: int) -> np.ndarray:
    m, n = x.shape
    pm, pn = (-m) % f, (-n) % f
    if pm or pn:
        x = np.pad(x, ((0, pm), (0, pn)), mode="edge")
    return x.reshape(x.shape[0] // f, f, x.shape[1] // f, f).mean(axis=(1, 3), dtype=np.float32)


def _upsample_axis(p: np.ndarray, f: int, n: int, axis: int = 0) -> np.ndarray:
    """Linear interpolation along `axis` from ``p.shape[axis]`` coarse to `n` fine samples (centres aligned).

    Computed on views with `axis` moved first, so the result keeps `p`'s memory
    layout (no transposed copies) and the arithmetic is the same along every axis.
    """
    m = p.shape[axis]
    edge = lambda s: p[(slice(None),) * axis + (s,)]  # noqa: E731
    padded = np.concatenate([edge(slice(0, 1)), p, edge(slice(-1, None))], axis=axis)  # edge clamp
    shape = list(p.shape)
    shape[axis] = m * f
    out = np.empty(shape, np.float32)
    o, src, padded = np.moveaxis(out, axis, 0), np.moveaxis(p, axis, 0), np.moveaxis(padded, axis, 0)
    for q in range(f):  # one phase of the fine grid at a time
        delta = (q + 0.5) / f - 0.5  # offset from the coarse centre, in (-0.5, 0.5)
        nb = padded[:-2] if delta < 0 else padded[2:]
        w = np.float32(abs(delta))
        o[q::f] = (1 - w) * src + w * nb
    return np.moveaxis(o[:n], 0, axis)


def _upsample(p: np.ndarray, f: int, shape) -> np.ndarray:
    """Separable linear interpolation of a coarse plane (pixel centres aligned) to `shape`.

    Examples
    --------
    >>> _upsample(np.array([[0.0, 4.0]], np.float32), 2, (1, 4)).tolist()
    [[0.0, 1.0, 3.0, 4.0]]
    """
    rows = _upsample_axis(np.asarray(p, np.float32), f, shape[0], axis=0)
    return np.ascontiguousarray(_upsample_axis(rows, f, shape[1], axis=1))


def _primitives(x: np.ndarray, s: float, want: set, unit: int = 1) -> dict[str, np.ndarray]:
    """The linear filter responses one scale's features are built from.

    ``unit`` is the pixel size of `x` in output pixels: derivatives are rescaled
    to per-output-pixel units (first order / unit, second order / unit^2).
    Every entry is a linear function of the image (the structure-tensor entries
    are smoothed products), so they can be interpolated before the non-linear
    features (magnitudes, eigenvalues) are formed.
    """
    out = {}
    # separable Gaussian derivatives: passes along y, then along x
    gy0 = _d(x, s, 0, 0)
    out["g"] = _d(gy0, s, 0, 1)
    if s < _MIN_DERIVATIVE_SIGMA:
        return out
    u1, u2 = np.float32(1.0 / unit), np.float32(1.0 / unit**2)
    need_first = bool(want & {"ggm", "structure"})
    need_second = bool(want & {"log", "hessian"})
    if need_first or need_second:
        gy1 = _d(x, s, 1, 0)
    if need_first:
        gx = _d(gy0, s, 1, 1) * u1
        gy = _d(gy1, s, 0, 1) * u1
        if "ggm" in want:
            out["gx"], out["gy"] = gx, gy
        if "structure" in want:
            so = 0.5 * s
            out["sxx"], out["sxy"], out["syy"] = (_g(gx * gx, so, 0, 0), _g(gx * gy, so, 0, 0),
                                                  _g(gy * gy, so, 0, 0))
    if need_second:
        out["gxx"] = _d(gy0, s, 2, 1) * u2
        out["gyy"] = _d(_d(x, s, 2, 0), s, 0, 1) * u2
        out["gxy"] = _d(gy1, s, 1, 1) * u2
    if "dog" in want:
        out["dog"] = out["g"] - _g(x, 0.66 * s, 0, 0)
    return out


def _combine(p: dict[str, np.ndarray], s: float, want: set) -> list[np.ndarray]:
    """Feature planes of one scale, in :func:`feature_names` order, from its primitives."""
    out = []
    if "gaussian" in want:
        out.append(p["g"])
    if s < _MIN_DERIVATIVE_SIGMA:
        return out
    if "log" in want:
        out.append(p["gxx"] + p["gyy"])
    if "ggm" in want:
        out.append(np.hypot(p["gx"], p["gy"]))
    if "dog" in want:
        out.append(p["dog"])
    if "structure" in want:
        out += list(_eig2(p["sxx"], p["sxy"], p["syy"]))
    if "hessian" in want:
        out += list(_eig2(p["gyy"], p["gxy"], p["gxx"]))
    return out


def _scale_features(x: np.ndarray, s: float, want: set, unit: int = 1) -> list[np.ndarray]:
    return _combine(_primitives(x, s, want, unit), s, want)
