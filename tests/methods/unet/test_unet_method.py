"""Training, prediction and persistence of the `unet` method on tiny data."""

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from bench.data import Sample, get_dataset  # noqa: E402
from bench.methods import Method, get_method  # noqa: E402


def _fit(blobs, **kw):
    train, val, _ = blobs
    kw = {"profile": "ci", "depth": 3, "features": 8, **kw}
    return get_method("unet", **kw).fit(train, val, rng=0)


@pytest.fixture(scope="module")
def trained(blobs):
    return _fit(blobs, iterations=40)


def test_loss_falls(trained):
    loss = np.asarray(trained.history["loss"])
    assert loss.size == 40 and np.isfinite(loss).all()
    assert loss[-8:].mean() < 0.7 * loss[:8].mean()


def test_predictions_have_the_right_shape_dtype_classes_and_scores(trained, blobs):
    test = blobs[2][0]
    p = trained.predict_full(test.image_only())
    assert p.labels.shape == test.shape and p.labels.dtype == np.int32
    ids = set(np.unique(p.labels[p.labels > 0]).tolist())
    assert ids, "a trained network finds the bright discs"
    assert set(p.classes) == ids and set(p.classes.values()) <= {0, 1}
    assert set(p.scores) == ids and all(0.0 <= v <= 1.0 for v in p.scores.values())


def test_trained_beats_untrained(trained, blobs):
    from bench.metrics import match_instances

    untrained = _fit(blobs, iterations=0)
    test = blobs[2][0]
    f1_t = match_instances(y_true=test.labels, y_pred=trained.predict(test.image)).f1
    f1_u = match_instances(y_true=test.labels, y_pred=untrained.predict(test.image)).f1
    assert f1_t >= f1_u + 0.3, (f1_t, f1_u)


def test_fit_repeats_with_the_same_rng(blobs, trained):
    again = _fit(blobs, iterations=40)
    assert again.history["loss"] == trained.history["loss"]
    img = blobs[2][0].image
    np.testing.assert_array_equal(again.predict_probs(img), trained.predict_probs(img))


def test_save_load_round_trip(trained, blobs, tmp_path):
    path = trained.save(tmp_path / "m")
    for f in ("config.json", "weights.pt", "unet.json", "history.json"):
        assert (path / f).is_file(), f
    state = json.loads((path / "unet.json").read_text())
    assert state["thresholds"]["val_f1"] is not None and state["config"]["n_outputs"] == 4
    assert json.loads((path / "history.json").read_text())["loss"] == trained.history["loss"]
    loaded = Method.load(path)
    assert loaded.id == trained.id and loaded.thresholds == trained.thresholds
    img = blobs[2][0].image
    a, b = trained.predict_full(img), loaded.predict_full(img)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.classes == b.classes and a.scores == b.scores


def test_thresholds_come_from_validation_not_test(blobs, monkeypatch):
    """The tuner sees exactly the validation samples' labels."""
    import bench.methods.unet.method as unet_method

    seen = []
    real = unet_method.tune_thresholds

    def spy(probs, truth, **kw):
        seen.extend(truth)
        return real(probs, truth, **kw)

    monkeypatch.setattr(unet_method, "tune_thresholds", spy)  # where UNetMethod.fit looks it up
    train, val, _ = blobs
    _fit(blobs, iterations=2)
    assert len(seen) == len(val)
    for t, s in zip(seen, val):
        np.testing.assert_array_equal(t, s.labels)


def test_tiled_prediction_equals_untiled_on_a_fitting_image(trained, blobs):
    tiled = get_method(trained.id, tile=32, overlap=8)
    tiled.channels, tiled.config, tiled.thresholds = trained.channels, trained.config, trained.thresholds
    tiled.model, tiled.fitted = trained.model, True
    img = blobs[2][0].image
    a, b = trained.predict_probs(img), tiled.predict_probs(img)
    assert np.abs(a - b).mean() < 0.02
    assert (a.argmax(0) == b.argmax(0)).mean() > 0.97


def test_odd_image_sizes(trained):
    rng = np.random.default_rng(0)
    for shape in [(45, 71), (9, 13)]:
        img = rng.random((*shape, 2), dtype=np.float32)
        lab = trained.predict_full(img).labels
        assert lab.shape == shape and lab.dtype == np.int32


def test_single_class_dataset_has_no_classes_but_scores(blobs):
    train, val, test = ([dataclasses.replace(s, classes=None) for s in part] for part in blobs)
    m = get_method("unet", profile="ci", depth=3, features=8, iterations=3).fit(train, val, rng=0)
    assert m.config["n_outputs"] == 3
    p = m.predict_full(test[0].image)
    assert p.classes is None and p.scores is not None


def test_scale_shrinks_large_objects(blobs):
    m = _fit(blobs, iterations=2, scale=0.5)
    assert m.config["scale"] == 0.5
    img = blobs[2][0].image
    assert m._work_probs(img).shape[1:] == (32, 32)
    assert m.predict(img).shape == (64, 64)


