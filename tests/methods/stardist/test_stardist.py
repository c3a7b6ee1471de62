"""StarDist method: pure helpers, a tiny training run, save/load, quick-profile learning (slow)."""

import importlib.util

import numpy as np
import pytest

from bench.data import Sample, get_dataset
from bench.methods import Method, get_method
from bench.methods.stardist import PROFILES, choose_grid, working_scale
from bench.methods._shared import normalize

HAVE_STARDIST = all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "stardist"))
needs_stardist = pytest.mark.skipif(not HAVE_STARDIST, reason="tensorflow/stardist not installed (pip install 'bench[stardist]')")


def disks(seed, *, size=64, n=5, classes=True):
    """A tiny image of `n` non-overlapping disks (radius 5-7), bright ones class 1."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros((size, size), np.int32)
    image = rng.normal(0.05, 0.01, (size, size)).astype(np.float32)
    cls = {}
    k = 0
    for _ in range(200):
        if k == n:
            break
        r = rng.integers(5, 8)
        cy, cx = rng.integers(r + 1, size - r - 1, 2)
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        if labels[np.maximum(0, cy - r - 2):cy + r + 3, np.maximum(0, cx - r - 2):cx + r + 3].any():
            continue
        k += 1
        labels[disk] = k
        bright = bool(rng.integers(2))
        image[disk] += 1.0 if bright else 0.5
        cls[k] = int(bright)
    return Sample(name=f"d{seed}", image=image[..., None], channels=("dapi",), labels=labels,
                  classes=cls if classes else None)


# ---------------------------------------------------------------- pure helpers
def test_grid_follows_object_size():
    assert [choose_grid(d) for d in (4, 7.9, 8, 11, 20, 30, 64, 128, 1000)] == [1, 1, 2, 2, 2, 2, 4, 8, 8]
    with pytest.raises(ValueError, match="`diameter`"):
        choose_grid(0)


def test_working_scale_never_enlarges():
    assert working_scale(48, 24) == 0.5
    assert working_scale(12, 24) == 1.0
    assert working_scale(48, 0) == 1.0
    with pytest.raises(ValueError, match="`working_diameter`"):
        working_scale(10, -1)


def test_normalize_is_per_channel():
    img = np.stack([np.linspace(0, 1, 100), np.linspace(10, 30, 100)], axis=-1).reshape(10, 10, 2).astype(np.float32)
    out = normalize(img, (0, 100))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], out[..., 1], atol=1e-6)
    assert out.min() == pytest.approx(0) and out.max() == pytest.approx(1)


def test_profiles_are_ordered_by_budget():
    steps = {k: b.epochs * b.steps_per_epoch for k, b in PROFILES.items()}
    assert steps["ci"] < steps["quick"] < steps["full"]
    assert PROFILES["full"].epochs == 400 and PROFILES["full"].steps_per_epoch == 100
    assert PROFILES["full"].working_diameter == 0  # the paper's setting: no rescaling


@pytest.mark.parametrize("bad, match", [
    ({"n_rays": 2}, "n_rays"), ({"grid": 3}, "grid"), ({"epochs": 0}, "epochs"),
    ({"working_diameter": -2}, "working_diameter"), ({"profile": "huge"}, "profile"), ({"threads": -1}, "threads"),
])
def test_bad_params_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        get_method("stardist", **bad)


def test_ids_and_presets():
    assert get_method("stardist").id == "stardist"
    assert get_method("stardist_full").id == "stardist[profile=full]"
    assert get_method("stardist[grid=2,epochs=3]").params.grid == 2


def test_skips_datasets_without_instances():
    m = get_method("stardist")
    assert "semantic" in m.skip(get_dataset("synth-rosella").info)
    assert "detection" in m.skip(get_dataset("cellular-boxes").info)


def test_missing_library_is_a_skip_reason(monkeypatch):
    m = get_method("stardist")
    monkeypatch.setattr(type(m), "requires", ("tensorflow", "no_such_module_for_bench_tests"))
    reason = m.skip(get_dataset("nih3t3").info)
    assert "no_such_module_for_bench_tests" in reason and "bench[stardist]" in reason


def test_fit_rejects_unusable_data():
    m = get_method("stardist", profile="ci")
    with pytest.raises(ValueError, match="`val` is empty"):
        m.fit([disks(0)], [])
    s = disks(0)
    unlabelled = Sample(name="u", image=s.image, channels=s.channels)
    with pytest.raises(ValueError, match="no instance `labels`"):
        m.fit([unlabelled], [disks(1)])


def test_predict_before_fit_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        get_method("stardist").predict(np.zeros((8, 8, 1), np.float32))


# -------------------------------------------------------------- tiny training
@pytest.fixture(scope="module")
def tiny():
    if not HAVE_STARDIST:
        pytest.skip("tensorflow/stardist not installed (pip install 'bench[stardist]')")
    train = [disks(i) for i in range(3)]
    val = [disks(10 + i) for i in range(2)]
    test = disks(20, classes=False).image_only()
    m = get_method("stardist", profile="ci").fit(train, val, rng=0)
    return m, test


@needs_stardist
def test_tiny_training_loss_falls_and_thresholds_are_stored(tiny):
    m, _ = tiny
    loss = m.state["history"]["loss"]
    assert len(loss) == PROFILES["ci"].epochs
    assert loss[-1] < loss[0]
    assert 0 < m.state["thresholds"]["prob"] < 1 and m.state["thresholds"]["nms"] == 0.4
    assert m.state["grid"] == 2 and m.state["scale"] == 1.0  # disks of ~12 px
    assert m.state["train_seconds"] > 0


@needs_stardist
def test_tiny_fit_records_a_learning_curve(tiny):
    from bench.curves import CURVE_COLUMNS

    m, _ = tiny
    curve = m.learning_curve.frame()
    epochs = PROFILES["ci"].epochs
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert curve["step"].tolist() == list(range(1, epochs + 1)) and set(curve["unit"]) == {"epoch"}
    assert curve["train_loss"].tolist() == pytest.approx(m.state["history"]["loss"])
    assert curve["val_loss"].tolist() == pytest.approx(m.state["history"]["val_loss"])
    # F1 at the checkpoint epochs of the ci profile (half-way and the end: epochs 2 and 3 of 3)
    assert curve.dropna(subset=["val_f1"])["step"].tolist() == [2, 3] and curve["val_f1"].dropna().between(0, 1).all()
    assert m.learning_curve.overhead_s > 0


@needs_stardist
def test_tiny_prediction_shape_scores_classes(tiny):
    m, test = tiny
    pred = m.predict_full(test.image)
    assert pred.labels.dtype == np.int32 and pred.labels.shape == test.shape
    ids = set(np.unique(pred.labels[pred.labels > 0]).tolist())
    assert set(pred.scores) == ids and all(0 <= v <= 1 for v in pred.scores.values())
    assert pred.classes is not None and set(pred.classes) == ids
    assert set(pred.classes.values()) <= {0, 1}
    other = pred.labels.copy()
    other[:3, :3] = other.max() + 1
    with pytest.raises(ValueError, match="not this model's prediction"):
        m.predict_scores(test.image, other)


@needs_stardist
def test_tiny_save_load_round_trip(tiny, tmp_path):
    m, test = tiny
    path = m.save(tmp_path / "sd")
    assert (path / "stardist" / "thresholds.json").is_file() and (path / "stardist" / "weights_last.h5").is_file()
    loaded = Method.load(path)
    assert loaded.state["thresholds"] == m.state["thresholds"]
    assert loaded.state["history"] == m.state["history"]
    a, b = m.predict_full(test.image), loaded.predict_full(test.image)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.scores == b.scores and a.classes == b.classes


def test_load_rejects_a_folder_without_state(tmp_path):
    (tmp_path / "config.json").write_text(
        '{"method": "stardist", "id": "stardist", "params": {}, "channels": ["dapi"]}')
    with pytest.raises(ValueError, match="state.json"):
        Method.load(tmp_path)


# ---------------------------------------------------------------- slow: learns
@pytest.mark.slow
@needs_stardist
def test_quick_profile_beats_an_untrained_model():
    from bench.metrics import match_dataset
    from bench.splits import load_fit_data, load_test_truth

    train, val = load_fit_data("synth-lyso-easy", limit=8)
    test = load_test_truth("synth-lyso-easy", limit=3)
    truth = [s.labels for s in test]

    def f1(method):
        pred = [method.predict(s.image) for s in test]
        return match_dataset(y_true=truth, y_pred=pred).f1

    trained = get_method("stardist", profile="quick").fit(train, val, rng=0)
    barely = get_method("stardist", profile="ci", epochs=1, steps_per_epoch=1).fit(train, val, rng=0)
    f_trained, f_barely = f1(trained), f1(barely)
    assert f_trained >= 0.5 and f_trained >= f_barely + 0.3, (f_trained, f_barely)


@pytest.mark.slow
@needs_stardist
def test_training_is_repeatable_given_rng():
    train = [disks(i) for i in range(2)]
    val = [disks(10)]
    test = disks(20).image
    a = get_method("stardist", profile="ci").fit(train, val, rng=3)
    b = get_method("stardist", profile="ci").fit(train, val, rng=3)
    assert a.state["history"] == b.state["history"]
    np.testing.assert_array_equal(a.predict(test), b.predict(test))
