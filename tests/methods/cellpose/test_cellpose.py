"""Cellpose method: channel choice, weights lookup without downloads, tiny training, save/load."""

import importlib.util
import socket
import urllib.request

import numpy as np
import pytest

from bench.data import Sample, get_dataset
from bench.methods import Method, get_method
from bench.methods.cellpose import PROFILES, choose_channels, to_cellpose_planes
from bench.methods.cellpose import weights as W

HAVE_CELLPOSE = all(importlib.util.find_spec(m) is not None for m in ("torch", "cellpose"))
needs_cellpose = pytest.mark.skipif(not HAVE_CELLPOSE, reason="torch/cellpose not installed (pip install 'bench[torch]')")


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test on any network access or on Cellpose's downloader being reached."""

    def guard(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)
    monkeypatch.setattr(urllib.request, "urlopen", guard)
    if HAVE_CELLPOSE:
        from bench.methods.cellpose.method import import_cellpose

        models, _, _ = import_cellpose()
        import cellpose.utils

        monkeypatch.setattr(cellpose.utils, "download_url_to_file", guard)
        monkeypatch.setattr(models, "cache_model_path", guard)


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    """No pretrained weights in any folder searched (HOME and the env var point to empty folders)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", str(tmp_path / "env-models"))
    return tmp_path


def disks(seed, *, size=64, n=5, channels=("dapi",)):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros((size, size), np.int32)
    plane = rng.normal(0.05, 0.01, (size, size)).astype(np.float32)
    cls, k = {}, 0
    for _ in range(200):
        if k == n:
            break
        r = rng.integers(5, 8)
        cy, cx = rng.integers(r + 1, size - r - 1, 2)
        if labels[max(0, cy - r - 2):cy + r + 3, max(0, cx - r - 2):cx + r + 3].any():
            continue
        k += 1
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        labels[disk] = k
        bright = bool(rng.integers(2))
        plane[disk] += 1.0 if bright else 0.5
        cls[k] = int(bright)
    image = np.repeat(plane[..., None], len(channels), axis=2)
    return Sample(name=f"d{seed}", image=image, channels=tuple(channels), labels=labels, classes=cls)


# --------------------------------------------------------------- channel choice
@pytest.mark.parametrize("channels, pretrained, expected", [
    (("hoechst",), False, (0, None)),
    (("gfp",), True, (0, None)),
    (("lamp1", "cargo"), False, (0, 1)),
    (("lamp1", "cargo"), True, (0, None)),
    (("gfp", "rfp", "transmitted"), False, (2, 1)),
    (("gfp", "rfp", "transmitted"), True, (2, None)),
    (("red", "green", "blue"), False, (2, 0)),
    (("red", "green", "blue"), True, (2, None)),
    (("dapi", "gfp"), False, (1, 0)),
    (("dapi", "gfp"), True, (1, 0)),
    (("Brightfield", "DAPI"), True, (0, 1)),
])
def test_channel_choice_rules(channels, pretrained, expected):
    assert choose_channels(channels, pretrained=pretrained) == expected


def test_planes_are_normalised_and_zero_when_absent():
    img = np.zeros((10, 10, 2), np.float32)
    img[..., 0] = np.arange(100).reshape(10, 10)
    out = to_cellpose_planes(img, (0, None))
    assert out.shape == (2, 10, 10) and out.dtype == np.float32
    assert out[0].min() < 0.01 and out[0].max() > 0.99 and not out[1].any()
    assert not to_cellpose_planes(img, (1, None)).any()  # a flat plane gives zeros, not NaN


def test_explicit_channels_override_and_are_checked():
    m = get_method("cellpose[channels=(transmitted;gfp)]")
    assert m._planes(("gfp", "rfp", "transmitted")) == (2, 0)
    with pytest.raises(ValueError, match="not among the data's channels"):
        get_method("cellpose[channels=(dapi)]")._planes(("gfp",))
    with pytest.raises(ValueError, match="at most 2"):
        get_method("cellpose", channels=("a", "b", "c"))


# ------------------------------------------------------------------ parameters
def test_presets_and_ids():
    assert get_method("cellpose_scratch").id == "cellpose"
    assert get_method("cellpose_cyto2").id == "cellpose[init=cyto2,train=False]"
    assert get_method("cellpose_cyto2_finetuned").id == "cellpose[init=cyto2]"
    assert get_method("cellpose_cyto").params.init == "cyto"


@pytest.mark.parametrize("bad, match", [
    ({"init": "scratch", "train": False}, "needs train=true"),
    ({"init": "cyto9"}, "init"),
    ({"epochs": 0}, "epochs"),
    ({"threads": -1}, "threads"),
])
def test_bad_params_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        get_method("cellpose", **bad)


def test_profiles():
    assert PROFILES["full"].epochs == 500 and PROFILES["full"].learning_rate == 0.2
    assert PROFILES["full"].batch_size == 8 and PROFILES["full"].sgd
    assert PROFILES["full"].nbase == (32, 64, 128, 256)
    assert PROFILES["ci"].epochs < PROFILES["quick"].epochs < PROFILES["full"].epochs


# --------------------------------------------------------- pretrained weights
@pytest.mark.parametrize("preset", ["cellpose_cyto", "cellpose_cyto2", "cellpose_cyto2_finetuned"])
def test_missing_pretrained_weights_are_a_skip_reason(preset, no_weights_anywhere, no_download):
    m = get_method(preset)
    reason = m.skip(get_dataset("nih3t3").info)
    assert reason is not None and "not found" in reason and "never downloads" in reason
    assert W.PRETRAINED_FILES[m.params.init] in reason
    assert str(no_weights_anywhere / "env-models") in reason
    # the reason reaches the book: the home folder is written ~, never as this machine's path
    assert "~/.cellpose/models" in reason and str(no_weights_anywhere / "home") not in reason


def test_scratch_needs_no_weights(no_weights_anywhere):
    assert get_method("cellpose_scratch").weights_reason() is None


def test_weights_are_found_in_the_given_folder_or_env(tmp_path, monkeypatch, no_weights_anywhere):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "cyto2torch_0").write_bytes(b"x")
    assert W.find_pretrained("cyto2", folder) == folder / "cyto2torch_0"
    assert get_method("cellpose_cyto2", weights_dir=str(folder)).weights_reason() is None
    assert W.find_pretrained("cyto", folder) is None
    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", str(folder))
    assert get_method("cellpose_cyto2").weights_reason() is None
    (folder / "cytotorch_0").write_bytes(b"")
    assert W.find_pretrained("cyto", folder) is None  # an empty file is not weights


@needs_cellpose
def test_fitting_without_weights_raises_instead_of_downloading(no_weights_anywhere, no_download):
    m = get_method("cellpose_cyto2", profile="ci")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        m.fit([disks(0)], [disks(1)], rng=0)


@needs_cellpose
def test_constructing_models_never_downloads(no_weights_anywhere, no_download, tmp_path):
    from bench.methods.cellpose.method import import_cellpose

    models, _, _ = import_cellpose()
    models.CellposeModel(gpu=False, pretrained_model=False, nchan=2)
    m = get_method("cellpose", profile="ci")
    with pytest.raises(ValueError, match="does not exist"):
        m._new_model(str(tmp_path / "missing_file"), 30.0)


@needs_cellpose
def test_pretrained_path_runs_from_a_local_file(tmp_path, no_download):
    """A (random) network saved under Cellpose's file name stands in for real weights."""
    import torch

    from bench.methods.cellpose.method import import_cellpose

    models, _, _ = import_cellpose()
    torch.manual_seed(0)
    folder = tmp_path / "weights"
    folder.mkdir()
    models.CellposeModel(gpu=False, pretrained_model=False, nchan=2).net.save_model(str(folder / "cyto2torch_0"))
    m = get_method("cellpose_cyto2", profile="ci", weights_dir=str(folder), tune=False)
    assert m.skip(get_dataset("nih3t3").info) is None
    m.fit([disks(0, size=48, n=3)], [disks(1, size=48, n=3)], rng=0)
    assert m.state["diam_mean"] == 30.0 and m.state["nbase"] == [32, 64, 128, 256]
    assert m.state["history"] == {} and m.state["planes"] == ["dapi", None]
    pred = m.predict_full(disks(2, size=48, n=3).image)
    assert pred.labels.shape == (48, 48) and pred.labels.dtype == np.int32


