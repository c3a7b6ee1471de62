"""Bootstrap confidence intervals over images."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench.metrics import bootstrap_ci, match_instances, pool_results


def test_equals_scipy_percentile_bootstrap():
    x = np.random.default_rng(0).random(12)
    ours = bootstrap_ci(list(x), np.mean, n_resamples=500, confidence_level=0.9, rng=np.random.default_rng(42))
    theirs = stats.bootstrap(
        (x,), np.mean, n_resamples=500, confidence_level=0.9, method="percentile", vectorized=False,
        rng=np.random.default_rng(42),
    )
    assert ours.low == pytest.approx(theirs.confidence_interval.low, rel=1e-12)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, rel=1e-12)
    assert ours.estimate == pytest.approx(x.mean())


def test_seeded_and_reproducible():
    x = [0.5, 0.7, 0.9, 0.6]
    a = bootstrap_ci(x, np.mean, n_resamples=100, rng=3)
    assert a == bootstrap_ci(x, np.mean, n_resamples=100, rng=3)
    assert a != bootstrap_ci(x, np.mean, n_resamples=100, rng=4)
    assert a.low <= a.estimate <= a.high and a.n_images == 4 and a.confidence_level == 0.95


def test_any_aggregate_over_match_results():
    rng = np.random.default_rng(1)
    results = []
    for _ in range(6):
        y = rng.integers(0, 4, (6, 6))
        results.append(match_instances(y, np.where(rng.random((6, 6)) < 0.8, y, 0)))
    ci = bootstrap_ci(results, lambda rs: pool_results(rs).f1, n_resamples=50, rng=0)
    assert ci.estimate == pool_results(results).f1
    assert 0.0 <= ci.low <= ci.high <= 1.0


def test_single_image_gives_a_degenerate_interval():
    ci = bootstrap_ci([0.8], np.mean, n_resamples=20, rng=0)
    assert ci.low == ci.high == ci.estimate == 0.8


def test_validation():
    with pytest.raises(ValueError, match=r"`per_image` must hold at least one image"):
        bootstrap_ci([], np.mean)
    with pytest.raises(TypeError, match=r"`statistic` must be callable"):
        bootstrap_ci([1.0], "mean")
    with pytest.raises(ValueError, match=r"`confidence_level` must lie in \(0, 1\)"):
        bootstrap_ci([1.0], np.mean, confidence_level=95)
    with pytest.raises(ValueError, match=r"`n_resamples` must be a positive integer"):
        bootstrap_ci([1.0], np.mean, n_resamples=0)
