"""``hough``: circular Hough transform with LysoQuant's sensitivity / edge grid search."""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .method import ClassicalMethod, ClassicalParams
from .postprocess import paint_disks, remove_small_objects
from .._shared.parallel import map_rows

__all__ = ["Hough", "HoughParams", "edge_strength", "edge_levels", "circle_accumulator", "circle_candidates",
           "detect_circles",
           "perimeter_votes", "outermost_radii", "prune_concentric"]

logger = logging.getLogger(__name__)

#: LysoQuant's grid: sensitivity and edge threshold in steps of 0.1.
GRID_01 = tuple(round(0.1 * i, 1) for i in range(1, 10))
SIGMA_GRID = (1.0, 2.0)
#: At most this many radii are tested (the step grows for wide size ranges).
MAX_RADII = 12


@dataclass(frozen=True)
class HoughParams(ClassicalParams):
    """Parameters of :class:`Hough` (``None``: tuned in ``fit``).

    Attributes
    ----------
    sensitivity : float or None
        In [0, 1]; a circle is accepted when at least ``1 - sensitivity`` of its
        perimeter lies on edge pixels (MATLAB ``imfindcircles``' meaning: higher
        finds more circles). Tuned over 0.1..0.9 (step 0.1).
    edge : float or None
        In [0, 1]; edge pixels are the non-maximum-suppressed gradient maxima
        whose magnitude is at or above the ``edge`` quantile of all of them
        (MATLAB's edge threshold is a fraction of the largest gradient; a
        quantile is not dominated by a few saturated artefacts).
        Tuned over 0.1..0.9 (step 0.1).
    sigma : float or None
        Gaussian smoothing before the gradient (working px); tuned over (1, 2).
    min_area : float or None
        Smallest visible part of a disk kept (working px^2); default half the
        5th-percentile training object area.
    outermost : bool
        Replace each circle's radius by the largest tested radius around the
        same centre whose vote is at least 0.6 of the circle's own (the outer
        of two concentric edges: a ring-shaped organelle is bounded by the outer
        edge of its membrane).
    """

    sensitivity: float | None = None
    edge: float | None = None
    sigma: float | None = None
    min_area: float | None = None
    outermost: bool = True

    def validate(self) -> None:
        super().validate()
        for name in ("sensitivity", "edge"):
            v = getattr(self, name)
            if v is not None and not 0 <= v <= 1:
                raise ValueError(f"parameter `{name}` must be in [0, 1] or None, got {v}")
        for name in ("sigma", "min_area"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"parameter `{name}` must be >= 0 or None, got {v}")


def edge_strength(plane: np.ndarray, sigma: float) -> np.ndarray:
    """Gradient magnitude on its non-maximum-suppressed ridges (Canny's thin edges), 0 elsewhere.

    The plane is smoothed by `sigma`, the gradient taken with Sobel filters, and
    a pixel kept when its magnitude is at least that of its two neighbours
    along the gradient direction (quantised to 0, 45, 90 or 135 degrees).

    Examples
    --------
    >>> img = np.zeros((9, 9), np.float32); img[:, 5:] = 1.0
    >>> e = edge_strength(img, 1.0)
    >>> bool(e[:, 4:6].any()), bool(e[:, :2].any()), int((e[4] > 0).sum())
    (True, False, 1)
    """
    plane = np.asarray(plane, np.float32)
    if plane.ndim != 2:
        return _edge_strength(plane, sigma)
    # row blocks on threads, each with the rows its output depends on: the Gaussian's
    # radius (scipy's truncate 4), one for the Sobel filter and one for the suppression
    halo = (int(4.0 * float(sigma) + 0.5) if sigma > 0 else 0) + 2
    return map_rows(lambda p: _edge_strength(p, sigma), plane, margin=halo)


def _edge_strength(plane: np.ndarray, sigma: float) -> np.ndarray:
    x = ndi.gaussian_filter(np.asarray(plane, np.float32), sigma) if sigma > 0 else np.asarray(plane, np.float32)
    gy = ndi.sobel(x, axis=0)
    gx = ndi.sobel(x, axis=1)
    mag = np.hypot(gx, gy)
    # direction bin: 0 = horizontal gradient (compare left/right), 1 = 45 deg, 2 = vertical, 3 = 135 deg
    ax, ay = np.abs(gx), np.abs(gy)
    t = np.float32(math.tan(math.pi / 8))
    d = np.where(ay <= t * ax, 0, np.where(ax <= t * ay, 2, np.where(gx * gy > 0, 1, 3))).astype(np.int8)
    pad = np.pad(mag, 1, mode="constant")
    c = slice(1, -1)
    neighbours = {
        0: (pad[c, 2:], pad[c, :-2]),
        1: (pad[2:, 2:], pad[:-2, :-2]),
        2: (pad[2:, c], pad[:-2, c]),
        3: (pad[2:, :-2], pad[:-2, 2:]),
    }
    ridge = np.zeros(mag.shape, bool)
    for k, (a, b) in neighbours.items():
        sel = d == k
        ridge |= sel & (mag > a) & (mag >= b)  # strict on one side: a flat two-pixel ridge keeps one
    ridge &= mag > 0
    return np.where(ridge, mag, 0.0).astype(np.float32)


