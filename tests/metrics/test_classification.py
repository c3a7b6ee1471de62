"""Per-object classification metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import classification_metrics

sk = pytest.importorskip("sklearn.metrics", reason="the cross-checks need scikit-learn")


def test_golden():
    r = classification_metrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], scores=[0.9, 0.4, 0.2, 0.6, 0.8])
    assert (r.n, r.tp, r.fp, r.fn, r.tn) == (5, 2, 1, 1, 1)
    assert r.precision == r.recall == r.f1 == 2 / 3
    assert r.mcc == pytest.approx(1 / 6)  # (2*1 - 1*1) / sqrt(3*3*2*2)
    assert r.roc_auc == pytest.approx(5 / 6)  # 5 of 6 positive-negative pairs ordered


@pytest.mark.parametrize("seed", range(10))
def test_equals_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    y_true = rng.integers(0, 2, n)
    scores = np.round(rng.random(n) + 0.4 * y_true, 1)  # coarse: ties included
    y_pred = (scores > 0.7).astype(int)
    if y_true.min() == y_true.max():
        y_true[0] = 1 - y_true[0]
    r = classification_metrics(y_true, y_pred, scores=scores)
    assert r.precision == pytest.approx(sk.precision_score(y_true, y_pred, zero_division=0))
    assert r.recall == pytest.approx(sk.recall_score(y_true, y_pred, zero_division=0))
    assert r.f1 == pytest.approx(sk.f1_score(y_true, y_pred, zero_division=0))
    assert r.mcc == pytest.approx(sk.matthews_corrcoef(y_true, y_pred))
    assert r.roc_auc == pytest.approx(sk.roc_auc_score(y_true, scores))


def test_string_classes_and_positive():
    y_true = ["loaded", "empty", "loaded", "empty"]
    y_pred = ["loaded", "loaded", "empty", "empty"]
    r = classification_metrics(y_true, y_pred, positive="loaded")
    assert (r.tp, r.fp, r.fn, r.tn) == (1, 1, 1, 1)
    assert r.precision == pytest.approx(sk.precision_score(y_true, y_pred, pos_label="loaded"))
    assert np.isnan(r.roc_auc)


def test_empty_convention_and_degenerate_cases():
    r = classification_metrics([0, 0, 0], [0, 0, 0], scores=[0.1, 0.2, 0.3])
    assert (r.precision, r.recall, r.f1) == (1.0, 1.0, 1.0)  # no positive anywhere
    assert r.mcc == 0.0  # as scikit-learn (which also warns)
    assert np.isnan(r.roc_auc)  # one class only: undefined
    r = classification_metrics([1, 1], [0, 0])
    assert (r.precision, r.recall, r.f1) == (0.0, 0.0, 0.0)
    r = classification_metrics([], [])
    assert r.n == 0 and r.f1 == 1.0


def test_validation():
    with pytest.raises(ValueError, match=r"`y_true` \(shape \(3,\)\) must have the same shape as `y_pred` \(shape \(2,\)\)"):
        classification_metrics([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match=r"`scores` \(shape \(1,\)\) must have the same shape as `y_true`"):
        classification_metrics([1, 0], [1, 0], scores=[0.5])
    with pytest.raises(ValueError, match=r"must be 1-d"):
        classification_metrics([[1, 0]], [[1, 0]])
