"""Instance matching: golden values, conventions, and identity with stardist.matching."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bench.metrics import (
    MatchResult,
    average_results,
    match_dataset,
    match_instances,
    matched_pairs,
    pool_results,
)
from bench.metrics import matching as matching_module

CRITERIA = ("iou", "iot", "iop")


def _stardist():
    return pytest.importorskip("stardist.matching", reason="the cross-checks need stardist (bench[stardist])")


def assert_same_as_stardist(ours, theirs, *, context=""):
    """Counts identical; ratios of counts bit-identical; score means to float32 precision."""
    ours = (ours,) if isinstance(ours, MatchResult) else ours
    theirs = (theirs,) if hasattr(theirs, "tp") else theirs  # stardist: a namedtuple or a tuple of them
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        msg = f"{context} criterion={b.criterion} thresh={b.thresh}"
        assert (a.n_true, a.n_pred, a.tp, a.fp, a.fn) == (b.n_true, b.n_pred, b.tp, b.fp, b.fn), msg
        if a.n_true == 0 and a.n_pred == 0:
            continue  # the one documented difference (empty-image convention)
        assert a.precision == pytest.approx(b.precision, abs=1e-12), msg
        assert a.recall == pytest.approx(b.recall, abs=1e-12), msg
        assert a.f1 == pytest.approx(b.f1, abs=1e-12), msg
        assert a.ap_dsb == pytest.approx(b.accuracy, abs=1e-12), msg
        # stardist accumulates float32 scores
        assert a.mean_matched_iou == pytest.approx(float(b.mean_matched_score), rel=2e-6, abs=1e-6), msg
        assert a.panoptic_quality == pytest.approx(float(b.panoptic_quality), rel=2e-6, abs=1e-6), msg


# ------------------------------------------------------------------ golden values

Y_TRUE = np.array(
    [
        [1, 1, 0, 0, 0],
        [1, 1, 0, 2, 2],
        [0, 0, 0, 2, 2],
        [3, 3, 0, 0, 0],
        [3, 3, 0, 0, 0],
    ]
)
Y_PRED = np.array(
    [
        [5, 5, 0, 0, 0],
        [5, 5, 0, 0, 7],
        [0, 0, 0, 0, 7],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 9, 9],
    ]
)


def test_golden_5x5():
    # 1-5 identical (IoU 1); 2-7: 2 shared of 4 -> IoU 0.5; 3 missed; 9 spurious
    r = match_instances(Y_TRUE, Y_PRED)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (3, 3, 2, 1, 1)
    assert r.precision == r.recall == r.f1 == 2 / 3
    assert r.ap_dsb == 2 / 4
    assert r.sum_matched_iou == 1.5
    assert r.mean_matched_iou == 0.75
    assert r.panoptic_quality == 1.5 / (2 + 0.5 + 0.5)
    # IoT of 2-7 is 2/4, IoP is 2/2
    assert match_instances(Y_TRUE, Y_PRED, iou_threshold=0.6, criterion="iot").tp == 1
    assert match_instances(Y_TRUE, Y_PRED, iou_threshold=0.6, criterion="iop").tp == 2


def test_threshold_is_inclusive_and_sequence_gives_tuple():
    rs = match_instances(Y_TRUE, Y_PRED, iou_threshold=[0.5, 0.50001, 1.0])
    assert isinstance(rs, tuple) and [r.tp for r in rs] == [2, 1, 1]
    assert [r.threshold for r in rs] == [0.5, 0.50001, 1.0]
    (single,) = match_instances(Y_TRUE, Y_PRED, iou_threshold=(0.5,))
    assert single == match_instances(Y_TRUE, Y_PRED, iou_threshold=0.5)


def test_split_object_exact_half_is_matched_once():
    # one true object split in two exact halves: both halves have IoU 0.5, only one
    # can match (one-to-one), the other is a false positive
    y_true = np.array([[1, 1, 1, 1]])
    y_pred = np.array([[2, 2, 3, 3]])
    r = match_instances(y_true, y_pred, iou_threshold=0.5)
    assert (r.tp, r.fp, r.fn, r.sum_matched_iou) == (1, 1, 0, 0.5)
    # by IoP both halves lie entirely inside the true object; still one match
    r = match_instances(y_true, y_pred, iou_threshold=0.9, criterion="iop")
    assert (r.tp, r.fp, r.fn, r.mean_matched_iou) == (1, 1, 0, 1.0)


def test_merged_prediction_matches_one_true_object():
    y_true = np.array([[1, 1, 2, 2, 2, 2]])
    y_pred = np.array([[5, 5, 5, 5, 5, 5]])
    r = match_instances(y_true, y_pred, iou_threshold=0.6, criterion="iot")
    assert (r.tp, r.fp, r.fn) == (1, 0, 1)  # both have IoT 1; one wins
    r = match_instances(y_true, y_pred, iou_threshold=0.5)
    assert (r.tp, r.sum_matched_iou) == (1, 4 / 6)  # the larger true object, IoU 4/6


def test_tie_breaking_follows_stardist_objective():
    # Worked by hand. True 1 = {0, 3, 5}, true 2 = {4}; pred 1 = {3, 4, 5}, pred 2 = {0, 1}.
    # IoU(t1, p1) = 2/4, IoU(t1, p2) = 1/4, IoU(t2, p1) = 1/3, IoU(t2, p2) = 0.
    # At threshold 0.3 both t1 and t2 want p1: one match at most. stardist's
    # tie-breaker maximises the summed IoU of *all* assigned pairs:
    # {t2-p1, t1-p2} = 1/3 + 1/4 > {t1-p1, t2-none} = 1/2, so t2-p1 is the match and
    # the mean matched IoU is 1/3, not 1/2.
    y_true = np.array([[1, 0, 0, 1, 2, 1]])
    y_pred = np.array([[2, 2, 0, 1, 1, 1]])
    r = match_instances(y_true, y_pred, iou_threshold=0.3)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert r.mean_matched_iou == pytest.approx(1 / 3)
    t, p, s = matched_pairs(y_true, y_pred, iou_threshold=0.3)
    assert (t.tolist(), p.tolist()) == ([2], [1])
    sd = _stardist()
    assert_same_as_stardist(r, sd.matching(y_true, y_pred, thresh=0.3))


def test_labels_need_not_be_consecutive_and_dtypes_mix():
    a = match_instances(Y_TRUE.astype(np.uint8), (Y_PRED * 1000).astype(np.uint64))
    b = match_instances(Y_TRUE.astype(np.int64) * 7_000_000_000, Y_PRED.astype(np.int16))
    assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn) == (2, 1, 1)


def test_3d_images():
    y_true = np.zeros((3, 4, 4), int)
    y_true[0:2, 0:2, 0:2] = 1
    y_pred = y_true.copy()
    y_pred[1, 0, 0] = 0  # 7 of 8 voxels
    r = match_instances(y_true, y_pred)
    assert (r.tp, r.mean_matched_iou) == (1, 7 / 8)


# ----------------------------------------------------------- empty-image convention


def test_empty_vs_empty_is_perfect():
    z = np.zeros((4, 4), np.int32)
    r = match_instances(z, z)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (0, 0, 0, 0, 0)
    for name in ("precision", "recall", "f1", "ap_dsb", "mean_matched_iou", "panoptic_quality"):
        assert getattr(r, name) == 1.0, name
    # stardist scores the same case 0 -- the one documented difference
    sd = _stardist()
    assert sd.matching(z, z).f1 == 0


def test_empty_truth_or_empty_prediction_scores_zero():
    z = np.zeros((3, 3), np.int32)
    y = z.copy()
    y[1, 1] = 4
    for a, b in ((z, y), (y, z)):
        r = match_instances(a, b)
        for name in ("precision", "recall", "f1", "ap_dsb", "mean_matched_iou", "panoptic_quality"):
            assert getattr(r, name) == 0.0, name


def test_empty_images_in_per_image_average_count_as_one():
    z = np.zeros((3, 3), np.int32)
    y = z.copy()
    y[0, 0] = 1
    per_image = match_dataset([z, y], [z, z], aggregate="per_image")
    assert per_image.recall == 0.5  # (1.0 + 0.0) / 2
    pooled = match_dataset([z, y], [z, z], aggregate="pooled")
    assert pooled.recall == 0.0  # 0 / 1


# ------------------------------------------------------------------- validation


def test_validation_messages_name_the_argument():
    y = np.zeros((5, 4), np.int32)
    with pytest.raises(ValueError, match=r"`y_true` \(shape \(5, 4\)\) must have the same shape as `y_pred` \(shape \(5, 5\)\)"):
        match_instances(y, np.zeros((5, 5), np.int32))
    with pytest.raises(TypeError, match=r"`y_pred` must hold integer labels.*float64"):
        match_instances(y, y.astype(float))
    with pytest.raises(TypeError, match=r"`y_true` must hold integer labels.*bool"):
        match_instances(y > 0, y)
    with pytest.raises(TypeError, match=r"`y_true` must be a numpy ndarray"):
        match_instances(y.tolist(), y)
    with pytest.raises(ValueError, match=r"`y_pred` .* negative labels, found -3"):
        match_instances(y, y - 3)
    with pytest.raises(ValueError, match=r"`criterion` must be one of"):
        match_instances(y, y, criterion="dice")
    for bad in (0, 0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"`iou_threshold` must lie in \(0, 1\]"):
            match_instances(y, y, iou_threshold=bad)
    with pytest.raises(TypeError, match=r"`iou_threshold` must be a number or a sequence"):
        match_instances(y, y, iou_threshold="0.5")
    with pytest.raises(ValueError, match=r"`aggregate` must be one of \('pooled', 'per_image'\)"):
        match_dataset([y], [y], aggregate="mean")
    with pytest.raises(ValueError, match=r"`y_true` \(2 images\) and `y_pred` \(1 images\)"):
        match_dataset([y, y], [y])
    with pytest.raises(TypeError, match=r"`y_true` must be a list or tuple of label images.*wrap a single image"):
        match_dataset(y, y)
    with pytest.raises(ValueError, match=r"`y_true\[1\]` \(shape \(5, 4\)\) must have the same shape as `y_pred\[1\]`"):
        match_dataset([y, y], [y, y[:, :3]])


# ------------------------------------------------------------------- result object


def test_result_is_frozen_picklable_and_flat():
    r = match_instances(Y_TRUE, Y_PRED)
    assert pickle.loads(pickle.dumps(r)) == r
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.tp = 3
    row = dataclasses.asdict(r)
    assert row["tp"] == 2 and row["criterion"] == "iou" and row["aggregate"] == "image"
    assert MatchResult.from_counts(
        criterion="iou", threshold=0.5, n_true=r.n_true, n_pred=r.n_pred, tp=r.tp, sum_matched_iou=r.sum_matched_iou
    ) == r


def test_from_counts_rejects_impossible_counts():
    with pytest.raises(ValueError, match=r"`tp` must lie in \[0, min\(n_true, n_pred\)\]"):
        MatchResult.from_counts(criterion="iou", threshold=0.5, n_true=1, n_pred=3, tp=2, sum_matched_iou=1.0)
    with pytest.raises(ValueError, match=r"`sum_matched_iou` must lie in \[0, tp\]"):
        MatchResult.from_counts(criterion="iou", threshold=0.5, n_true=2, n_pred=3, tp=1, sum_matched_iou=1.5)


def test_pool_and_average_from_stored_counts():
    a = match_instances(Y_TRUE, Y_PRED)
    b = match_instances(Y_TRUE, Y_TRUE)
    stored = [dataclasses.asdict(x) for x in (a, b)]  # what a runner keeps per image
    rebuilt = [
        MatchResult.from_counts(**{k: row[k] for k in ("criterion", "threshold", "n_true", "n_pred", "tp", "sum_matched_iou")})
        for row in stored
    ]
    pooled = pool_results(rebuilt)
    assert pooled == match_dataset([Y_TRUE, Y_TRUE], [Y_PRED, Y_TRUE], aggregate="pooled")
    assert (pooled.tp, pooled.n_true, pooled.n_images, pooled.aggregate) == (5, 6, 2, "pooled")
    assert pooled.recall == 5 / 6
    avg = average_results(rebuilt)
    assert avg.recall == (2 / 3 + 1) / 2 and avg.aggregate == "per_image"
    with pytest.raises(ValueError, match="per_image average"):
        pool_results([avg])
    with pytest.raises(ValueError, match=r"`results\[1\]` has criterion='iou', threshold=0.7"):
        pool_results([a, match_instances(Y_TRUE, Y_PRED, iou_threshold=0.7)])


# ------------------------------------------------------ cross-checks with stardist


@pytest.mark.parametrize("seed", range(6))
def test_random_blobs_identical_to_stardist(seed, lab):
    sd = _stardist()
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 90)), int(rng.integers(20, 90)))
    y_true = lab.blob_labels(shape, int(rng.integers(1, 40)), rng)
    candidates = [
        lab.blob_labels(shape, int(rng.integers(1, 40)), rng),
        lab.shift_labels(y_true, 1, 2),
        lab.split_labels(y_true, rng),
        lab.merge_labels(y_true, rng),
        lab.erode_labels(y_true),
        lab.dilate_labels(y_true, 2),
    ]
    for y_pred in candidates:
        for criterion in CRITERIA:
            assert_same_as_stardist(
                match_instances(y_true, y_pred, iou_threshold=lab.THRESHOLDS, criterion=criterion),
                sd.matching(y_true, y_pred, thresh=lab.THRESHOLDS, criterion=criterion),
                context=f"seed={seed}",
            )


@pytest.mark.parametrize("seed", range(3))
def test_tiny_random_integer_images_identical_to_stardist(seed):
    """Noise-like 2-8 px images: every object competes, exact ties abound."""
    sd = _stardist()
    rng = np.random.default_rng(100 + seed)
    thresholds = (0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.75, 0.8, 0.9, 1.0)
    for _ in range(40):
        shape = (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
        y_true = rng.integers(0, int(rng.integers(2, 8)), shape)
        y_pred = rng.integers(0, int(rng.integers(2, 8)), shape)
        for criterion in CRITERIA:
            assert_same_as_stardist(
                match_instances(y_true, y_pred, iou_threshold=thresholds, criterion=criterion),
                sd.matching(y_true, y_pred, thresh=thresholds, criterion=criterion),
                context=f"\n{y_true}\n{y_pred}\n",
            )


def test_sparse_solver_path_gives_stardist_counts(monkeypatch):
    """Components too big for a dense block go to LAPJVsp: same optimum, so same counts
    (the summed score too, except between exactly tied solutions)."""
    sd = _stardist()
    monkeypatch.setattr(matching_module, "_DENSE_LIMIT", 0)
    rng = np.random.default_rng(7)
    n_components_solved = 0
    for _ in range(80):
        shape = (int(rng.integers(3, 9)), int(rng.integers(3, 9)))
        y_true = rng.integers(0, 6, shape)
        y_pred = rng.integers(0, 6, shape)
        for criterion in CRITERIA:
            ours = match_instances(y_true, y_pred, iou_threshold=[0.1, 0.3, 0.5], criterion=criterion)
            theirs = sd.matching(y_true, y_pred, thresh=[0.1, 0.3, 0.5], criterion=criterion)
            for a, b in zip(ours, theirs):
                assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
                n_components_solved += 1
    assert n_components_solved == 80 * 3 * 3


def test_matched_pairs_agree_with_stardist_report(lab):
    sd = _stardist()
    rng = np.random.default_rng(3)
    y_true = lab.blob_labels((64, 64), 25, rng)
    y_pred = lab.split_labels(lab.shift_labels(y_true, 1, 1), rng)
    for thr in (0.3, 0.5, 0.7):
        t, p, s = matched_pairs(y_true, y_pred, iou_threshold=thr)
        rep = sd.matching(y_true, y_pred, thresh=thr, report_matches=True)
        want = sorted(rep.matched_pairs[i] for i in rep.matched_tps)
        assert sorted(zip(t.tolist(), p.tolist())) == want
        assert t.size == rep.tp and np.all(s >= thr)
        assert np.all(np.diff(t) > 0)


def _real_pairs(masks, lab, names=None):
    rng = np.random.default_rng(0)
    for name, y_true in masks:
        if names is not None and name not in names:
            continue
        for kind, perturb in lab.PERTURBATIONS.items():
            yield f"{name}/{kind}", y_true, perturb(y_true, rng)


def _check_real(masks, lab, names=None):
    sd = _stardist()
    n = 0
    for context, y_true, y_pred in _real_pairs(masks, lab, names):
        for criterion in CRITERIA:
            assert_same_as_stardist(
                match_instances(y_true, y_pred, iou_threshold=lab.THRESHOLDS, criterion=criterion),
                sd.matching(y_true, y_pred, thresh=lab.THRESHOLDS, criterion=criterion),
                context=context,
            )
            n += 1
    return n


def test_real_masks_subset_identical_to_stardist(nih3t3_masks, gowt1_masks, lab):
    n = _check_real(nih3t3_masks, lab, {"27.png"}) + _check_real(gowt1_masks, lab, {"man_seg01.tif"})
    assert n == 2 * len(lab.PERTURBATIONS) * len(CRITERIA)


@pytest.mark.slow
def test_real_masks_all_identical_to_stardist(nih3t3_masks, gowt1_masks, lab):
    n = _check_real(nih3t3_masks, lab) + _check_real(gowt1_masks, lab)
    assert n == (len(nih3t3_masks) + len(gowt1_masks)) * len(lab.PERTURBATIONS) * len(CRITERIA)


@pytest.mark.parametrize("by_image", [False, True])
@pytest.mark.parametrize("criterion", CRITERIA)
def test_dataset_identical_to_stardist_matching_dataset(gowt1_masks, lab, by_image, criterion):
    sd = _stardist()
    rng = np.random.default_rng(1)
    kinds = ["eroded", "dilated", "split", "merged", "shifted", "dropped"]
    y_true = [y for _, y in gowt1_masks][:3]
    y_pred = [lab.PERTURBATIONS[k](y, rng) for y, k in zip(y_true, kinds)]
    ours = match_dataset(
        y_true,
        y_pred,
        iou_threshold=lab.THRESHOLDS,
        criterion=criterion,
        aggregate="per_image" if by_image else "pooled",
    )
    theirs = sd.matching_dataset(
        y_true, y_pred, thresh=lab.THRESHOLDS, criterion=criterion, by_image=by_image, show_progress=False
    )
    assert_same_as_stardist(ours, theirs)


def _puncta_field(shape, n, rng):
    """`n` discs of radius 1.5-4.5 px on a grid of 16 px cells, and a noisy prediction
    (shifted, grown or shrunk, some dropped, some spurious, labels shuffled)."""
    gy, gx = shape[0] // 16, shape[1] // 16
    cells = rng.choice(gy * gx, size=n, replace=False)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    y_true = np.zeros(shape, np.int32)
    y_pred = np.zeros(shape, np.int32)
    pred_ids = rng.permutation(np.arange(1, 2 * n + 1)) * 3
    for k, c in enumerate(cells):
        cy, cx = (c // gx) * 16 + 8, (c % gx) * 16 + 8
        r = rng.uniform(1.5, 4.5)
        win = (slice(cy - 7, cy + 8), slice(cx - 7, cx + 8))
        d2 = (yy[win] - cy) ** 2 + (xx[win] - cx) ** 2
        y_true[win][d2 <= r**2] = k + 1
        u = rng.random()
        if u < 0.05:
            continue  # dropped
        sy, sx = rng.integers(-1, 2, 2)
        rp = max(r + rng.choice([-1.0, 0.0, 1.0]), 1.0)
        d2p = (yy[win] - cy - sy) ** 2 + (xx[win] - cx - sx) ** 2
        y_pred[win][d2p <= rp**2] = pred_ids[k]
        if u > 0.95:  # split: the left half gets its own label
            y_pred[win][(d2p <= rp**2) & (xx[win] < cx + sx)] = pred_ids[n + k]
    return y_true, y_pred


def test_blockwise_first_pass_equals_one_block(monkeypatch, lab):
    """The first pass reads the images in blocks of ``_CHUNK`` pixels: any block size,
    one that cuts objects and rows included, gives the same overlap table."""
    from bench.metrics import _overlap

    rng = np.random.default_rng(11)
    for shape, n in (((61, 47), 30), ((128, 128), 80)):
        y_true = lab.blob_labels(shape, n, rng)
        y_pred = lab.split_labels(lab.shift_labels(y_true, 1, 1), rng)
        monkeypatch.setattr(_overlap, "_CHUNK", 1 << 30)
        whole = _overlap.label_overlap(y_true, y_pred)
        for chunk in (1, 7, 37, 1000):
            monkeypatch.setattr(_overlap, "_CHUNK", chunk)
            part = _overlap.label_overlap(y_true, y_pred)
            for field in ("true_ids", "pred_ids", "true_area", "pred_area", "ti", "pj", "intersection"):
                assert np.array_equal(getattr(part, field), getattr(whole, field)), (shape, chunk, field)


def test_negative_label_in_a_late_block_is_refused(monkeypatch):
    from bench.metrics import _overlap

    monkeypatch.setattr(_overlap, "_CHUNK", 8)
    y_true = np.zeros((6, 6), np.int32)
    y_pred = np.zeros((6, 6), np.int32)
    y_true[0, 0] = 1
    y_pred[5, 5] = -4  # background in y_true there: found through y_pred's foreground
    with pytest.raises(ValueError, match=r"`y_pred` \(shape \(6, 6\)\) must not hold negative labels, found -4"):
        match_instances(y_true, y_pred)
    with pytest.raises(ValueError, match=r"`y_true` .* negative labels, found -2"):
        match_instances(np.where(y_pred < 0, -2, 0), np.zeros((6, 6), np.int64))


def test_puncta_field_2048_identical_to_stardist():
    """A 2048 x 2048 field with 2,000 puncta (the size of the speed benchmark): many
    blocks of the first pass, label values far from consecutive."""
    sd = _stardist()
    y_true, y_pred = _puncta_field((2048, 2048), 2000, np.random.default_rng(5))
    thresholds = [0.1, 0.3, 0.5, 0.7, 0.9]
    for criterion in CRITERIA:
        assert_same_as_stardist(
            match_instances(y_true, y_pred, iou_threshold=thresholds, criterion=criterion),
            sd.matching(y_true, y_pred, thresh=thresholds, criterion=criterion),
            context=criterion,
        )


# ------------------------------------------------------------ hypothesis properties

label_images = hnp.arrays(
    np.int32,
    st.tuples(st.integers(1, 10), st.integers(1, 10)),
    elements=st.integers(0, 5),
)
thresholds = st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.51, 0.7, 0.9, 1.0])
criteria = st.sampled_from(CRITERIA)


def _counts(r):
    return (r.n_true, r.n_pred, r.tp, r.fp, r.fn)


@st.composite
def image_pairs(draw):
    y_true = draw(label_images)
    y_pred = draw(hnp.arrays(np.int32, y_true.shape, elements=st.integers(0, 5)))
    return y_true, y_pred


@settings(max_examples=150, deadline=None)
@given(image_pairs(), thresholds, criteria, st.randoms(use_true_random=False))
def test_relabelling_changes_nothing(pair, thr, criterion, rnd):
    # Counts and every ratio of counts are invariant. The summed score of the matched
    # pairs is too, except between exactly tied optimal assignments, where stardist's
    # choice (and ours, which reproduces it) depends on label order: about 1 case in
    # 27,000 on these noise-like images, none on real masks.
    y_true, y_pred = pair
    perm = np.array([0] + rnd.sample(range(1, 40), 5))  # label k -> perm[k], a bijection
    a = match_instances(y_true, y_pred, iou_threshold=thr, criterion=criterion)
    b = match_instances(perm[y_true], perm[y_pred], iou_threshold=thr, criterion=criterion)
    assert _counts(a) == _counts(b)
    assert (a.precision, a.recall, a.f1, a.ap_dsb) == (b.precision, b.recall, b.f1, b.ap_dsb)


@settings(max_examples=100, deadline=None)
@given(label_images, thresholds, criteria)
def test_identical_images_score_one(y, thr, criterion):
    r = match_instances(y, y, iou_threshold=thr, criterion=criterion)
    assert r.f1 == 1.0 and r.precision == 1.0 and r.recall == 1.0 and r.ap_dsb == 1.0
    assert r.mean_matched_iou == pytest.approx(1.0) and r.panoptic_quality == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(image_pairs(), thresholds)
def test_swapping_arguments_swaps_precision_and_recall(pair, thr):
    y_true, y_pred = pair
    a = match_instances(y_true, y_pred, iou_threshold=thr)
    b = match_instances(y_pred, y_true, iou_threshold=thr)
    assert (a.tp, a.fp, a.fn, a.n_true, a.n_pred) == (b.tp, b.fn, b.fp, b.n_pred, b.n_true)
    assert (a.precision, a.recall, a.f1) == (b.recall, b.precision, b.f1)
    # iot and iop swap roles too
    c = match_instances(y_true, y_pred, iou_threshold=thr, criterion="iot")
    d = match_instances(y_pred, y_true, iou_threshold=thr, criterion="iop")
    assert (c.tp, c.fp, c.fn) == (d.tp, d.fn, d.fp)


@settings(max_examples=150, deadline=None)
@given(image_pairs(), criteria)
def test_tp_never_increases_with_threshold_and_scores_in_unit_interval(pair, criterion):
    y_true, y_pred = pair
    rs = match_instances(y_true, y_pred, iou_threshold=np.linspace(0.05, 1.0, 20), criterion=criterion)
    tps = [r.tp for r in rs]
    assert all(x >= y for x, y in zip(tps, tps[1:]))
    for r in rs:
        for name in ("precision", "recall", "f1", "ap_dsb", "mean_matched_iou", "panoptic_quality"):
            assert 0.0 <= getattr(r, name) <= 1.0 + 1e-12, name
        assert r.tp + r.fp == r.n_pred and r.tp + r.fn == r.n_true


@settings(max_examples=150, deadline=None)
@given(image_pairs(), image_pairs(), thresholds, criteria)
def test_pooled_two_images_equal_the_two_tiled_side_by_side(p1, p2, thr, criterion):
    (t1, q1), (t2, q2) = p1, p2
    h = max(t1.shape[0], t2.shape[0])

    def pad(y):
        return np.pad(y, ((0, h - y.shape[0]), (0, 0)))

    offset = 100  # distinct labels in the two halves
    tiled_true = np.hstack([pad(t1), np.where(pad(t2) > 0, pad(t2) + offset, 0)])
    tiled_pred = np.hstack([pad(q1), np.where(pad(q2) > 0, pad(q2) + offset, 0)])
    pooled = match_dataset([t1, t2], [q1, q2], iou_threshold=thr, criterion=criterion)
    tiled = match_instances(tiled_true, tiled_pred, iou_threshold=thr, criterion=criterion)
    assert _counts(pooled) == _counts(tiled)
    assert (pooled.precision, pooled.recall, pooled.f1, pooled.ap_dsb) == (
        tiled.precision,
        tiled.recall,
        tiled.f1,
        tiled.ap_dsb,
    )
    assert pooled.sum_matched_iou == pytest.approx(tiled.sum_matched_iou)
