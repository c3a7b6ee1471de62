"""Method-specific tests of the six classical methods on the easy synthetic data.

Each method is fitted once per module on a few synth-lyso-easy images (train and
validation splits only) and scored on test images with ``bench.metrics``.
"""

import numpy as np
import pytest

from bench.data import Sample, get_dataset
from bench.methods import Method, get_method
from bench.metrics import boxes_from_labels, match_boxes, match_instances, matched_pairs
from bench.splits import load_fit_data, load_test_images, load_test_truth

METHODS = ["isodata_watershed", "auto_threshold", "random_forest", "svm", "hough", "log_spots"]
N_TRAIN = 4
N_TEST = 3


def pooled_f1(method, images, truths):
    tp = nt = npred = 0
    for x, y in zip(images, truths):
        r = match_instances(y_true=y.labels, y_pred=method.predict(x.image))
        tp, nt, npred = tp + r.tp, nt + r.n_true, npred + r.n_pred
    return 2 * tp / (nt + npred)


@pytest.fixture(scope="module")
def lyso():
    train, val = load_fit_data("synth-lyso-easy", limit=N_TRAIN)
    return train, val[:2], load_test_images("synth-lyso-easy", limit=N_TEST), load_test_truth(
        "synth-lyso-easy", limit=N_TEST
    )


@pytest.fixture(scope="module")
def fitted(lyso):
    train, val, _, _ = lyso
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = get_method(name, max_fit_images=N_TRAIN).fit(train, val, rng=0)
        return cache[name]

    return get


@pytest.mark.parametrize("name", METHODS)
def test_f1_on_synth_lyso_easy(name, lyso, fitted):
    _, _, images, truths = lyso
    m = fitted(name)
    assert m.fitted and m.state["mode"] == "instance"
    assert pooled_f1(m, images, truths) >= 0.9


@pytest.mark.parametrize("name", METHODS)
def test_classes_of_every_predicted_object(name, lyso, fitted):
    _, _, images, truths = lyso
    m = fitted(name)
    correct = total = 0
    for x, y in zip(images, truths):
        full = m.predict_full(x)
        labels, pred = full.labels, full.classes
        assert set(pred) == set(np.unique(labels[labels > 0]).tolist())
        assert set(pred.values()) <= {0, 1}
        t, p, _ = matched_pairs(y_true=y.labels, y_pred=labels)
        correct += sum(pred[int(j)] == y.classes[int(i)] for i, j in zip(t, p))
        total += t.size
    assert correct / total >= 0.9


@pytest.mark.parametrize("name", METHODS)
def test_save_load_round_trip(name, lyso, fitted, tmp_path):
    _, _, images, _ = lyso
    m = fitted(name)
    m2 = Method.load(m.save(tmp_path / name))
    assert type(m2) is type(m) and m2.id == m.id and m2.channels == m.channels
    assert m2.tuned == m.tuned and m2.state["channel"] == m.state["channel"]
    x = images[0].image
    a, b = m.predict(x), m2.predict(x)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int32 and a.shape == x.shape[:2]
    assert m2.predict_classes(x, a) == m.predict_classes(x, a)


@pytest.mark.parametrize("name", METHODS)
def test_deterministic_given_rng(name, lyso):
    train, val, images, _ = lyso
    fits = [get_method(name, profile="ci").fit(train[:2], val[:1], rng=7) for _ in range(2)]
    assert fits[0].state == fits[1].state and fits[0].state["budget"]["max_fit_images"] == 2
    np.testing.assert_array_equal(fits[0].predict(images[0].image), fits[1].predict(images[0].image))


def test_pixel_classifiers_random_state_changes_with_rng(lyso):
    train, val, images, _ = lyso
    a = get_method("random_forest", profile="ci").fit(train[:2], val[:1], rng=1)
    b = get_method("random_forest", profile="ci").fit(train[:2], val[:1], rng=2)
    pa = a._proba(a.work_image(images[0].image))
    pb = b._proba(b.work_image(images[0].image))
    assert not np.array_equal(pa, pb)