# --------------------------------------------------------------- tiny training
@pytest.fixture(scope="module")
def tiny():
    if not HAVE_CELLPOSE:
        pytest.skip("torch/cellpose not installed (pip install 'bench[torch]')")
    train = [disks(i) for i in range(3)]
    val = [disks(10 + i) for i in range(2)]
    m = get_method("cellpose", profile="ci", epochs=16).fit(train, val, rng=0)
    return m, disks(20).image_only()


@needs_cellpose
def test_tiny_training_loss_falls(tiny):
    m, _ = tiny
    loss = m.state["history"]["train_loss"]
    assert len(loss) == 16
    # epoch 0 runs at learning rate 0 (Cellpose's warm-up); compare the first and last few epochs
    assert np.mean(loss[-4:]) < np.mean(loss[1:5])
    assert m.state["nbase"] == list(PROFILES["ci"].nbase) and m.state["train_seconds"] > 0
    assert m.state["diam_mean"] == pytest.approx(17.0)  # disks of ~12 px: clipped up to 17


@needs_cellpose
def test_tiny_fit_records_a_learning_curve(tiny):
    from bench.curves import CURVE_COLUMNS

    m, _ = tiny
    curve = m.learning_curve.frame()
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert curve["step"].tolist() == list(range(1, 17)) and set(curve["unit"]) == {"epoch"}
    assert curve["train_loss"].tolist() == pytest.approx(m.state["history"]["train_loss"])
    # train_seg measures the validation loss after epochs 0, 5 and 10 (0-based): steps 1, 6, 11
    assert curve.dropna(subset=["val_loss"])["step"].tolist() == [1, 6, 11]
    assert curve["val_f1"].isna().all()


