"""The ``sam`` method without weights: skip reasons, weights registry, the pure path."""

import hashlib
import importlib.util
import re
import socket
import sys

import numpy as np
import pytest

from bench.data import DatasetInfo, Sample, get_dataset
from bench.methods import Method, get_method
from bench.methods.sam import weights as W
from bench.methods.sam.method import to_rgb_uint8

HAVE_SAM = all(importlib.util.find_spec(m) is not None for m in ("torch", "torchvision", "segment_anything"))

INFO = DatasetInfo(name="tiny", tasks=("instance",), channels=("c",), source="synthetic")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""

    def guard(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


def test_import_is_light():
    import bench.methods.sam  # noqa: F401

    # importing the package must not pull torch or segment_anything in
    assert "segment_anything" not in sys.modules or HAVE_SAM


@pytest.mark.skipif(HAVE_SAM, reason="segment_anything and torchvision are installed here")
def test_missing_dependencies_give_a_skip_reason():
    m = get_method("sam_vit_b")
    reason = m.skip(get_dataset("nih3t3").info)
    assert reason is not None and "missing dependency" in reason and "bench[sam]" in reason
    assert "torchvision" in reason or "segment_anything" in reason


def test_missing_checkpoint_gives_a_reason_not_a_download(tmp_path, no_network):
    m = get_method("sam", model="vit_h", weights_dir=str(tmp_path))
    reason = m.weights_reason()
    assert "sam_vit_h_4b8939.pth" in reason and str(tmp_path) in reason
    assert "dl.fbaipublicfiles.com" in reason and "download=true" in reason
    with pytest.raises(FileNotFoundError, match="not found"):
        W.fetch_checkpoint("vit_h", tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


def test_download_allowed_means_no_weights_reason(tmp_path):
    assert get_method("sam", weights_dir=str(tmp_path), download=True).weights_reason() is None


def test_default_weights_folder_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_SAM_WEIGHTS", str(tmp_path))
    assert W.checkpoint_path("vit_b") == tmp_path / "sam_vit_b_01ec64.pth"


def test_registry_entries_are_official_and_well_formed():
    assert set(W.CHECKPOINTS) == {"vit_b", "vit_l", "vit_h"}
    for key, ck in W.CHECKPOINTS.items():
        assert ck.model == key
        assert ck.url == f"https://dl.fbaipublicfiles.com/segment_anything/{ck.filename}"
        assert re.fullmatch(r"sam_vit_[blh]_[0-9a-f]{6}\.pth", ck.filename)
        assert ck.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", ck.sha256)
        assert ck.checksum_source


def test_verify_checkpoint_checks_hash_and_size(tmp_path, monkeypatch):
    payload = b"not really a checkpoint"
    good = W.Checkpoint("vit_b", "sam_vit_b_01ec64.pth", "https://example.invalid/x",
                        hashlib.sha256(payload).hexdigest(), len(payload), "test")
    monkeypatch.setitem(W.CHECKPOINTS, "vit_b", good)
    path = tmp_path / good.filename
    path.write_bytes(payload)
    W.verify_checkpoint(path, "vit_b")
    assert W.fetch_checkpoint("vit_b", tmp_path) == path
    assert W.weights_reason("vit_b", tmp_path) is None
    path.write_bytes(payload[:-1] + b"?")
    with pytest.raises(ValueError, match="sha256"):
        W.verify_checkpoint(path, "vit_b")
    path.write_bytes(payload + b"!")
    with pytest.raises(ValueError, match="bytes"):
        W.verify_checkpoint(path, "vit_b")
    assert "bytes" in W.weights_reason("vit_b", tmp_path)


def test_unknown_model_and_bad_params_are_rejected():
    with pytest.raises(ValueError, match="`model`"):
        get_method("sam", model="vit_x")
    with pytest.raises(ValueError, match="`max_area_fraction`"):
        get_method("sam", max_area_fraction=0)
    with pytest.raises(ValueError, match="`model`"):
        W.checkpoint_path("vit_x", "/tmp")


def test_to_rgb_uint8_channel_mapping():
    img = np.zeros((4, 4, 2), np.float32)
    img[0, 0, 0] = 1.0
    img[1, 1, 1] = 2.0
    rgb = to_rgb_uint8(img, percentiles=(0, 100))
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 4, 3)
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[1, 1].tolist() == [0, 255, 0]
    assert not rgb[..., 2].any()
    grey = to_rgb_uint8(img[..., :1], percentiles=(0, 100))
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    flat = to_rgb_uint8(np.ones((3, 3, 4), np.float32))
    assert flat.shape == (3, 3, 3) and not flat.any()


def _sample(labels):
    img = (labels > 0).astype(np.float32)[..., None]
    return Sample(name="s", image=img, channels=("c",), labels=labels.astype(np.int32))


def test_fit_sets_the_area_filter_from_training_objects_and_saves_it(tmp_path):
    lab = np.zeros((40, 40), np.int32)
    lab[0:4, 0:4] = 1      # 16 px
    lab[10:20, 10:20] = 2  # 100 px
    m = get_method("sam").fit([_sample(lab)], [], rng=0)
    p05, p95 = np.percentile([16, 100], [5, 95])
    assert m.min_area == int(np.floor(p05 / 4)) and m.max_area_train == int(np.ceil(p95 * 4))
    loaded = Method.load(m.save(tmp_path / "sam"))
    assert (loaded.min_area, loaded.max_area_train) == (m.min_area, m.max_area_train)


def test_fit_uses_boxes_on_a_detection_dataset_and_learns_classes(tmp_path):
    img = np.zeros((40, 40, 1), np.float32)
    boxes = np.array([[0, 0.25, 0.25, 0.2, 0.2], [0, 0.75, 0.75, 0.1, 0.1]])
    m = get_method("sam").fit([Sample(name="b", image=img, channels=("c",), boxes=boxes)], [], rng=0)
    assert m.max_area_train is not None and m.classifier is None
    lab = np.zeros((40, 40), np.int32)
    im = np.zeros((40, 40, 1), np.float32)
    classes = {}
    for k in range(8):
        r, c = 2 + 10 * (k // 4), 2 + 10 * (k % 4)
        lab[r:r + 5, c:c + 5] = k + 1
        im[r:r + 5, c:c + 5] = 1.0 if k % 2 else 0.3
        classes[k + 1] = k % 2
    s = Sample(name="c", image=im, channels=("c",), labels=lab, classes=classes)
    m = get_method("sam").fit([s], [], rng=0)
    assert m.predict_classes(im, lab) == classes
    loaded = Method.load(m.save(tmp_path / "sam"))
    assert loaded.predict_classes(im, lab) == classes


def test_labels_from_records_applies_filters_without_a_model():
    lab = np.zeros((20, 20), np.int32)
    lab[2:6, 2:6] = 1
    m = get_method("sam", max_area_fraction=0.5).fit([_sample(lab)], [], rng=0)
    tiny = np.zeros((20, 20), bool); tiny[0, 0] = True
    obj = np.zeros((20, 20), bool); obj[10:14, 10:14] = True
    background = ~obj
    recs = [{"segmentation": s, "predicted_iou": 0.9, "stability_score": 0.96} for s in (tiny, obj, background)]
    labels, scores = m.labels_from_records(recs, (20, 20))
    np.testing.assert_array_equal(labels, obj.astype(np.int32))
    assert scores == {1: 0.9}


@pytest.mark.weights
def test_sam_segments_a_synthetic_image_with_real_weights():
    m = get_method("sam_vit_b")
    reason = m.skip(INFO)
    if reason is not None:
        pytest.skip(reason)
    img = np.zeros((128, 128, 1), np.float32)
    yy, xx = np.mgrid[:128, :128]
    for cy, cx in ((30, 30), (90, 40), (60, 100)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 15**2] = 1.0
    lab = np.zeros((128, 128), np.int32)
    lab[(yy - 30) ** 2 + (xx - 30) ** 2 < 15**2] = 1
    m.fit([Sample(name="t", image=img, channels=("c",), labels=lab)], [], rng=0)
    pred = m.predict_full(img)
    assert pred.labels.dtype == np.int32 and pred.labels.shape == (128, 128)
    assert 2 <= len(np.unique(pred.labels[pred.labels > 0])) <= 6
    assert set(pred.scores) == set(np.unique(pred.labels[pred.labels > 0]).tolist())


def test_unregistered_checkpoint_is_refused_unless_its_hash_is_allowed(tmp_path):
    path = W.checkpoint_path("vit_b", tmp_path)
    path.write_bytes(b"random weights")
    digest = hashlib.sha256(b"random weights").hexdigest()
    with pytest.raises(ValueError, match="bench uses only registered checkpoints"):
        W.fetch_checkpoint("vit_b", tmp_path)
    with pytest.raises(ValueError, match=f"nor the allowed {'0' * 64}"):
        W.fetch_checkpoint("vit_b", tmp_path, allow_sha256="0" * 64)
    with pytest.warns(UserWarning, match="unregistered SAM vit_b checkpoint .* not Segment Anything's"):
        assert W.fetch_checkpoint("vit_b", tmp_path, allow_sha256=digest) == path


def test_allowing_a_checkpoint_shows_in_the_method_id():
    digest = "ab" * 32
    m = get_method("sam", allow_unregistered_sha256=digest)
    assert m.id == f"sam[allow_unregistered_sha256={digest}]" and get_method(m.id).params == m.params
    with pytest.raises(ValueError, match="`allow_unregistered_sha256`"):
        get_method("sam", allow_unregistered_sha256="AB" * 32)


class _KnownMasks:
    """Stands in for SAM's mask generator: the true objects of an image as SAM records."""

    def __init__(self, labels):
        self.labels = labels

    def generate(self, rgb):
        assert rgb.dtype == np.uint8 and rgb.shape == (*self.labels.shape, 3)
        recs = []
        for i in np.unique(self.labels[self.labels > 0]):
            seg = self.labels == i
            ys, xs = np.nonzero(seg)
            recs.append({"segmentation": seg, "area": int(seg.sum()),
                         "bbox": [int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1],
                         "predicted_iou": 0.9 - 0.001 * int(i), "stability_score": 0.95,
                         "point_coords": [[float(xs.mean()), float(ys.mean())]],
                         "crop_box": [0, 0, seg.shape[1], seg.shape[0]]})
        return recs


@pytest.mark.parametrize("empty", [False, True])
def test_predict_turns_a_mask_set_into_labels_scores_and_classes(monkeypatch, empty):
    """Everything after SAM's network, on a synthetic image with classed objects: known masks in
    SAM's record format (the true objects, or none) come back as labels, scores and classes."""
    ds = get_dataset("synth-lyso-easy")
    ids = ds.sample_ids()
    train, test = ds.load(ids[0]), ds.load(ids[-1])
    m = get_method("sam").fit([train], [], rng=0)
    assert m.classifier is not None
    truth = np.zeros_like(test.labels) if empty else test.labels
    monkeypatch.setattr(m, "_mask_generator", lambda: _KnownMasks(truth))
    pred = m.predict_full(test.image)
    n = len(np.unique(truth[truth > 0]))
    assert (n == 0) == empty
    # true ids 1..n get predicted_iou 0.9 - 0.001 * id: the priority keeps their order
    assert np.unique(truth).tolist() == list(range(n + 1))
    np.testing.assert_array_equal(pred.labels, truth)
    assert pred.labels.dtype == np.int32
    assert pred.scores == {i: pytest.approx(0.9 - 0.001 * i) for i in range(1, n + 1)}
    assert sorted(pred.classes) == list(range(1, n + 1)) and set(pred.classes.values()) <= {0, 1}
