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
filters (scipy.ndimage, window 3 sigma like vigra's default), all in float32.

References
----------
.. [1] S. Berg et al., "ilastik: interactive machine learning for (bio)image
   analysis", Nat Methods 16, 1226-1232 (2019). :doi:`10.1038/s41592-019-0582-9`
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

__all__ = ["FEATURES", "ILASTIK_SIGMAS", "pixel_features", "feature_names", "n_features"]

#: Feature families, in output order.
FEATURES = ("gaussian", "log", "ggm", "dog", "structure", "hessian")
#: ilastik's default scales (px).
ILASTIK_SIGMAS = (0.3, 0.7, 1.0, 1.6, 3.5, 5.0, 10.0)
#: Scales below this get Gaussian smoothing only (ilastik's convention).
_MIN_DERIVATIVE_SIGMA = 0.5
_WIDTH = {"gaussian": 1, "log": 1, "ggm": 1, "dog": 1, "structure": 2, "hessian": 2}
_TRUNCATE = 3.0


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


def _g(x, sigma, oy, ox):
    y = ndi.gaussian_filter1d(x, sigma, axis=0, order=oy, truncate=_TRUNCATE)
    return ndi.gaussian_filter1d(y, sigma, axis=1, order=ox, truncate=_TRUNCATE)


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
    for c in range(image.shape[2]):
        x = np.ascontiguousarray(image[..., c])
        for s in sigmas:
            deriv = s >= _MIN_DERIVATIVE_SIGMA
            # separable Gaussian derivatives: 3 passes along y, then along x
            gy0 = ndi.gaussian_filter1d(x, s, axis=0, order=0, truncate=_TRUNCATE)
            g = ndi.gaussian_filter1d(gy0, s, axis=1, order=0, truncate=_TRUNCATE)
            if "gaussian" in want:
                out[..., j] = g
                j += 1
            if not deriv:
                continue
            need_first = bool(want & {"ggm", "structure"})
            need_second = bool(want & {"log", "hessian"})
            if need_first or need_second:
                gy1 = ndi.gaussian_filter1d(x, s, axis=0, order=1, truncate=_TRUNCATE)
            if need_first:
                gx = ndi.gaussian_filter1d(gy0, s, axis=1, order=1, truncate=_TRUNCATE)
                gy = ndi.gaussian_filter1d(gy1, s, axis=1, order=0, truncate=_TRUNCATE)
            if need_second:
                gxx = ndi.gaussian_filter1d(gy0, s, axis=1, order=2, truncate=_TRUNCATE)
                gyy = _g(x, s, 2, 0)
                gxy = ndi.gaussian_filter1d(gy1, s, axis=1, order=1, truncate=_TRUNCATE)
            if "log" in want:
                out[..., j] = gxx + gyy
                j += 1
            if "ggm" in want:
                out[..., j] = np.hypot(gx, gy)
                j += 1
            if "dog" in want:
                out[..., j] = g - _g(x, 0.66 * s, 0, 0)
                j += 1
            if "structure" in want:
                so = 0.5 * s
                l1, l2 = _eig2(_g(gx * gx, so, 0, 0), _g(gx * gy, so, 0, 0), _g(gy * gy, so, 0, 0))
                out[..., j], out[..., j + 1] = l1, l2
                j += 2
            if "hessian" in want:
                l1, l2 = _eig2(gyy, gxy, gxx)
                out[..., j], out[..., j + 1] = l1, l2
                j += 2
    return out
