"""CDL vs MDL: the weak-label path never turns ground truth into training targets."""

import dataclasses

import numpy as np
import pytest
from scipy import ndimage as ndi

pytest.importorskip("torch")

import bench.methods.registry as registry  # noqa: E402
from bench.data import get_dataset  # noqa: E402
from bench.methods import Method, get_method  # noqa: E402
from bench.methods.unet.method import weak_training_samples  # noqa: E402


class ThresholdStub(Method):
    """A 'conventional pipeline': threshold channel 0, connected components; records its fit."""

    name = "threshold_stub"

    def __init__(self):
        super().__init__()
        self.fit_saw_truth = None

    def fit(self, train, val, *, rng=None):
        self.fit_saw_truth = any(s.labels is not None for s in [*train, *val])
        return super().fit(train, val, rng=rng)

    def predict(self, image):
        return ndi.label(image[..., 0] > 0.5)[0].astype(np.int32)

    def predict_classes(self, image, labels):
        ids = np.unique(labels[labels > 0])
        return {int(i): int(image[..., 1][labels == i].mean() > 0.5) for i in ids}


@pytest.fixture
def stub(monkeypatch):
    made = []
    real = registry.get_method

    def fake(spec, **kw):
        if spec == "threshold_stub":
            made.append(ThresholdStub())
            return made[-1]
        return real(spec, **kw)

    monkeypatch.setattr(registry, "get_method", fake)  # the U-Net imports it when it needs the weak method
    return made


def _corrupt(samples):
    """Same images, garbage truth: labels shifted and relabelled, classes flipped."""
    out = []
    for s in samples:
        lab = np.roll(s.labels, 7, axis=1)
        cls = {i: 1 - c for i, c in s.classes.items()}
        out.append(dataclasses.replace(s, labels=lab, classes=cls))
    return out


@pytest.mark.parametrize("kind", ["weak", "weak-untuned"])
def test_corrupted_truth_gives_identical_weak_labels(blobs, stub, kind):
    train, val, _ = blobs
    a, _, _ = weak_training_samples(kind, "threshold_stub", train, val, rng=0)
    b, _, _ = weak_training_samples(kind, "threshold_stub", _corrupt(train), val, rng=0)
    for sa, sb, s in zip(a, b, train):
        np.testing.assert_array_equal(sa.labels, sb.labels)
        assert sa.classes == sb.classes
        np.testing.assert_array_equal(sa.image, s.image)
        assert sa.semantic is None and sa.boxes is None
    # the weak labels are the pipeline's output on the training image
    np.testing.assert_array_equal(a[0].labels, ThresholdStub().predict(train[0].image))
    assert stub[0].fit_saw_truth is (kind == "weak")


def test_untuned_kind_uses_no_truth_at_all(blobs, stub):
    train, val, _ = blobs
    tr, va, info = weak_training_samples("weak-untuned", "threshold_stub", train, val, rng=0)
    assert info["kind"] == "weak-untuned" and len(va) == len(val)
    assert stub[0].fit_saw_truth is False


def test_cdl_training_is_identical_when_train_truth_is_corrupted(blobs, stub, monkeypatch):
    """The whole fit (targets, loss history, predictions) ignores the training truth."""
    import bench.methods.unet._training as training

    seen = []
    real = training.PatchSampler

    class Spy(real):
        def __init__(self, images, targets, patch):
            seen.append([t.copy() for t in targets])
            super().__init__(images, targets, patch)

    monkeypatch.setattr(training, "PatchSampler", Spy)
    train, val, test = blobs
    kw = dict(profile="ci", depth=3, features=8, iterations=6, labels="weak:threshold_stub")
    m1 = get_method("unet", **kw).fit(train, val, rng=0)
    m2 = get_method("unet", **kw).fit(_corrupt(train), val, rng=0)
    for t1, t2 in zip(*seen):
        np.testing.assert_array_equal(t1, t2)
    assert m1.history["loss"] == m2.history["loss"]
    np.testing.assert_array_equal(m1.predict(test[0].image), m2.predict(test[0].image))
    assert m1.config["labels"]["method"] == "threshold_stub"
    # while an MDL fit does see the (corrupted) truth
    mdl = dict(kw, labels="truth")
    get_method("unet", **mdl).fit(train, val, rng=0)
    get_method("unet", **mdl).fit(_corrupt(train), val, rng=0)
    assert any(not np.array_equal(a, b) for a, b in zip(seen[2], seen[3]))


def test_cdl_with_the_conventional_pipeline(tmp_path):
    from bench.splits import load_fit_data

    train, val = load_fit_data("synth-lyso-easy", limit=2)
    weak = get_method("isodata_watershed").fit(train, val, rng=1)
    tr, _, info = weak_training_samples("weak", "isodata_watershed", train, val, rng=1)
    assert info["method"] == "isodata_watershed"
    for s, w in zip(train, tr):
        np.testing.assert_array_equal(w.labels, weak.predict(s.image))
        assert not np.array_equal(w.labels, s.labels), "weak labels are not the truth"
    m = get_method("unet_cdl", profile="ci", depth=3, features=8, iterations=2).fit(train, val, rng=0)
    assert m.id == "unet[depth=3,features=8,iterations=2,labels=weak:isodata_watershed,profile=ci,recipe=cdl]"
    loaded = Method.load(m.save(tmp_path / "cdl"))
    np.testing.assert_array_equal(loaded.predict(train[0].image), m.predict(train[0].image))


def test_weak_untuned_explains_a_method_that_needs_truth(blobs):
    train, val, _ = blobs
    m = get_method("isodata_watershed")
    try:
        m.fit([s.image_only() for s in train], [], rng=0)
    except ValueError:
        with pytest.raises(ValueError, match="runs without ground truth"):
            weak_training_samples("weak-untuned", "isodata_watershed", train, val, rng=0)
    else:
        pytest.skip("isodata_watershed now fits without truth; nothing to explain")


def test_cdl_skips_where_the_weak_method_cannot_run():
    info = get_dataset("synth-rosella").info
    assert "semantic" not in get_method("isodata_watershed").tasks
    reason = get_method("unet_cdl").skip(info)
    assert reason is not None and "isodata_watershed" in reason
