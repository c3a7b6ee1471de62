"""Rank bootstrap, Holm correction and the significance map, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import MatchResult, pool_results
from bench.metrics.ranking import holm, rank_bootstrap, rank_scores, significance_map


def test_rank_scores_competition_ranking_and_nan_last():
    assert rank_scores([0.2, 0.9, 0.9, np.nan, 0.1]).tolist() == [3, 1, 1, 5, 4]
    assert rank_scores([0.2, 0.9, 0.1], higher_is_better=False).tolist() == [2, 3, 1]


def test_two_identical_methods_have_equal_rank_distributions_and_no_difference():
    rng = np.random.default_rng(1)
    scores = rng.uniform(0.3, 0.9, 12)
    other = scores - 0.2  # clearly worse third method
    boot = rank_bootstrap({"a": scores, "b": scores.copy(), "c": other}, np.mean, n_resamples=300, rng=0)
    # tied methods share rank 1 in every resample: identical distributions
    np.testing.assert_array_equal(boot.resampled_ranks[:, 0], boot.resampled_ranks[:, 1])
    np.testing.assert_array_equal(boot.frequencies[0], boot.frequencies[1])
    assert boot.frequencies[0].tolist() == [1.0, 0.0, 0.0]
    assert (boot.resampled_ranks[:, 2] == 3).all()
    sig = significance_map({"a": scores, "b": scores.copy(), "c": other})
    assert sig.pvalues[0, 1] == 1.0 and sig.pvalues[1, 0] == 1.0
    assert not sig.significant[0, 1] and not sig.significant[1, 0]
    # 12 images all better by 0.2: exact one-sided p = 2**-12, Holm over 6 pairs
    assert sig.pvalues[0, 2] == pytest.approx(2.0**-12)
    assert sig.adjusted[0, 2] == pytest.approx(min(1.0, 6 * 2.0**-12), rel=1e-9)
    assert sig.significant[0, 2] and sig.significant[1, 2]
    assert not sig.significant[2, 0]
    assert sig.better_than("a") == ["c"]


def test_dominating_method_is_first_in_at_least_95_percent_of_resamples():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.4, 0.8, 20)
    methods = {"weak": base, "middle": base + rng.normal(0.0, 0.05, 20), "strong": base + 0.15}
    boot = rank_bootstrap(methods, np.mean, n_resamples=500, rng=3)
    assert boot.p_first()[2] >= 0.95
    low, high = boot.rank_interval
    assert (low[2], high[2]) == (1, 1)
    assert boot.median_rank[2] == 1


def test_pooled_statistic_is_recomputed_per_resample():
    """Ranking by pooled F1 (as the leaderboard) can differ from the mean of per-image F1."""
    def mr(n_true, n_pred, tp):
        return MatchResult.from_counts(criterion="iou", threshold=0.5, n_true=n_true, n_pred=n_pred, tp=tp,
                                       sum_matched_iou=0.8 * tp)
    # a: perfect on a 1-object image, bad on a 100-object image; b the reverse in weight
    a = [mr(1, 1, 1), mr(100, 100, 50)]
    b = [mr(1, 1, 0), mr(100, 100, 60)]
    boot = rank_bootstrap({"a": a, "b": b}, lambda rs: pool_results(rs).f1, n_resamples=50, rng=0)
    assert boot.scores[0] == pytest.approx(51 / 101) and boot.scores[1] == pytest.approx(60 / 101)
    assert boot.ranks.tolist() == [2, 1]


def test_seeded_rng_reproduces():
    per = {"a": [0.1, 0.5, 0.9, 0.3], "b": [0.2, 0.4, 0.8, 0.35]}
    r1 = rank_bootstrap(per, np.mean, n_resamples=100, rng=7)
    r2 = rank_bootstrap(per, np.mean, n_resamples=100, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(r1.resampled_ranks, r2.resampled_ranks)
    assert r1.frequencies.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])


def test_holm_against_worked_example():
    # m = 5: sorted 0.001, 0.01, 0.02, 0.04, 0.3 times 5, 4, 3, 2, 1 = 0.005, 0.04, 0.06, 0.08, 0.3
    p = np.array([0.04, 0.001, 0.3, 0.02, 0.01])
    np.testing.assert_allclose(holm(p), [0.08, 0.005, 0.3, 0.06, 0.04])
    # running maximum: a later smaller product is raised to the earlier one; capped at 1
    np.testing.assert_allclose(holm([0.02, 0.021, 0.9]), [0.06, 0.06, 0.9])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    # NaNs do not count in m
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and out[[0, 2]].tolist() == pytest.approx([0.02, 0.04])


def test_holm_matches_statsmodels_style_reference():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 9)
    order = np.argsort(p)
    m = p.size
    expected = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        expected[i] = min(1.0, running)
    np.testing.assert_allclose(holm(p), expected)


def test_two_images_can_never_be_significant():
    sig = significance_map({"a": [0.9, 0.95], "b": [0.1, 0.2]})
    assert sig.pvalues[0, 1] == pytest.approx(0.25)
    assert not sig.significant.any()


def test_lower_is_better_direction():
    sig = significance_map({"err_small": [0.1] * 8, "err_big": [0.5 + 0.01 * k for k in range(8)]},
                           higher_is_better=False)
    assert sig.significant[0, 1] and not sig.significant[1, 0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"per_image": {"a": [1.0, 2.0], "b": [1.0]}}, "same images"),
        ({"per_image": {}}, "non-empty"),
        ({"per_image": {"a": [1.0]}, "n_resamples": 0}, "n_resamples"),
        ({"per_image": {"a": [1.0]}, "confidence_level": 1.5}, "confidence_level"),
    ],
)
def test_rank_bootstrap_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        rank_bootstrap(statistic=np.mean, **kwargs)


def test_significance_and_holm_reject_bad_input():
    with pytest.raises(ValueError, match="one score per image"):
        significance_map({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="alpha"):
        significance_map({"a": [1.0]}, alpha=0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.5, 1.5])


def test_array_items_are_resampled_like_lists():
    rng = np.random.default_rng(4)
    a, b = rng.uniform(size=(7, 2)), rng.uniform(size=(7, 2))
    stat = lambda x: float(np.asarray(x).sum(axis=0)[0] / max(np.asarray(x).sum(axis=0)[1], 1e-9))  # noqa: E731
    r1 = rank_bootstrap({"a": a, "b": b}, stat, n_resamples=64, rng=5)
    r2 = rank_bootstrap({"a": list(a), "b": list(b)}, stat, n_resamples=64, rng=5)
    np.testing.assert_array_equal(r1.resampled_ranks, r2.resampled_ranks)
