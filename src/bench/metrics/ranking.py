"""How stable a ranking is: bootstrap rank distributions and paired significance tests.

The two analyses of challengeR [1]_ for a leaderboard computed on a few test images:

* :func:`rank_bootstrap` -- resample the test images with replacement (the same
  images for every method), recompute each method's score *as the leaderboard
  computes it*, re-rank, and report how often each method lands on each rank;
* :func:`significance_map` -- for every ordered pair of methods a one-sided
  Wilcoxon signed-rank test on their paired per-image scores, Holm-corrected
  over all pairs (:func:`holm`).

References
----------
.. [1] M. Wiesenfarth et al., "Methods and open-source toolkit for analyzing and
   visualizing challenge results", Scientific Reports 11, 2369 (2021).
   :doi:`10.1038/s41598-021-82017-6`
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["RankBootstrap", "SignificanceMap", "holm", "rank_bootstrap", "rank_scores", "significance_map"]


def rank_scores(scores, *, higher_is_better: bool = True) -> np.ndarray:
    """Competition ranks ("1224"): 1 for the best score, ties share the smallest rank.

    NaN scores rank last (after every finite score), tied with each other.

    Examples
    --------
    >>> rank_scores([0.5, 0.9, 0.5, 0.1]).tolist()
    [2, 1, 2, 4]
    >>> rank_scores([3.0, 1.0], higher_is_better=False).tolist()
    [2, 1]
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"`scores` must be 1-d (one score per method), got shape {s.shape}")
    key = -s if higher_is_better else s
    key = np.where(np.isnan(key), np.inf, key)
    # rank = 1 + number of methods strictly better
    return 1 + (key[None, :] < key[:, None]).sum(axis=1)