@needs_cellpose
def test_tiny_prediction_shape_scores_classes(tiny):
    m, test = tiny
    pred = m.predict_full(test.image)
    assert pred.labels.dtype == np.int32 and pred.labels.shape == test.shape
    ids = set(np.unique(pred.labels[pred.labels > 0]).tolist())
    assert set(pred.scores) == ids and all(0 <= v <= 1 for v in pred.scores.values())
    assert pred.classes is not None and set(pred.classes) == ids
    other = pred.labels.copy()
    other[:3, :3] = other.max() + 1
    with pytest.raises(ValueError, match="not this model's prediction"):
        m.predict_scores(test.image, other)


@needs_cellpose
def test_tiny_save_load_round_trip(tiny, tmp_path):
    m, test = tiny
    path = m.save(tmp_path / "cp")
    loaded = Method.load(path)
    assert loaded.state == m.state
    a, b = m.predict_full(test.image), loaded.predict_full(test.image)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.scores == b.scores and a.classes == b.classes


def test_load_rejects_a_folder_without_state(tmp_path):
    (tmp_path / "config.json").write_text(
        '{"method": "cellpose", "id": "cellpose", "params": {}, "channels": ["dapi"]}')
    with pytest.raises(ValueError, match="state.json"):
        Method.load(tmp_path)


# ---------------------------------------------------------------- slow: learns
@pytest.mark.slow
@needs_cellpose
def test_quick_profile_beats_an_untrained_model():
    from bench.metrics import match_dataset
    from bench.splits import load_fit_data, load_test_truth

    train, val = load_fit_data("synth-lyso-easy", limit=8)
    test = load_test_truth("synth-lyso-easy", limit=3)
    truth = [s.labels for s in test]

    def f1(method):
        return match_dataset(y_true=truth, y_pred=[method.predict(s.image) for s in test]).f1

    trained = get_method("cellpose", profile="quick").fit(train, val, rng=0)
    barely = get_method("cellpose", profile="ci", epochs=1).fit(train, val, rng=0)
    f_trained, f_barely = f1(trained), f1(barely)
    assert f_trained >= 0.5 and f_trained >= f_barely + 0.3, (f_trained, f_barely)


@pytest.mark.slow
@needs_cellpose
def test_training_is_repeatable_given_rng():
    train, val = [disks(i) for i in range(2)], [disks(10)]
    a = get_method("cellpose", profile="ci").fit(train, val, rng=5)
    b = get_method("cellpose", profile="ci").fit(train, val, rng=5)
    assert a.state["history"] == b.state["history"]
    np.testing.assert_array_equal(a.predict(disks(20).image), b.predict(disks(20).image))


@pytest.mark.weights
@needs_cellpose
def test_pretrained_cyto2_zero_shot_with_real_weights(no_download):
    m = get_method("cellpose_cyto2", profile="ci")
    reason = m.skip(get_dataset("nih3t3").info)
    if reason is not None:
        pytest.skip(reason)
    train = [disks(i, size=96, n=6) for i in range(2)]
    m.fit(train, [disks(10, size=96, n=6)], rng=0)
    test = disks(20, size=96, n=6)
    from bench.metrics import match_instances

    assert match_instances(y_true=test.labels, y_pred=m.predict(test.image)).f1 >= 0.5


@needs_cellpose
@pytest.mark.parametrize("resize", [None, (288, 240)])
def test_threshold_grid_equals_cellposes_mask_computation_pair_by_pair(resize):
    """One dynamics run per cellprob threshold gives Cellpose's masks for every (flow, cellprob) pair,
    also when the masks are resized to the image's size afterwards (``resample=False``)."""
    from cellpose import dynamics

    from bench.methods.cellpose.method import MAX_SIZE_FRACTION, MIN_SIZE, masks_for_thresholds

    rng = np.random.default_rng(3)
    ds = get_dataset("synth-cells-easy")
    truth = ds.load(ds.sample_ids()[0]).labels
    truth = truth[:192, :192]
    import torch

    dP = dynamics.masks_to_flows(truth, device=torch.device("cpu"))  # the ideal flows of the true cells
    # noisy flows and probabilities, so that the thresholds matter
    dP = (dP + rng.normal(0, 0.6, dP.shape)).astype(np.float32)
    cellprob = np.where(truth > 0, 2.0, -2.0) + rng.normal(0, 1.5, truth.shape)
    cts, fts = (-1.0, 0.0, 1.0), (0.2, 0.4, 0.8)
    grid = masks_for_thresholds(dP, cellprob, niter=100, cellprob_thresholds=cts, flow_thresholds=fts,
                                resize=resize)
    counts = set()
    for ft in fts:
        for ct in cts:
            ref = dynamics.resize_and_compute_masks(dP, cellprob, niter=100, cellprob_threshold=ct, flow_threshold=ft,
                                                    interp=True, min_size=MIN_SIZE,
                                                    max_size_fraction=MAX_SIZE_FRACTION, resize=resize)
            assert ref.shape == (resize or truth.shape)
            np.testing.assert_array_equal(grid[(ft, ct)], ref.astype(np.int32))
            counts.add(int(ref.max()))
    assert len(counts) > 1  # the thresholds changed the result: the comparison was not vacuous
