"""``log_spots``: multi-scale Laplacian-of-Gaussian spot detection, spots grown into instances."""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .method import ClassicalMethod, ClassicalParams
from .postprocess import fill_dark_holes, fill_small_holes, remove_small_objects
from .features import _block_mean, _upsample
from .._shared.parallel import map_rows, row_blocks, thread_imap, thread_map

__all__ = ["LogSpots", "LogSpotsParams", "log_response", "log_candidates", "prune_candidates", "log_seeds",
           "grow_spots", "spot_basins"]

logger = logging.getLogger(__name__)

#: Seed thresholds tried (scale-normalised LoG response, in normalised intensity units).
THRESHOLD_GRID = (0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45)
#: Fractions of each spot's peak response that bound its grown region.
FRACTION_GRID = (0.1, 0.25, 0.4)


@dataclass(frozen=True)
class LogSpotsParams(ClassicalParams):
    """Parameters of :class:`LogSpots` (``None``: tuned in ``fit``).

    Attributes
    ----------
    threshold : float or None
        Minimum scale-normalised LoG response of a spot (the working plane is
        normalised to 0-1 per image); tuned over ``THRESHOLD_GRID`` (profile
        ``ci``: every other value).
    fraction : float or None
        A spot grows over the pixels whose best LoG response is at least
        ``fraction`` times the spot's peak response; tuned over ``FRACTION_GRID``.
    n_scales : int
        Scales ``sigma``, geometrically spaced from ``r05 / sqrt(2)`` (the
        blob scale of the 5th-percentile training radius) to ``r95`` (large
        enough for a ring of the 95th-percentile radius to respond at its
        centre).
    min_area : float or None
        Smallest object kept (working px^2); default a quarter of the
        5th-percentile training object area.
    fill_rings : bool or None
        Fill dark lumens enclosed by brighter rims (grey-level hole filling,
        :func:`~bench.methods.classical.postprocess.fill_dark_holes`) before
        filtering, so that ring-shaped objects respond like blobs; tuned.
    """

    threshold: float | None = None
    fraction: float | None = None
    n_scales: int = 7
    min_area: float | None = None
    fill_rings: bool | None = None

    def validate(self) -> None:
        super().validate()
        if self.threshold is not None and self.threshold <= 0:
            raise ValueError(f"parameter `threshold` must be > 0 or None, got {self.threshold}")
        if self.fraction is not None and not 0 < self.fraction < 1:
            raise ValueError(f"parameter `fraction` must be in (0, 1) or None, got {self.fraction}")
        if self.n_scales < 1:
            raise ValueError(f"parameter `n_scales` must be >= 1, got {self.n_scales}")
        if self.min_area is not None and self.min_area < 0:
            raise ValueError(f"parameter `min_area` must be >= 0 or None, got {self.min_area}")


def log_response(plane: np.ndarray, sigmas) -> tuple[np.ndarray, np.ndarray]:
    """Best scale-normalised negative LoG response over `sigmas`, and the scale reaching it.

    The response at scale ``sigma`` is ``-sigma^2 (Ixx + Iyy)`` of the plane
    smoothed by ``sigma``: bright blobs give positive responses, largest at
    ``sigma = r / sqrt(2)`` for a disk of radius ``r`` (Lindeberg, 1998). Scales
    >= 4 px are computed on a 2x block-averaged grid (>= 8 px: 4x; the scale
    reduced for the averaging) and interpolated back, which changes the
    response by a few per cent and makes large fields fast.

    Returns
    -------
    best : (M, N) ndarray of float32
    scale : (M, N) ndarray of int16
        Index into `sigmas` of the best scale.

    Examples
    --------
    >>> yy, xx = np.mgrid[:31, :31]
    >>> disk = (((yy - 15) ** 2 + (xx - 15) ** 2) <= 36).astype(np.float32)
    >>> best, k = log_response(disk, [1.0, 6 / np.sqrt(2), 8.0])
    >>> int(k[15, 15])  # the scale matching the radius wins at the centre
    1
    """
    plane = np.asarray(plane, np.float32)
    factors = []
    for s in sigmas:
        f = 4 if s >= 8 else 2 if s >= 4 else 1
        while f > 1 and min(plane.shape) < 16 * f:
            f //= 2
        factors.append(f)
    coarse = {f: _block_mean(plane, f) for f in sorted(set(factors)) if f > 1}

    def response(k: int) -> np.ndarray:
        s, f = sigmas[k], factors[k]
        if f == 1:
            r = ndi.gaussian_laplace(plane, s, truncate=3.0)
            r *= -(s * s)
            return r
        sc = math.sqrt(s * s - (f * f - 1) / 12.0) / f
        r = ndi.gaussian_laplace(coarse[f], sc, truncate=3.0)
        r *= -((s / f) ** 2)
        return _upsample(r, f, plane.shape)

    # the scales are independent (threads when the budget allows); combined in order
    best = np.full(plane.shape, -np.inf, np.float32)
    scale = np.zeros(plane.shape, np.int16)
    for k, r in enumerate(thread_imap(response, range(len(sigmas)))):
        better = r > best
        np.copyto(best, r, where=better)
        scale[better] = k
    return best, scale


