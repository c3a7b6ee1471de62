"""Box supervision: U-Net, StarDist and Cellpose fitted on a detection dataset (boxes only)."""

import importlib.util

import numpy as np
import pytest

from bench.data import Sample, get_dataset
from bench.data.box_labels import box_label_image
from bench.methods import get_method
from bench.methods._shared.box_supervision import (
    box_supervised_samples,
    box_supervision_skip,
    parse_box_labels,
)
from bench.metrics import boxes_from_labels

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_STARDIST = all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "stardist"))
HAVE_CELLPOSE = HAVE_TORCH and importlib.util.find_spec("cellpose") is not None


def disks(seed, *, size=64, n=5):
    """A tiny image of `n` non-overlapping bright disks (radius 5-7) with their masks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros((size, size), np.int32)
    image = rng.normal(0.05, 0.01, (size, size)).astype(np.float32)
    k = 0
    for _ in range(200):
        if k == n:
            break
        r = rng.integers(5, 8)
        cy, cx = rng.integers(r + 1, size - r - 1, 2)
        if labels[max(0, cy - r - 2):cy + r + 3, max(0, cx - r - 2):cx + r + 3].any():
            continue
        k += 1
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = k
    image[labels > 0] += 1.0
    return Sample(name=f"d{seed}", image=image[..., None], channels=("dapi",), labels=labels)


def detection(seed, *, empty_box=False):
    """A detection sample: the image and the boxes of its disks, no mask (optionally a
    zero-size box, as CELLULAR has)."""
    s = disks(seed)
    boxes = boxes_from_labels(s.labels)
    if empty_box:
        boxes = np.vstack([boxes, [[0, 0.5, 0.5, 0.0, 0.0]]])
    return Sample(name=s.name, image=s.image, channels=s.channels, boxes=boxes)


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize("spec", ["boxes", "boxes:", "boxes:circle", "boxes:Ellipse", "box:ellipse", "masks"])
@pytest.mark.parametrize("name", ["stardist", "cellpose"])
def test_bad_labels_name_the_argument(name, spec):
    with pytest.raises(ValueError, match=rf"{name}: parameter `labels` must be 'truth' or 'boxes:<maker>'"):
        get_method(name, labels=spec)


@pytest.mark.parametrize("spec", ["boxes:", "boxes:circle", "boxes:ellipse,box"])
def test_unet_bad_box_labels_name_the_argument(spec):
    with pytest.raises(ValueError, match=r"unet: parameter `labels` must be 'truth' or 'boxes:<maker>'"):
        get_method("unet", labels=spec)


def test_labels_parse_and_appear_in_the_id():
    assert parse_box_labels("boxes:threshold", who="x") == "threshold"
    assert parse_box_labels("truth", who="x") is None
    assert get_method("stardist[labels=boxes:ellipse]").id == "stardist[labels=boxes:ellipse]"
    assert get_method("cellpose", labels="boxes:box").id == "cellpose[labels=boxes:box]"
    assert get_method("unet_mdl", labels="boxes:ellipse").id == "unet[labels=boxes:ellipse,recipe=cdl]"
    assert get_method("stardist").id == "stardist"  # the default stays out of the id


# ---------------------------------------------------------------- skip rules
@pytest.mark.parametrize("name", ["unet", "stardist", "cellpose"])
def test_detection_dataset_runs_only_with_box_labels(name):
    info = get_dataset("cellular-boxes").info
    truth = get_method(name).skip(info)
    boxes = get_method(name, labels="boxes:ellipse").skip(info)
    deps = get_method(name).dependency_reason()
    if deps:
        assert boxes == deps
    else:
        assert boxes is None
        assert "detection" in truth and "labels='boxes:<maker>'" in truth


def test_box_labels_still_need_boxes_or_masks():
    info = get_dataset("synth-rosella").info  # pixel classes only
    assert "needs boxes or instance masks" in box_supervision_skip("ellipse", info, ("instance",))
    assert box_supervision_skip("ellipse", get_dataset("synth-cells").info, ("instance",)) is None


# ---------------------------------------------------------------- samples
def test_box_supervised_samples_carry_only_box_masks_for_train_and_val():
    train = [disks(0), disks(1)]  # masks: their boxes are used, the masks never
    val = [disks(2)]
    tr, va, info = box_supervised_samples(train, val, "box")
    for made, s in zip([*tr, *va], [*train, *val]):
        want = box_label_image(boxes_from_labels(s.labels), s.shape, maker="box").labels
        np.testing.assert_array_equal(made.labels, want)
        assert not np.array_equal(made.labels > 0, s.labels > 0)  # rectangles, not discs
        assert made.classes is None and made.semantic is None
    assert info["maker"] == "box" and info["train"]["n_boxes"] == 10 and info["val"]["n_boxes"] == 5


def test_threshold_maker_is_fitted_on_the_training_boxes():
    tr, va, info = box_supervised_samples([detection(0), detection(1)], [detection(2)], "threshold")
    assert info["threshold"]["plane"] and info["threshold"]["youden_j"] > 0.5
    truth = disks(2).labels
    made = va[0].labels > 0
    boxes = box_label_image(detection(2).boxes, truth.shape, maker="box").labels > 0
    # bright discs on a dark field: the threshold keeps each disc (and its blurred rim), not its box corners
    assert (made & (truth > 0)).sum() >= 0.95 * (truth > 0).sum()
    assert made.sum() < boxes.sum() and not (made & ~boxes).any()


# ---------------------------------------------------------------- fits (ci profile)
def _check_fit_on_detection(m):
    train = [detection(0, empty_box=True), detection(1)]
    val = [detection(2)]
    m.fit(train, val, rng=0)
    test = detection(3)
    pred = m.predict_full(test.image)
    assert pred.labels.shape == test.shape and pred.labels.dtype == np.int32
    return m


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed (pip install 'bench[torch]')")
def test_unet_fits_a_detection_dataset_at_the_ci_profile():
    m = get_method("unet", profile="ci", depth=3, features=8, iterations=4, labels="boxes:ellipse")
    _check_fit_on_detection(m)
    labels = m.config["labels"]
    assert labels["kind"] == "boxes" and labels["maker"] == "ellipse"
    assert labels["train"]["n_empty"] == 1 and labels["train"]["n_boxes"] == 10
    assert m.config["n_outputs"] == 3  # background, boundary, interior: as with labels="truth"


@pytest.mark.skipif(not HAVE_STARDIST, reason="tensorflow/stardist not installed (pip install 'bench[stardist]')")
def test_stardist_fits_a_detection_dataset_at_the_ci_profile():
    m = _check_fit_on_detection(get_method("stardist", profile="ci", labels="boxes:ellipse"))
    assert m.state["labels"]["maker"] == "ellipse" and m.state["labels"]["train"]["n_empty"] == 1


@pytest.mark.skipif(not HAVE_CELLPOSE, reason="torch/cellpose not installed (pip install 'bench[torch]')")
def test_cellpose_fits_a_detection_dataset_at_the_ci_profile():
    m = _check_fit_on_detection(get_method("cellpose", profile="ci", epochs=2, labels="boxes:box"))
    assert m.state["labels"]["maker"] == "box" and m.state["labels"]["train"]["n_empty"] == 1


@pytest.mark.parametrize("name", ["stardist", "cellpose"])
def test_truth_labels_on_boxes_only_data_still_refused(name):
    if (name == "stardist" and not HAVE_STARDIST) or (name == "cellpose" and not HAVE_CELLPOSE):
        pytest.skip(f"{name} not installed")
    with pytest.raises(ValueError, match="no instance `labels`"):
        get_method(name, profile="ci").fit([detection(0)], [detection(1)], rng=0)


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed (pip install 'bench[torch]')")
def test_unet_classes_false_is_the_like_for_like_mask_baseline():
    with_classes = []
    for i in range(3):
        s = disks(i)
        with_classes.append(Sample(name=s.name, image=s.image, channels=s.channels, labels=s.labels,
                                   classes={int(k): int(k) % 2 for k in np.unique(s.labels[s.labels > 0])}))
    kw = dict(profile="ci", depth=3, features=8, iterations=2)
    m = get_method("unet", classes=False, **kw).fit(with_classes[:2], with_classes[2:], rng=0)
    assert m.id == "unet[classes=False,depth=3,features=8,iterations=2,profile=ci]"
    assert m.config["n_outputs"] == 3 and m.predict_classes(with_classes[2].image, with_classes[2].labels) is None
    assert get_method("unet", **kw).fit(with_classes[:2], with_classes[2:], rng=0).config["n_outputs"] == 4