@pytest.mark.parametrize("name", ["random_forest", "svm"])
def test_semantic_output_on_synth_rosella_easy(name):
    info = get_dataset("synth-rosella-easy").info
    m = get_method(name)
    assert m.skip(info) is None
    train, val = load_fit_data("synth-rosella-easy", limit=3)
    m.fit(train, val, rng=0)
    assert m.state["mode"] == "semantic"
    correct = total = 0
    for x, y in zip(load_test_images("synth-rosella-easy", limit=2), load_test_truth("synth-rosella-easy", limit=2)):
        pred = m.predict_full(x)
        assert pred.labels.dtype == np.int32 and pred.classes is None
        assert set(np.unique(pred.labels).tolist()) <= set(range(len(info.semantic_names)))
        for c in range(len(info.semantic_names)):  # every class is found where it is
            if (y.semantic == c).sum() > 50:
                assert (pred.labels[y.semantic == c] == c).mean() > 0.5, c
        correct += int((pred.labels == y.semantic).sum())
        total += y.semantic.size
    assert correct / total >= 0.9


@pytest.mark.parametrize("name", ["isodata_watershed", "auto_threshold", "hough", "log_spots"])
def test_threshold_methods_skip_semantic_datasets(name):
    info = get_dataset("synth-rosella-easy").info
    assert "semantic" in (get_method(name).skip(info) or "")
    train, val = load_fit_data("synth-rosella-easy", limit=1)
    with pytest.raises(ValueError, match="semantic"):
        get_method(name).fit(train, val, rng=0)


@pytest.mark.parametrize("name", ["isodata_watershed", "random_forest"])
def test_detection_protocol_tunes_on_boxes(name, lyso):
    """Boxes only (as cellular-boxes): sizes, channel and tuning come from the boxes."""
    train, val, images, truths = lyso

    def boxes_only(s):
        return Sample(s.name, s.image, s.channels, boxes=boxes_from_labels(s.labels))

    m = get_method(name, max_fit_images=N_TRAIN).fit([boxes_only(s) for s in train],
                                                     [boxes_only(s) for s in val], rng=0)
    assert m.state["mode"] == "detection" and m.state["stats"]["source"] == "boxes"
    assert m.object_classifier is None
    tp = nt = npred = 0
    for x, y in zip(images, truths):
        r = match_boxes(true_boxes=boxes_from_labels(y.labels), pred_boxes=boxes_from_labels(m.predict(x.image)))
        tp, nt, npred = tp + r.tp, nt + r.n_true, npred + r.n_pred
    assert 2 * tp / (nt + npred) >= 0.9


def test_explicit_channel_and_errors(lyso):
    train, val, images, _ = lyso
    m = get_method("isodata_watershed[channel=lamp1,sigma=1.0,profile=ci]").fit(train[:2], val[:1], rng=0)
    assert m.state["channel"] == "lamp1" and m.tuned["sigma"] == 1.0
    with pytest.raises(ValueError, match="`channel`='gfp'"):
        get_method("isodata_watershed", channel="gfp", profile="ci").fit(train[:2], val[:1], rng=0)
    with pytest.raises(ValueError, match="`sigma`"):
        get_method("isodata_watershed", sigma=-1)
    with pytest.raises(ValueError, match="`sensitivity`"):
        get_method("hough", sensitivity=1.5)
    with pytest.raises(ValueError, match="`features`"):
        get_method("random_forest", features=("sobel",))
    with pytest.raises(ValueError, match="must be one of"):
        get_method("auto_threshold", method="huang")
    with pytest.raises(ValueError, match="must be one of"):
        get_method("svm", profile="huge")
    with pytest.raises(RuntimeError, match="fit"):
        get_method("hough").predict(images[0].image)
    with pytest.raises(ValueError, match="channel"):
        m.predict(images[0].image[..., :1])
    with pytest.raises(ValueError, match="labels, semantic labels or boxes"):
        get_method("hough").fit([train[0].image_only()], [], rng=0)


def test_auto_threshold_excludes_undefined_thresholds():
    from bench.methods.classical.auto_threshold import ThresholdFailed, threshold_mask

    flat = np.zeros((8, 8), np.float32)
    with pytest.raises(ThresholdFailed):
        threshold_mask(flat, "otsu")
    with pytest.raises(ValueError, match="`method`"):
        threshold_mask(flat + np.eye(8, dtype=np.float32), "huang")
