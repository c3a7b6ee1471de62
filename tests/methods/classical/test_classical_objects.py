"""The shared per-object classifier: features, matching, accuracy on synth-lyso-easy, persistence."""

import numpy as np
import pytest

from bench.methods._shared import (
    ObjectClassifier,
    matched_classes,
    object_feature_names,
    object_features,
)
from bench.splits import load_fit_data, load_test_truth


def test_object_features_golden():
    img = np.zeros((8, 8, 2), np.float32)
    img[..., 0] = 0.5  # background of channel 0
    img[2:4, 2:4, 0] = [[1.0, 2.0], [3.0, 4.0]]
    img[2:4, 2:4, 1] = 1.0
    lab = np.zeros((8, 8), np.int32)
    lab[2:4, 2:4] = 7
    ids, X = object_features(img, lab, rim=1)
    names = object_feature_names(["a", "b"])
    row = dict(zip(names, X[0]))
    assert ids.tolist() == [7] and X.shape == (1, len(names))
    assert row["a:mean"] == pytest.approx(2.5)
    assert row["a:p10"] == 1.0 and row["a:p90"] == 3.0  # nearest-rank percentiles
    assert row["a:rim"] == pytest.approx(0.5)
    assert row["b:rim"] == 0.0 and row["b:mean"] == 1.0
    assert row["log_area"] == pytest.approx(np.log(4))


def test_object_percentiles_match_numpy_on_random_labels():
    rng = np.random.default_rng(0)
    img = rng.random((30, 30, 1)).astype(np.float32)
    lab = rng.integers(0, 6, (30, 30)).astype(np.int32)
    ids, X = object_features(img, lab, rim=1)
    names = object_feature_names(["a"])
    for i, obj in enumerate(ids):
        v = np.sort(img[..., 0][lab == obj])
        for q, name in ((0.1, "a:p10"), (0.5, "a:p50"), (0.9, "a:p90")):
            assert X[i, names.index(name)] == v[int(np.floor(q * (v.size - 1)))]
        assert X[i, names.index("a:mean")] == pytest.approx(v.mean(), rel=1e-5)


def test_empty_labels_and_validation():
    ids, X = object_features(np.zeros((4, 4, 2), np.float32), np.zeros((4, 4), np.int32))
    assert ids.size == 0 and X.shape == (0, len(object_feature_names(["a", "b"])))
    with pytest.raises(ValueError, match="`labels`"):
        object_features(np.zeros((4, 4, 1)), np.zeros((4, 5), np.int32))
    with pytest.raises(TypeError, match="`labels`"):
        object_features(np.zeros((4, 4, 1)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="`rim`"):
        ObjectClassifier(rim=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        ObjectClassifier().predict(np.zeros((4, 4, 1)), np.zeros((4, 4), np.int32))
    with pytest.raises(ValueError, match="no object with a class"):
        ObjectClassifier().fit([np.zeros((4, 4, 1))], [np.zeros((4, 4), np.int32)], [{}])


def test_matched_classes_transfers_true_class_to_matched_prediction():
    t = np.array([[1, 1, 0, 2, 2, 0, 3]])
    p = np.array([[5, 5, 0, 0, 6, 0, 0]])  # 6 overlaps 2 with IoU 0.5; 3 is missed
    assert matched_classes(t, p, {1: 0, 2: 1, 3: 1}) == {5: 0, 6: 1}
    assert matched_classes(t, p, {1: 0, 2: 1}, iou_threshold=0.6) == {5: 0}


@pytest.fixture(scope="module")
def lyso_easy():
    train, val = load_fit_data("synth-lyso-easy", limit=6)
    test = load_test_truth("synth-lyso-easy", limit=4)
    return train, test


def test_object_classifier_separates_empty_from_loaded(lyso_easy, tmp_path):
    train, test = lyso_easy
    clf = ObjectClassifier(rng=0).fit([s.image for s in train], [s.labels for s in train],
                                      [s.classes for s in train])
    assert clf.classes_.tolist() == [0, 1]
    correct = total = 0
    for s in test:  # test truth objects, only for scoring here
        pred = clf.predict(s.image, s.labels)
        assert set(pred) == set(s.classes)
        correct += sum(pred[k] == v for k, v in s.classes.items())
        total += len(s.classes)
    assert correct / total >= 0.95
    # persistence: identical predictions after a round trip
    clf2 = ObjectClassifier.load(clf.save(tmp_path / "clf.joblib"))
    assert clf2.predict(test[0].image, test[0].labels) == clf.predict(test[0].image, test[0].labels)
    with pytest.raises(ValueError, match="different number of channels"):
        clf.predict(test[0].image[..., :1], test[0].labels)


def test_fit_matched_uses_predictions_and_is_deterministic(lyso_easy):
    train, _ = lyso_easy
    imgs = [s.image for s in train[:3]]
    truth = [s.labels for s in train[:3]]
    classes = [s.classes for s in train[:3]]
    # a "prediction" that shifts every object by one pixel still matches at IoU >= 0.5
    preds = [np.roll(t, 1, axis=1) for t in truth]
    a = ObjectClassifier(rng=1).fit_matched(imgs, y_true=truth, true_classes=classes, y_pred=preds,
                                            include_truth=False)
    b = ObjectClassifier(rng=1).fit_matched(imgs, y_true=truth, true_classes=classes, y_pred=preds,
                                            include_truth=False)
    assert a.n_train_ == sum(len(c) for c in classes)
    pa, pb = a.predict_proba(imgs[0], preds[0])[1], b.predict_proba(imgs[0], preds[0])[1]
    np.testing.assert_array_equal(pa, pb)
    with pytest.raises(ValueError, match="same length"):
        a.fit_matched(imgs, y_true=truth[:2], true_classes=classes, y_pred=preds)