def test_gdice_and_combined_losses_train(blobs):
    for loss in ("gdice", "ce+gdice"):
        m = _fit(blobs, iterations=3, loss=loss)
        assert len(m.history["loss"]) == 3 and np.isfinite(m.history["loss"]).all()


def test_semantic_dataset_predicts_pixel_classes():
    rng = np.random.default_rng(0)

    def sample(i):
        sem = np.zeros((32, 32), np.int32)
        sem[4:14, 4:14] = 1
        sem[18:28, 16:30] = 2
        img = rng.normal(0.1, 0.02, (32, 32, 2)).astype(np.float32)
        img[..., 0] += 0.8 * (sem == 1)
        img[..., 1] += 0.8 * (sem > 0)
        return Sample(name=f"s{i}", image=img, channels=("gfp", "rfp"), semantic=sem)

    m = get_method("unet", profile="ci", depth=3, features=8, iterations=20)
    m.fit([sample(i) for i in range(3)], [sample(9)], rng=0)
    assert m.thresholds is None and m.config["n_outputs"] == 3
    out = m.predict_full(sample(5).image)
    assert out.labels.dtype == np.int32 and out.labels.max() <= 2
    assert out.classes is None and out.scores is None


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="`depth`"):
        get_method("unet", depth=1)
    with pytest.raises(ValueError, match="`tile`"):
        get_method("unet", depth=7, tile=100)
    with pytest.raises(ValueError, match="`labels`"):
        get_method("unet", labels="weak")
    with pytest.raises(ValueError, match="`iterations`"):
        get_method("unet", iterations=-1)


def test_ids_and_presets_are_deterministic():
    assert get_method("unet7x16").id == get_method("unet[features=16,depth=7]").id
    assert get_method("unet7x16").params.depth == 7 and get_method("unet5x64").params.features == 64
    assert get_method("unet_cdl").params.labels == "weak:isodata_watershed"
    assert get_method(get_method("unet_cdl").id).params == get_method("unet_cdl").params


def test_skip_reasons():
    m = get_method("unet")
    assert m.skip(get_dataset("synth-lyso").info) is None
    assert m.skip(get_dataset("synth-rosella").info) is None
    assert "cellular-boxes" in m.skip(get_dataset("cellular-boxes").info)
    assert "not available" in get_method("unet", labels="weak:no_such_method").skip(get_dataset("synth-lyso").info)


def test_predict_before_fit_raises():
    with pytest.raises(RuntimeError, match="fit"):
        get_method("unet").predict(np.zeros((8, 8, 2), np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("recipe,optimizer,lr", [("lysoquant", "adam", 1e-4), ("cdl", "sgd", 1e-3)])
def test_full_profile_uses_the_papers_recipes(blobs, recipe, optimizer, lr):
    m = _fit(blobs, profile="full", recipe=recipe, iterations=2)
    b = m.config["budget"]
    assert b["optimizer"] == optimizer and b["lr"] == lr and b["iterations"] == 2
    assert len(m.history["loss"]) == 2
    if recipe == "cdl":
        assert b["momentum"] == 0.9 and b["weight_decay"] == 1e-3 and b["batch"] == 8


def test_full_budgets_match_the_papers():
    from bench.methods.unet._training import budget_for

    lq = budget_for("full", "lysoquant", iterations=None, patches_per_epoch=1)
    assert lq.iterations == 300_000 and lq.lr_at(0) == 1e-4 and lq.lr_at(299_999) == 5e-5
    cdl = budget_for("full", "cdl", iterations=None, patches_per_epoch=16)  # 2 steps per epoch
    assert cdl.iterations == 30 and cdl.optimizer == "sgd"
    assert [round(cdl.lr_at(2 * e) / 1e-3, 4) for e in (0, 2, 3, 6, 9, 12, 14)] == [1, 1, 0.8, 0.64, 0.512, 0.4096, 0.4096]


def test_fit_records_a_learning_curve(trained):
    from bench.curves import CI_CHECKPOINT_FRACTIONS, CURVE_COLUMNS, checkpoint_steps

    curve = trained.learning_curve.frame()  # a `ci` fit: the cheap curve (3 checkpoints)
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert curve["step"].tolist() == checkpoint_steps(40, CI_CHECKPOINT_FRACTIONS) == [0, 20, 40]
    assert curve["fraction"].tolist() == [0.0, 0.5, 1.0]
    assert np.isnan(curve["train_loss"].iloc[0]) and np.isfinite(curve["train_loss"].iloc[1:]).all()
    # the mean training loss of each chunk is the mean of the recorded per-step losses
    loss = np.asarray(trained.history["loss"])
    assert curve["train_loss"].iloc[1] == pytest.approx(loss[:20].mean(), rel=1e-4)
    assert np.isfinite(curve["val_loss"]).all() and curve["val_loss"].iloc[-1] < curve["val_loss"].iloc[0]
    assert curve["val_f1"].between(0, 1).all() and curve["val_f1"].iloc[-1] > curve["val_f1"].iloc[0]
    assert trained.learning_curve.overhead_s > 0
    assert trained.history["checkpoint_seconds"] == pytest.approx(trained.learning_curve.overhead_s)