def log_candidates(best: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Local maxima (3x3) of the best response with a positive value, strongest first.

    Returns
    -------
    ks, ys, xs : (K,) ndarray of int64
        Scale index and position of each candidate.
    resp : (K,) ndarray of float32
        Its response, in decreasing order.
    """
    peak = map_rows(_local_maxima, best, margin=1)  # a 3x3 maximum: one row of margin
    ys, xs = np.nonzero(peak)
    resp = best[ys, xs]
    ks = scale[ys, xs].astype(np.int64)
    order = np.argsort(-resp, kind="stable")
    return ks[order], ys[order], xs[order], resp[order]


def _local_maxima(best: np.ndarray) -> np.ndarray:
    """:func:`log_candidates`' peaks: pixels at their 3x3 maximum, with a positive response."""
    local = ndi.maximum_filter(best, size=3, mode="constant", cval=-np.inf)
    return (best >= local) & (best > 0)


def prune_candidates(candidates, sigmas, shape, *, threshold: float) -> np.ndarray:
    """Seeds from :func:`log_candidates`: above `threshold`, weaker overlapping ones removed.

    Candidates are visited from the strongest; each removes the weaker ones
    closer than its radius ``sqrt(2) sigma_k`` (the blob-overlap pruning of blob
    detectors; a loop over candidates, not pixels).

    Returns
    -------
    (M, N) ndarray of int32
        Seed ``i`` (1-based, strongest first) at its pixel, 0 elsewhere.
    """
    from scipy.spatial import cKDTree

    ks, ys, xs, resp = candidates
    n_above = int(np.searchsorted(-resp, -threshold, side="right"))
    ks, ys, xs = ks[:n_above], ys[:n_above], xs[:n_above]
    markers = np.zeros(shape, np.int32)
    if ks.size == 0:
        return markers
    radius = np.sqrt(2.0) * np.asarray(sigmas, float)[ks]
    pts = np.stack([ys, xs], axis=1).astype(float)
    tree = cKDTree(pts)
    alive = np.ones(ks.size, bool)
    for i in range(ks.size):  # a loop over candidate spots
        if not alive[i]:
            continue
        near = np.asarray(tree.query_ball_point(pts[i], radius[i]), dtype=np.int64)
        alive[near[near > i]] = False
    n = int(alive.sum())
    markers[ys[alive], xs[alive]] = np.arange(1, n + 1, dtype=np.int32)
    return markers


def log_seeds(plane: np.ndarray, sigmas, *, threshold: float) -> np.ndarray:
    """Spots of `plane`: LoG maxima above `threshold`, pruned by overlap, as a marker image.

    See :func:`log_response`, :func:`log_candidates` and :func:`prune_candidates`.

    Examples
    --------
    >>> yy, xx = np.mgrid[:40, :40]
    >>> img = ((yy - 12) ** 2 + (xx - 12) ** 2 <= 16) + 0.5 * ((yy - 28) ** 2 + (xx - 28) ** 2 <= 36)
    >>> m = log_seeds(img.astype(np.float32), [2.0, 3.0, 4.2], threshold=0.1)
    >>> [(int(y), int(x)) for y, x in zip(*np.nonzero(m))]
    [(12, 12), (28, 28)]
    """
    best, scale = log_response(plane, sigmas)
    return prune_candidates(log_candidates(best, scale), sigmas, best.shape, threshold=threshold)


def grow_spots(
    best: np.ndarray, seeds: np.ndarray, *, fraction: float, max_hole: float = 0.0, basins: np.ndarray | None = None
) -> np.ndarray:
    """Grow seeds into instances over the best-scale LoG response.

    Each seed's region is the watershed basin of ``-best`` (restricted to
    ``best > 0``, or as given by `basins`); within it the object keeps the pixels with ``best >=
    fraction * peak`` (``peak``: the response at the seed), and holes up to
    `max_hole` px are filled (pixels of a filled hole keep their basin's label).

    Parameters
    ----------
    best : (M, N) ndarray of float
        Best LoG response over scales (:func:`log_response`).
    seeds : (M, N) ndarray of bool or int
        Seed mask (connected seeds merged) or marker labels.
    fraction : float
    max_hole : float, optional
    basins : (M, N) ndarray of int, optional
        The first watershed, if already computed for these seeds.

    Returns
    -------
    (M, N) ndarray of int32

    Examples
    --------
    >>> best = np.array([[0, 1, 4, 1, 0, 1, 2, 1]], float)
    >>> seeds = best >= 2
    >>> grow_spots(best, seeds, fraction=0.3).tolist()
    [[0, 0, 1, 0, 0, 2, 2, 2]]
    """
    markers = np.asarray(seeds)
    if markers.dtype == bool:
        markers, _ = ndi.label(markers, structure=np.ones((3, 3), bool))
    n = int(markers.max()) if markers.size else 0
    if n == 0:
        return np.zeros(best.shape, np.int32)
    if basins is None:
        basins = spot_basins(best, markers)
    peak = np.zeros(n + 1, np.float32)
    at = markers > 0
    peak[markers[at]] = best[at]
    keep = (basins > 0) & (best >= fraction * peak[basins])
    if max_hole > 0:
        keep = fill_small_holes(keep, max_hole)
    return np.where(keep, basins, 0).astype(np.int32)


def spot_basins(best: np.ndarray, markers: np.ndarray, *, floor: float = 0.0) -> np.ndarray:
    """Watershed basins of ``-best`` from `markers`, within ``best > floor``.

    With more than one thread (:func:`~bench.methods._shared.parallel.thread_budget`)
    the mask's 4-connected components are flooded in groups, one group per
    thread: see :func:`_grouped_watershed` for why that gives the same basins.
    """
    from skimage.segmentation import watershed

    image = -np.asarray(best, np.float32)
    mask = (best > floor) | (markers > 0)
    blocks = row_blocks(best.shape[0])
    if len(blocks) > 1:
        basins = _grouped_watershed(image, markers, mask, blocks)
        if basins is not None:
            return basins
    return watershed(image, markers, mask=mask)


def _grouped_watershed(image: np.ndarray, markers: np.ndarray, mask: np.ndarray, blocks: list[slice]) -> np.ndarray:
    """``watershed(image, markers, mask=mask)`` (4-connected), the mask's components in groups on threads.

    Flooding never crosses the mask's gaps, so each 4-connected component of
    the mask is flooded by its own seeds alone. scikit-image floods in the
    order of (value, age): a seed enters with age 0, every pixel reached later
    with the next age. When no two seeds of one component have the same value,
    that order is total within each component, and the same whether other
    components are flooded alongside or not; so are the basins. A component
    goes to the group of the first row block it reaches, and each group is
    flooded on the rows its components span.

    Returns None (the caller floods the whole image) when two seeds of one
    component have the same value, or the mask is empty.
    """
    from skimage.segmentation import watershed

    comp, n = ndi.label(mask)
    if n == 0:
        return None
    at = markers > 0
    seed_comp, seed_value = comp[at], image[at]
    order = np.lexsort((seed_value, seed_comp))
    same = (np.diff(seed_comp[order]) == 0) & (np.diff(seed_value[order]) == 0)
    if same.any():
        return None
    # group g: the components reaching block g's rows and no earlier block's
    group = np.full(n + 1, -1, np.int32)
    for g, b in enumerate(blocks):
        reach = np.zeros(n + 1, bool)
        reach[comp[b]] = True
        group[reach & (group < 0)] = g
    group[0] = -1  # the background

    def flood(g: int):
        start = blocks[g].start  # a group's components start in its block, and may run below it
        inside = group[comp[start:]] == g
        spans = np.flatnonzero(inside.any(axis=1))
        if spans.size == 0:
            return None
        rows = slice(start, start + int(spans[-1]) + 1)
        inside = inside[: rows.stop - start]
        return rows, inside, watershed(image[rows], np.where(inside, markers[rows], 0), mask=inside)

    out = None
    for part in thread_map(flood, range(len(blocks))):
        if part is None:
            continue
        rows, inside, basins = part
        if out is None:
            out = np.zeros(image.shape, basins.dtype)
        view = out[rows]
        view[inside] = basins[inside]
    return out


class LogSpots(ClassicalMethod):
    """Multi-scale Laplacian-of-Gaussian spot detector (Icy-like), spots grown into instances.

    The working plane is filtered by scale-normalised Laplacians of Gaussian,
    ``-sigma^2 Delta G_sigma * I`` (Lindeberg, 1998), at ``n_scales`` scales
    spanning the training objects' sizes (a disk of radius ``r`` responds best
    at ``sigma = r / sqrt(2)``, a thin ring at ``sigma`` near ``r``). Spots are
    the local maxima (3x3) of the best response over scales that exceed
    ``threshold``, each with the radius ``sqrt(2) sigma`` of its best scale;
    weaker spots within that radius of a stronger one are discarded, as in blob detectors and in Icy's spot
    detector, which thresholds a multiscale (wavelet) band-pass decomposition
    (Olivo-Marin, 2002). Each spot is then
    grown into an object: over its watershed basin of the best-scale response
    (limited to responses above 0.1 ``threshold``) it keeps the pixels above
    ``fraction`` of its peak response, with small
    holes filled (a ring's dark lumen belongs to the ring's object), and
    objects smaller than ``min_area`` are removed. Optionally (``fill_rings``)
    dark lumens enclosed by bright rims are filled in grey level first, so
    that a thin LAMP1 ring, whose LoG response at its centre is weak, responds
    like a blob.

    ``threshold``, ``fraction`` and ``fill_rings`` left at ``None`` are chosen
    on the training images by the pooled F1 at IoU 0.5.

    References
    ----------
    T. Lindeberg, "Feature detection with automatic scale selection", Int J
    Comput Vis 30(2), 79-116 (1998). :doi:`10.1023/A:1008045108935`;
    J.-C. Olivo-Marin, "Extraction of spots in biological images using
    multiscale products", Pattern Recognit 35(9), 1989-1996 (2002).
    :doi:`10.1016/S0031-3203(01)00127-3`
    """

    name = "log_spots"
    Params = LogSpotsParams
    reference = "Lindeberg 1998 (LoG blobs); Icy spot detector, Olivo-Marin 2002"

    def _fixed(self) -> dict[str, Any]:
        st = self.stats.scaled(self.factor)
        lo = max(st.radius_p05 / math.sqrt(2), 0.7)
        hi = max(st.radius_p95, lo)
        n = self.params.n_scales
        sig = np.geomspace(lo, hi, n) if n > 1 else np.array([st.radius_median / math.sqrt(2)])
        sigmas = [round(float(s), 3) for s in sig]
        ma = self.params.min_area if self.params.min_area is not None else 0.25 * st.area_p05
        return {
            "sigmas": list(dict.fromkeys(sigmas)),
            "min_area": round(ma, 2),
            "max_hole": round(1.5 * st.area_p95, 2),
        }

    def _tune(self, train, val, rng):
        tuning = self._tuning_images(train, val)
        p = self.params
        fixed = self._fixed()
        th = [p.threshold] if p.threshold is not None else list(THRESHOLD_GRID[:: 2 if p.profile == "ci" else 1])
        fr = [p.fraction] if p.fraction is not None else list(FRACTION_GRID)
        fill = [p.fill_rings] if p.fill_rings is not None else [False, True]
        grid = [{"fill_rings": g, "threshold": t, "fraction": f, **fixed}
                for g, t, f in itertools.product(fill, th, fr)]
        responses: dict = {}
        seeds: dict = {}
        floor = min(fr)

        def segment(ws, t):
            key = (id(ws), t["fill_rings"])
            if key not in responses:
                best, scale = log_response(self._plane(ws.image, t), t["sigmas"])
                responses[key] = (log_candidates(best, scale), best)
            cands, best = responses[key]
            ks = key + (t["threshold"],)
            if ks not in seeds:
                markers = prune_candidates(cands, t["sigmas"], best.shape, threshold=t["threshold"])
                seeds[ks] = (markers, spot_basins(best, markers, floor=floor * t["threshold"]))
            markers, basins = seeds[ks]
            labels = grow_spots(best, markers, fraction=t["fraction"], max_hole=t["max_hole"], basins=basins)
            return remove_small_objects(labels, t["min_area"])

        grid = [{**t, "basin_floor": floor} for t in grid]
        return self._grid_search(grid, segment, tuning)

    @staticmethod
    def _plane(work, t):
        return fill_dark_holes(work, max_area=t["max_hole"]) if t["fill_rings"] else work

    def _segment(self, work, tuned):
        best, scale = log_response(self._plane(work, tuned), tuned["sigmas"])
        markers = prune_candidates(log_candidates(best, scale), tuned["sigmas"], best.shape,
                                   threshold=tuned["threshold"])
        basins = spot_basins(best, markers, floor=tuned["basin_floor"] * tuned["threshold"])
        labels = grow_spots(best, markers, fraction=tuned["fraction"], max_hole=tuned["max_hole"], basins=basins)
        return remove_small_objects(labels, tuned["min_area"])
