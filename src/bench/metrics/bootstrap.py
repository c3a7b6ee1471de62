"""Bootstrap confidence intervals over images."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BootstrapCI", "bootstrap_ci"]


@dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with a percentile bootstrap confidence interval.

    Attributes
    ----------
    estimate : float
        The statistic on the original images.
    low, high : float
        Bounds of the interval.
    confidence_level : float
    n_resamples : int
    n_images : int
    """

    estimate: float
    low: float
    high: float
    confidence_level: float
    n_resamples: int
    n_images: int


def bootstrap_ci(
    per_image: Sequence,
    statistic: Callable[[list], float],
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng=None,
) -> BootstrapCI:
    """Percentile bootstrap confidence interval of any metric aggregated over images.

    Images are the resampling unit: each resample draws as many images as there are,
    with replacement, and recomputes the aggregate with `statistic`.

    Parameters
    ----------
    per_image : sequence
        One item per image: a number, a :class:`bench.metrics.MatchResult`, a tuple of
        arrays -- whatever `statistic` aggregates.
    statistic : callable
        ``statistic(items) -> float`` for a list of items, e.g.
        ``lambda rs: pool_results(rs).f1`` for the pooled F1, or ``np.mean``.
    n_resamples : int, optional
        Number of bootstrap resamples.
    confidence_level : float, optional
        In (0, 1).
    rng : None, int or numpy.random.Generator, optional
        Seed or generator, passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    BootstrapCI

    Notes
    -----
    The resampled indices are drawn at once as
    ``rng.integers(0, n, (n_resamples, n))`` and the bounds are the
    :math:`\\alpha/2` and :math:`1-\\alpha/2` percentiles of the resampled
    statistics, :math:`\\alpha = 1 -` `confidence_level` (the percentile method of
    ``scipy.stats.bootstrap``, which gives the same interval for the same generator
    state) [1]_. Resampling images, not objects, keeps the objects of one image
    together: they are not independent.

    References
    ----------
    .. [1] B. Efron, "Bootstrap methods: another look at the jackknife", Annals of
       Statistics 7(1), 1-26 (1979). :doi:`10.1214/aos/1176344552`

    Examples
    --------
    >>> ci = bootstrap_ci([0.7, 0.8, 0.9, 0.75, 0.85], np.mean, n_resamples=200, rng=0)
    >>> round(ci.estimate, 3), ci.low <= ci.estimate <= ci.high
    (0.8, True)
    """
    if isinstance(per_image, (str, bytes)) or not isinstance(per_image, (Sequence, np.ndarray)):
        raise TypeError(f"`per_image` must be a sequence with one item per image, got {type(per_image).__name__}")
    items = list(per_image)
    n = len(items)
    if n == 0:
        raise ValueError("`per_image` must hold at least one image, got an empty sequence")
    if not callable(statistic):
        raise TypeError(f"`statistic` must be callable, got {type(statistic).__name__}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"`n_resamples` must be a positive integer, got {n_resamples!r}")
    if not (0.0 < confidence_level < 1.0):
        raise ValueError(f"`confidence_level` must lie in (0, 1), got {confidence_level!r}")
    gen = np.random.default_rng(rng)
    estimate = float(statistic(items))
    idx = gen.integers(0, n, (int(n_resamples), n))
    values = np.array([float(statistic([items[i] for i in row])) for row in idx])
    alpha = 1.0 - confidence_level
    low, high = np.percentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return BootstrapCI(
        estimate=estimate,
        low=float(low),
        high=float(high),
        confidence_level=float(confidence_level),
        n_resamples=int(n_resamples),
        n_images=n,
    )