@dataclass(frozen=True, eq=False)
class RankBootstrap:
    """Bootstrap distribution of each method's rank.

    Attributes
    ----------
    methods : tuple of str
        Method names, in the order of the arrays.
    scores : (M,) ndarray
        Each method's score on all images.
    ranks : (M,) ndarray of int
        Ranks of `scores` (1 = best, ties share the smallest rank).
    resampled_ranks : (B, M) ndarray of int
        The rank of every method in every bootstrap resample.
    n_images : int
    confidence_level : float
    """

    methods: tuple[str, ...]
    scores: np.ndarray
    ranks: np.ndarray
    resampled_ranks: np.ndarray
    n_images: int
    confidence_level: float = 0.95

    @property
    def n_resamples(self) -> int:
        return int(self.resampled_ranks.shape[0])

    @property
    def frequencies(self) -> np.ndarray:
        """(M, M) fraction of resamples in which method ``i`` got rank ``r + 1``."""
        m = len(self.methods)
        out = np.zeros((m, m))
        for i in range(m):
            out[i] = np.bincount(self.resampled_ranks[:, i] - 1, minlength=m)[:m]
        return out / self.n_resamples

    @property
    def median_rank(self) -> np.ndarray:
        """(M,) median of each method's bootstrap ranks."""
        return np.median(self.resampled_ranks, axis=0)

    @property
    def rank_interval(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high): the central `confidence_level` interval of each method's ranks.

        The :math:`\\alpha/2` and :math:`1-\\alpha/2` quantiles, taken as observed
        ranks (``method="lower"`` / ``"higher"``), so the bounds are whole ranks.
        """
        alpha = 1.0 - self.confidence_level
        low = np.quantile(self.resampled_ranks, alpha / 2, axis=0, method="lower")
        high = np.quantile(self.resampled_ranks, 1 - alpha / 2, axis=0, method="higher")
        return low.astype(int), high.astype(int)

    def p_first(self) -> np.ndarray:
        """(M,) fraction of resamples in which each method ranks first (ties included)."""
        return (self.resampled_ranks == 1).mean(axis=0)


def rank_bootstrap(
    per_image: Mapping[str, Sequence],
    statistic: Callable[[list], float],
    *,
    higher_is_better: bool = True,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng=None,
) -> RankBootstrap:
    """Bootstrap the ranking of methods by resampling the test images.

    Parameters
    ----------
    per_image : mapping of str to sequence or ndarray
        For each method, one item per test image, the images in the same order
        for every method (paired): numbers, :class:`bench.metrics.MatchResult`,
        whatever `statistic` aggregates. An ndarray (first axis = images) is
        resampled by indexing, and `statistic` then receives an ndarray (fast:
        e.g. per-image counts summed by the statistic).
    statistic : callable
        ``statistic(items) -> float``: the score of one method from a list (or
        array) of its per-image items, computed as the leaderboard computes it
        (e.g. ``lambda rs: pool_results(rs).f1`` for the pooled F1).
    higher_is_better : bool, optional
        Direction of the score.
    n_resamples : int, optional
        Bootstrap resamples.
    confidence_level : float, optional
        Of the rank intervals, in (0, 1).
    rng : None, int or numpy.random.Generator, optional
        Passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    RankBootstrap

    Notes
    -----
    Every resample draws ``n`` image indices with replacement,
    ``rng.integers(0, n, (n_resamples, n))``, and applies the *same* indices to
    every method, so that a hard image stays hard for all of them; each method's
    statistic is recomputed on its resampled items and the methods are re-ranked
    (:func:`rank_scores`). With few images the distribution is coarse: two images
    give at most three distinct resamples up to order.

    Examples
    --------
    >>> r = rank_bootstrap({"a": [0.9, 0.8, 0.95], "b": [0.5, 0.4, 0.6]}, np.mean,
    ...                    n_resamples=200, rng=0)
    >>> r.ranks.tolist(), r.p_first().tolist()
    ([1, 2], [1.0, 0.0])
    """
    if not isinstance(per_image, Mapping) or not per_image:
        raise TypeError("`per_image` must be a non-empty mapping of method name to per-image items")
    methods = tuple(str(k) for k in per_image)
    items = [v if isinstance(v, np.ndarray) else list(v) for v in per_image.values()]
    n = len(items[0])
    if n == 0:
        raise ValueError("`per_image` must hold at least one image per method, got none")
    for name, it in zip(methods, items):
        if len(it) != n:
            raise ValueError(
                f"`per_image` must hold the same images for every method: {methods[0]!r} has {n}, "
                f"{name!r} has {len(it)}"
            )
    if not callable(statistic):
        raise TypeError(f"`statistic` must be callable, got {type(statistic).__name__}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"`n_resamples` must be a positive integer, got {n_resamples!r}")
    if not (0.0 < confidence_level < 1.0):
        raise ValueError(f"`confidence_level` must lie in (0, 1), got {confidence_level!r}")
    gen = np.random.default_rng(rng)
    scores = np.array([float(statistic(it)) for it in items])
    idx = gen.integers(0, n, (int(n_resamples), n))
    boot = np.array([[float(statistic(_take(it, row))) for it in items] for row in idx])
    ranks = np.array([rank_scores(b, higher_is_better=higher_is_better) for b in boot], dtype=np.int64)
    return RankBootstrap(
        methods=methods,
        scores=scores,
        ranks=rank_scores(scores, higher_is_better=higher_is_better),
        resampled_ranks=ranks.reshape(int(n_resamples), len(methods)),
        n_images=n,
        confidence_level=float(confidence_level),
    )


def _take(items, rows: np.ndarray):
    if isinstance(items, np.ndarray):
        return items[rows]
    return [items[i] for i in rows]


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of p-values (family-wise error control).

    Sort the ``m`` p-values ascending, multiply the ``k``-th smallest by
    ``m - k + 1``, make the sequence non-decreasing (running maximum) and cap at 1.
    NaN p-values (tests that could not be made) are left out of ``m`` and stay NaN.

    Parameters
    ----------
    pvalues : array_like
        Any shape.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape. Rejecting where ``adjusted <= alpha`` is
        Holm's procedure at level ``alpha``.

    References
    ----------
    .. [1] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scandinavian Journal of Statistics 6(2), 65-70 (1979).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(pvalues, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"`pvalues` must lie in [0, 1], got {p[(p < 0) | (p > 1)].tolist()}")
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    out = np.full(flat.shape, np.nan)
    m = ok.size
    if m:
        order = ok[np.argsort(flat[ok], kind="mergesort")]
        adj = flat[order] * (m - np.arange(m))
        out[order] = np.minimum(np.maximum.accumulate(adj), 1.0)
    return out.reshape(p.shape)


@dataclass(frozen=True, eq=False)
class SignificanceMap:
    """Pairwise one-sided tests between methods on paired per-image scores.

    Attributes
    ----------
    methods : tuple of str
    pvalues : (M, M) ndarray
        ``pvalues[i, j]``: one-sided Wilcoxon signed-rank p-value of "method ``i``
        scores higher than method ``j``" (lower, when ``higher_is_better`` is
        False); NaN on the diagonal.
    adjusted : (M, M) ndarray
        Holm-adjusted over all ``M (M - 1)`` ordered pairs.
    alpha : float
    n_images : int
    """

    methods: tuple[str, ...]
    pvalues: np.ndarray
    adjusted: np.ndarray
    alpha: float
    n_images: int

    @property
    def significant(self) -> np.ndarray:
        """(M, M) bool: method ``i`` is significantly better than method ``j``."""
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(self.adjusted, nan=1.0) <= self.alpha

    def better_than(self, method: str) -> list[str]:
        """Methods that `method` is significantly better than."""
        i = self._index(method)
        return [m for j, m in enumerate(self.methods) if self.significant[i, j]]

    def _index(self, method: str) -> int:
        if method not in self.methods:
            raise ValueError(f"`method` {method!r} is not one of {self.methods}")
        return self.methods.index(method)


def _one_sided_p(x: np.ndarray, y: np.ndarray) -> float:
    d = x - y
    d = d[np.isfinite(d)]
    if d.size == 0 or np.all(d == 0):
        return 1.0
    from scipy import stats  # lazy: ~0.4 s to import, needed only when ranking methods

    return float(stats.wilcoxon(d, alternative="greater", zero_method="wilcox").pvalue)


def significance_map(
    per_image: Mapping[str, Sequence[float]],
    *,
    higher_is_better: bool = True,
    alpha: float = 0.05,
) -> SignificanceMap:
    """Which methods are distinguishable: paired one-sided tests, Holm-corrected.

    Parameters
    ----------
    per_image : mapping of str to sequence of float
        Each method's score on every test image, the images in the same order for
        every method.
    higher_is_better : bool, optional
        Direction of the score.
    alpha : float, optional
        Family-wise error rate, over all ordered pairs.

    Returns
    -------
    SignificanceMap

    Notes
    -----
    For every ordered pair ``(i, j)`` the per-image differences
    :math:`d_k = s_{ik} - s_{jk}` are tested with the one-sided Wilcoxon
    signed-rank test (:func:`scipy.stats.wilcoxon`, ``alternative="greater"``,
    zero differences dropped, ``zero_method="wilcox"``); identical scores on every
    image give ``p = 1``. The ``M (M - 1)`` p-values are adjusted with :func:`holm`.
    With ``n`` images the smallest possible one-sided p-value is :math:`2^{-n}`,
    so with four images or fewer no difference can be significant at 0.05 --
    the map then honestly shows none.

    Examples
    --------
    >>> m = significance_map({"a": [0.9, 0.8, 0.7, 0.9, 0.8, 0.85],
    ...                       "b": [0.5, 0.4, 0.3, 0.6, 0.5, 0.45]})
    >>> bool(m.significant[0, 1]), bool(m.significant[1, 0])
    (True, False)
    """
    if not isinstance(per_image, Mapping) or len(per_image) < 1:
        raise TypeError("`per_image` must be a non-empty mapping of method name to per-image scores")
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"`alpha` must lie in (0, 1), got {alpha!r}")
    methods = tuple(str(k) for k in per_image)
    arrays = [np.asarray(v, dtype=float) for v in per_image.values()]
    n = arrays[0].shape[0] if arrays[0].ndim == 1 else -1
    for name, a in zip(methods, arrays):
        if a.ndim != 1 or a.shape[0] != n:
            raise ValueError(
                f"`per_image` must hold one score per image, the same images for every method: "
                f"{methods[0]!r} has shape {arrays[0].shape}, {name!r} has shape {a.shape}"
            )
    sign = 1.0 if higher_is_better else -1.0
    m = len(methods)
    p = np.full((m, m), np.nan)
    for i in range(m):
        for j in range(m):
            if i != j:
                p[i, j] = _one_sided_p(sign * arrays[i], sign * arrays[j])
    return SignificanceMap(methods=methods, pvalues=p, adjusted=holm(p), alpha=float(alpha), n_images=int(n))