def edge_levels(strength: np.ndarray, edges) -> list[float]:
    """Magnitude thresholds for each edge parameter: the `edges` quantiles of the ridge magnitudes.

    ``strength >= level`` keeps the strongest ``1 - e`` fraction of the ridge
    pixels: a threshold relative to the image's own edges, which a few
    saturated artefacts cannot dominate (as they dominate the maximum).

    Examples
    --------
    >>> edge_levels(np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 0.0]]), [0.0, 0.5])
    [1.0, 2.5]
    """
    vals = strength[strength > 0]
    if vals.size == 0:
        return [np.inf for _ in edges]
    return [float(v) for v in np.quantile(vals, list(edges))]


def circle_accumulator(edges: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best normalised Hough vote over `radii` at every centre, and the radius that won.

    Parameters
    ----------
    edges : (M, N) ndarray of bool
    radii : (R,) ndarray of int

    Returns
    -------
    score : (M, N) ndarray of float64
        Fraction of the circle's perimeter pixels that are edges (max over radii).
    radius : (M, N) ndarray of float32
        The radius reaching `score`.
    """
    from skimage.transform import hough_circle

    score = np.zeros(edges.shape, np.float64)
    best = np.full(edges.shape, float(radii[0]), np.float32)
    if not edges.any():
        return score, best
    for r in np.asarray(radii):  # one radius at a time: one (M, N) accumulator in memory
        acc = hough_circle(edges, [r], normalize=True)[0]
        better = acc > score
        np.maximum(score, acc, out=score)
        best[better] = r
    return score, best


def circle_candidates(
    score: np.ndarray, radius: np.ndarray, *, min_separation: float, min_score: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every local maximum of `score` (within `min_separation`) above `min_score`, best first.

    A plateau of equal maxima gives one candidate at its centre of mass.

    Returns
    -------
    centers : (K, 2) ndarray of float
    radii : (K,) ndarray of float
    scores : (K,) ndarray of float
        Sorted in decreasing order.
    """
    size = 2 * max(int(round(min_separation)), 1) + 1

    def peaks(s: np.ndarray) -> np.ndarray:
        return (s >= ndi.maximum_filter(s, size=size, mode="constant")) & (s > 0) & (s >= min_score)

    peak = map_rows(peaks, score, margin=size // 2)  # a size x size maximum: size // 2 rows of margin
    lab, n = ndi.label(peak, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    # centres of mass as ndi.center_of_mass computes them (bincount sums in raster
    # order), over the peaks' pixels only: the other pixels add zeros
    ys, xs = np.nonzero(peak)
    at = lab[ys, xs]
    count = np.bincount(at, weights=np.ones(at.size), minlength=n + 1)[1:]
    centers = np.stack([np.bincount(at, weights=ys.astype(float), minlength=n + 1)[1:] / count,
                        np.bincount(at, weights=xs.astype(float), minlength=n + 1)[1:] / count], axis=1)
    iy = np.clip(np.rint(centers[:, 0]).astype(int), 0, score.shape[0] - 1)
    ix = np.clip(np.rint(centers[:, 1]).astype(int), 0, score.shape[1] - 1)
    scores = score[iy, ix].astype(float)
    order = np.argsort(-scores, kind="stable")
    return centers[order], radius[iy, ix].astype(float)[order], scores[order]


def prune_concentric(centers: np.ndarray, radii: np.ndarray, scores: np.ndarray, *, overlap: float = 0.5):
    """Drop circles whose centre lies within ``overlap`` x the radius of a stronger kept circle.

    Candidates must be sorted best first (as :func:`circle_candidates` returns
    them); this loops over candidates, not pixels. Since a candidate is only
    ever suppressed by stronger ones, pruning all candidates and then keeping
    those above a threshold equals thresholding first.

    Examples
    --------
    >>> c = np.array([[10.0, 10.0], [12.0, 10.0], [30.0, 30.0]])
    >>> prune_concentric(c, np.array([8.0, 6.0, 5.0]), np.array([0.9, 0.8, 0.7]))[2].tolist()
    [0.9, 0.7]
    """
    from scipy.spatial import cKDTree

    n = centers.shape[0]
    if n < 2:
        return centers, radii, scores
    tree = cKDTree(centers)
    alive = np.ones(n, bool)
    for i in range(n):
        if not alive[i]:
            continue
        near = np.asarray(tree.query_ball_point(centers[i], overlap * radii[i]), dtype=np.int64)
        alive[near[near > i]] = False
    return centers[alive], radii[alive], scores[alive]


def perimeter_votes(edges: np.ndarray, centers: np.ndarray, radius: float) -> np.ndarray:
    """Fraction of the perimeter pixels of circles of `radius` around `centers` that are edges.

    The perimeter is :func:`skimage.draw.circle_perimeter`'s, as in
    :func:`skimage.transform.hough_circle` with ``normalize=True``; pixels outside
    the image count as non-edges.

    Examples
    --------
    >>> from skimage.draw import circle_perimeter
    >>> e = np.zeros((11, 11), bool); e[circle_perimeter(5, 5, 3)] = True
    >>> perimeter_votes(e, np.array([[5.0, 5.0]]), 3).tolist(), perimeter_votes(e, np.array([[5.0, 5.0]]), 4).tolist()
    ([1.0], [0.0])
    """
    from skimage.draw import circle_perimeter

    dy, dx = circle_perimeter(0, 0, int(radius))
    cy = np.rint(centers[:, 0]).astype(np.int64)[:, None] + dy[None]
    cx = np.rint(centers[:, 1]).astype(np.int64)[:, None] + dx[None]
    ok = (cy >= 0) & (cy < edges.shape[0]) & (cx >= 0) & (cx < edges.shape[1])
    hit = np.zeros(cy.shape, bool)
    hit[ok] = edges[cy[ok], cx[ok]]
    return hit.mean(axis=1)


def outermost_radii(
    edges: np.ndarray, centers: np.ndarray, radii: np.ndarray, scores: np.ndarray, grid: np.ndarray,
    *, ratio: float = 0.6,
) -> np.ndarray:
    """Largest radius of `grid` (>= the detected one) whose vote is >= `ratio` x the circle's score.

    A ring-shaped object (a LAMP1 membrane) has two concentric edges; the
    object is bounded by the outer one.
    """
    out = np.asarray(radii, float).copy()
    if centers.shape[0] == 0:
        return out
    for r in np.asarray(grid):
        larger = r > out
        if not larger.any():
            continue
        v = perimeter_votes(edges, centers, r)
        out = np.where(larger & (v >= ratio * scores), float(r), out)
    return out


def detect_circles(
    score: np.ndarray, radius: np.ndarray, *, sensitivity: float, min_separation: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Circles whose normalised vote is a local maximum and at least ``1 - sensitivity``.

    Examples
    --------
    >>> score = np.zeros((9, 9), np.float32); score[4, 4] = 0.8; score[1, 1] = 0.3
    >>> c, r, s = detect_circles(score, np.full((9, 9), 3.0), sensitivity=0.5, min_separation=2)
    >>> c.tolist(), r.tolist(), s.round(2).tolist()
    ([[4.0, 4.0]], [3.0], [0.8])
    """
    return circle_candidates(score, radius, min_separation=min_separation, min_score=1.0 - sensitivity - 1e-9)


class Hough(ClassicalMethod):
    """Circular Hough transform for round objects (rings or blobs), tuned as in LysoQuant.

    Edges are the non-maximum-suppressed gradient ridges (Canny's thin edges)
    of the working plane smoothed by ``sigma``, kept where the gradient
    magnitude is at or above the ``edge`` quantile of the ridge magnitudes. Every edge pixel votes for the centres of
    circles of each radius through it (Duda & Hart, 1972); the radii span the
    5th-95th percentile of the training objects' equivalent radii. A centre is
    accepted where the fraction of a circle's perimeter on edges is a local
    maximum (within the smallest radius) and at least ``1 - sensitivity``, and
    circles centred inside a better circle (within half its radius) are
    dropped.
    Each circle becomes a filled disk; where disks overlap the better-scoring
    one wins; disks smaller than ``min_area`` are dropped. With ``outermost``
    a circle found on the inner edge of a ring is widened to the ring's outer
    edge when a concentric circle there has at least 0.6 of its vote.

    LysoQuant (Morone et al., 2020) scanned MATLAB ``imfindcircles``'
    sensitivity and edge threshold on a grid with step 0.1 and kept the best
    pair; ``fit`` does the same on the training images (0.1..0.9 for both,
    and ``sigma`` in (1, 2)), maximising the pooled F1 at IoU 0.5 (ties: mean
    matched IoU). The ``full`` profile searches the complete 9x9 grid; the
    ``quick`` profile searches every other value (5x5) and then the 0.1-step
    neighbours of the best pair (a third of the evaluations); ``ci`` stops
    after the coarse grid, with ``sigma`` 2 only. The voting is scikit-image's standard accumulator, not
    MATLAB's phase-coded one, so the numeric values of the two parameters are
    comparable in meaning, not identical.

    References
    ----------
    R. O. Duda, P. E. Hart, "Use of the Hough transformation to detect lines and
    curves in pictures", Commun ACM 15(1), 11-15 (1972). :doi:`10.1145/361237.361242`;
    D. Morone et al. (LysoQuant), Mol Biol Cell 31(14), 1512-1524 (2020).
    :doi:`10.1091/mbc.E20-04-0269`
    """

    name = "hough"
    Params = HoughParams
    reference = "Duda & Hart 1972 (Hough); sensitivity/edge grid as in LysoQuant (Morone et al. 2020)"

    def _radii(self) -> np.ndarray:
        st = self.stats.scaled(self.factor)
        lo = max(2, int(math.floor(st.radius_p05)))
        hi = max(lo, int(math.ceil(st.radius_p95)))
        step = max(1, math.ceil((hi - lo + 1) / MAX_RADII))
        return np.arange(lo, hi + 1, step)

    def _fixed(self) -> dict[str, Any]:
        st = self.stats.scaled(self.factor)
        radii = self._radii()
        ma = self.params.min_area if self.params.min_area is not None else 0.5 * st.area_p05
        return {"radii": radii.tolist(), "min_area": round(ma, 2), "min_separation": float(radii[0])}

    def _tune(self, train, val, rng):
        tuning = self._tuning_images(train, val)
        p = self.params
        fixed = self._fixed()
        sig = [p.sigma] if p.sigma is not None else list(SIGMA_GRID if p.profile != "ci" else SIGMA_GRID[-1:])
        # full: LysoQuant's complete 0.1-step grid; quick / ci: every other value first
        first = GRID_01 if p.profile == "full" else GRID_01[::2]
        edge = [p.edge] if p.edge is not None else list(first)
        sens = [p.sensitivity] if p.sensitivity is not None else list(first)
        grid = [{"sigma": s, "edge": e, "sensitivity": q, **fixed} for s, e, q in itertools.product(sig, edge, sens)]
        strength: dict = {}
        acc: dict = {}
        # candidates are kept down to the most permissive sensitivity searched
        lowest = 1.0 - max(GRID_01 if p.sensitivity is None else [p.sensitivity]) - 1e-9

        def segment(ws, t):
            ks = (id(ws), t["sigma"])
            if ks not in strength:
                strength[ks] = edge_strength(ws.image, t["sigma"])
            ka = ks + (t["edge"],)
            if ka not in acc:
                acc[ka] = self._candidates(strength[ks], t, min_score=lowest)
            return self._paint(ws.image.shape, *acc[ka], t)

        best, score = self._grid_search(grid, segment, tuning)
        if p.profile == "quick" and (p.edge is None or p.sensitivity is None):
            # refine to the 0.1 step around the best coarse pair
            def near(v, fixed_value):
                if fixed_value is not None:
                    return [fixed_value]
                return [g for g in GRID_01 if abs(g - v) < 0.15]

            fine = [
                {**best, "edge": e, "sensitivity": q}
                for e, q in itertools.product(near(best["edge"], p.edge), near(best["sensitivity"], p.sensitivity))
            ]
            # the coarse winner first, so that it keeps ties
            fine.sort(key=lambda t: (t["edge"], t["sensitivity"]) != (best["edge"], best["sensitivity"]))
            best, score = self._grid_search(fine, segment, tuning)
        return best, score

    @staticmethod
    def _paint(shape, centers, radii, scores, t) -> np.ndarray:
        keep = scores >= 1.0 - t["sensitivity"] - 1e-9
        # candidates are sorted best first: paint in reverse so the best wins overlaps
        labels = paint_disks(shape, centers[keep], radii[keep], order=np.arange(int(keep.sum()))[::-1])
        return remove_small_objects(labels, t["min_area"])

    def _candidates(self, strength, t, *, min_score: float):
        edges = (strength >= edge_levels(strength, [t["edge"]])[0]) & (strength > 0)
        grid = np.asarray(t["radii"])
        score, radius = circle_accumulator(edges, grid)
        centers, radii, scores = circle_candidates(
            score, radius, min_separation=t["min_separation"], min_score=min_score
        )
        if self.params.outermost:
            radii = outermost_radii(edges, centers, radii, scores, grid)
        return prune_concentric(centers, radii, scores)

    def _segment(self, work, tuned):
        strength = edge_strength(work, tuned["sigma"])
        cands = self._candidates(strength, tuned, min_score=1.0 - tuned["sensitivity"] - 1e-9)
        return self._paint(work.shape, *cands, tuned)
