"""Tests of the synthetic generators (bench.data.synthetic)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from bench.data.sample import Sample
from bench.data.synthetic import (
    CELL_CLASS_NAMES,
    CELLS_CHANNELS,
    GENERATOR_VERSION,
    LYSO_CHANNELS,
    LYSO_CLASS_NAMES,
    PUNCTA_CLASS_NAMES,
    ROSELLA_CHANNELS,
    ROSELLA_SEMANTIC_NAMES,
    make_cells,
    make_lyso,
    make_rosella,
)

DIFFICULTIES = ("easy", "realistic")

# (id, callable(seed, difficulty, shape) -> Sample, small shape, channels, n_classes)
GENERATORS = {
    "lyso": (
        lambda s, d, shape=(128, 128): make_lyso(s, difficulty=d, shape=shape),
        LYSO_CHANNELS,
        2,
    ),
    "cells": (
        lambda s, d, shape=(256, 256): make_cells(s, difficulty=d, shape=shape),
        CELLS_CHANNELS,
        3,
    ),
    "puncta": (
        lambda s, d, shape=(256, 256): make_cells(s, difficulty=d, shape=shape, target="puncta"),
        CELLS_CHANNELS,
        2,
    ),
    "rosella": (
        lambda s, d, shape=(128, 128): make_rosella(s, difficulty=d, shape=shape),
        ROSELLA_CHANNELS,
        3,
    ),
}


def _same(a: Sample, b: Sample) -> bool:
    def eq(x, y):
        if x is None or y is None:
            return x is y
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()

    return (
        a.name == b.name
        and a.channels == b.channels
        and eq(a.image, b.image)
        and eq(a.labels, b.labels)
        and eq(a.semantic, b.semantic)
        and a.classes == b.classes
        and a.meta == b.meta
    )


def _pixel_noise(channel: np.ndarray, where: np.ndarray) -> float:
    """Robust per-pixel noise: MAD of the high-pass residual over ``where``."""
    res = (channel - ndi.gaussian_filter(channel, 2.0))[where]
    return float(1.4826 * np.median(np.abs(res - np.median(res))))


def _check_labels(sample: Sample, n_classes: int) -> None:
    lab = sample.labels
    assert lab.dtype == np.int32 and lab.shape == sample.shape
    ids = np.unique(lab)
    n = int(lab.max())
    np.testing.assert_array_equal(ids[ids > 0], np.arange(1, n + 1))  # consecutive from 1
    assert set(sample.classes) == set(range(1, n + 1))
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in sample.classes.items())
    assert set(sample.classes.values()) <= set(range(n_classes))


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("kind", list(GENERATORS))
def test_contract(kind, difficulty):
    gen, channels, n_classes = GENERATORS[kind]
    s = gen(3, difficulty)
    assert isinstance(s, Sample)
    assert s.channels == channels
    assert s.image.dtype == np.float32 and s.image.ndim == 3 and s.image.shape[2] == len(channels)
    assert s.image.flags.c_contiguous
    assert np.isfinite(s.image).all()
    assert 0.0 <= s.image.min() and s.image.max() <= 1.0
    # camera-like, not min/max normalised: the black level (offset) stays above 0
    assert np.median(s.image) > 90 / 4095
    prefix = "cells" if kind == "puncta" else kind
    assert s.name == f"{prefix}-00003"
    assert s.meta["source"] == f"synthetic:make_{prefix} v{GENERATOR_VERSION}"
    assert s.meta["seed"] == 3 and s.meta["difficulty"] == difficulty
    assert s.meta["pixel_size_um"] > 0
    if kind == "rosella":
        assert s.labels is None and s.classes is None
        assert s.semantic.dtype == np.int32 and s.semantic.shape == s.shape
        assert set(np.unique(s.semantic)) <= {0, 1, 2}
    else:
        assert s.semantic is None
        _check_labels(s, n_classes)
        assert s.n_objects > 0


def test_names_of_classes_and_channels():
    assert LYSO_CLASS_NAMES == ("empty", "loaded")
    assert CELL_CLASS_NAMES == ("basal", "activated", "unknown")
    assert PUNCTA_CLASS_NAMES == ("autophagosome", "autolysosome")
    assert ROSELLA_SEMANTIC_NAMES == ("background", "phagophore", "autolysosome")
    assert isinstance(GENERATOR_VERSION, str) and GENERATOR_VERSION


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("kind", list(GENERATORS))
def test_deterministic(kind, difficulty):
    gen = GENERATORS[kind][0]
    a, b = gen(11, difficulty), gen(11, difficulty)
    assert _same(a, b)
    c = gen(12, difficulty)
    assert not np.array_equal(a.image, c.image)


def test_global_random_state_untouched():
    state = np.random.get_state()
    try:
        expected = np.random.random(3)
        np.random.set_state(state)
        for gen, *_ in GENERATORS.values():
            gen(0, "realistic", (64, 64))
        np.testing.assert_array_equal(np.random.random(3), expected)
    finally:
        np.random.set_state(state)


def test_seed_accepts_numpy_integers():
    assert _same(make_lyso(np.int64(4), shape=(64, 64)), make_lyso(4, shape=(64, 64)))


def test_difficulties_differ():
    for gen, *_ in GENERATORS.values():
        assert not np.array_equal(gen(1, "easy").image, gen(1, "realistic").image)


def test_cells_and_puncta_are_the_same_field():
    cells = make_cells(5, shape=(256, 256))
    puncta = make_cells(5, shape=(256, 256), target="puncta")
    assert cells.image.tobytes() == puncta.image.tobytes()
    assert cells.meta["cells"] == puncta.meta["cells"]
    assert cells.meta["puncta"] == puncta.meta["puncta"]
    assert cells.meta["target"] == "cells" and puncta.meta["target"] == "puncta"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    difficulty=st.sampled_from(DIFFICULTIES),
    shape=st.tuples(st.integers(64, 160), st.integers(64, 160)),
    kind=st.sampled_from(list(GENERATORS)),
)
def test_invariants_any_seed_and_shape(seed, difficulty, shape, kind):
    gen, channels, n_classes = GENERATORS[kind]
    s = gen(seed, difficulty, shape)
    assert s.image.shape == shape + (len(channels),)
    assert np.isfinite(s.image).all()
    if s.labels is not None:
        _check_labels(s, n_classes)
    else:
        assert set(np.unique(s.semantic)) <= {0, 1, 2}


# --------------------------------------------------------------------------- ground truth vs meta


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_lyso_labels_match_meta(difficulty):
    s = make_lyso(7, difficulty=difficulty)
    obj = s.meta["objects"]
    labelled = [(lab, c) for lab, c in zip(obj["label"], obj["class"], strict=True) if lab > 0]
    assert sorted(lab for lab, _ in labelled) == list(range(1, s.labels.max() + 1))
    assert dict(labelled) == dict(s.classes)
    # only in-focus organelles are labelled
    assert all(f for lab, f in zip(obj["label"], obj["in_focus"], strict=True) if lab > 0)
    if difficulty == "easy":
        assert all(obj["in_focus"]) and len(labelled) == len(obj["label"])
    else:
        assert not all(obj["in_focus"])  # some out-of-focus organelles are present


def test_lyso_cargo_in_loaded_lumens_only():
    s = make_lyso(2, difficulty="easy")
    cargo = s.channel("cargo")
    lab = s.labels
    loaded = np.isin(lab, [k for k, v in s.classes.items() if v == 1])
    empty = np.isin(lab, [k for k, v in s.classes.items() if v == 0])
    background = ~ndi.binary_dilation(lab > 0, iterations=4)
    assert cargo[loaded].mean() > 3 * cargo[empty].mean()
    assert cargo[empty].mean() < 1.5 * cargo[background].mean()


def test_puncta_inside_cells():
    for difficulty in DIFFICULTIES:
        cells = make_cells(8, difficulty=difficulty, shape=(256, 256))
        puncta = make_cells(8, difficulty=difficulty, shape=(256, 256), target="puncta")
        assert puncta.labels.max() > 0
        assert (cells.labels[puncta.labels > 0] > 0).all()
        # every labelled punctum belongs to a cell that is itself labelled and not `unknown`
        meta = puncta.meta["puncta"]
        hosts = {c for lab, c in zip(meta["label"], meta["cell_label"], strict=True) if lab > 0}
        assert 0 not in hosts
        assert all(cells.classes[c] in (0, 1) for c in hosts)


def test_puncta_colours():
    s = make_cells(4, difficulty="easy", target="puncta")
    gfp, rfp = s.channel("gfp").astype(float), s.channel("rfp").astype(float)
    red = np.isin(s.labels, [k for k, v in s.classes.items() if v == 1])
    yellow = np.isin(s.labels, [k for k, v in s.classes.items() if v == 0])
    ratio_red = gfp[red].mean() / rfp[red].mean()
    ratio_yellow = gfp[yellow].mean() / rfp[yellow].mean()
    assert ratio_red < 0.8 * ratio_yellow  # red-only puncta lack GFP


def test_easy_puncta_do_not_touch():
    s = make_cells(2, difficulty="easy", target="puncta")
    boundary_neighbours = ndi.grey_dilation(s.labels, size=3)
    touching = (s.labels > 0) & (boundary_neighbours != s.labels)
    assert not touching.any()


def test_cells_unknown_have_no_reporter_signal():
    s = make_cells(6, difficulty="easy")
    gfp = s.channel("gfp").astype(float)
    means = ndi.mean(gfp, s.labels, index=np.arange(1, s.labels.max() + 1))
    cls = np.array([s.classes[i] for i in range(1, s.labels.max() + 1)])
    assert means[cls == 2].max() < means[cls != 2].min()


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_rosella_classes_present_and_coloured(difficulty):
    seen = set()
    for seed in range(3):
        s = make_rosella(seed, difficulty=difficulty)
        seen |= set(np.unique(s.semantic).tolist())
        gfp, rfp = s.channel("gfp").astype(float), s.channel("rfp").astype(float)
        one, two = s.semantic == 1, s.semantic == 2
        if one.any() and two.any():
            # autolysosomes are RFP-only: their GFP/RFP ratio is far below the puncta's
            assert gfp[two].mean() / rfp[two].mean() < 0.6 * gfp[one].mean() / rfp[one].mean()
        # background is not trivial: cytosol of class 0 is brighter than the empty field
        assert np.percentile(gfp[s.semantic == 0], 90) > 2 * np.percentile(gfp[s.semantic == 0], 10)
    assert seen == {0, 1, 2}


# --------------------------------------------------------------------------- balance and counts


def test_lyso_class_balance():
    loaded = total = 0
    for seed in range(6):
        s = make_lyso(seed)
        v = np.array(list(s.classes.values()))
        loaded += int(v.sum())
        total += v.size
        assert 10 <= v.size <= 60
    assert 0.2 <= loaded / total <= 0.65


def test_cells_class_balance():
    counts = np.zeros(3)
    for seed in range(2):
        s = make_cells(seed)
        c = np.bincount(list(s.classes.values()), minlength=3)
        assert (c > 0).all()
        assert 100 <= c.sum() <= 300  # CELLULAR fields hold 140-386 cells
        counts += c
    frac = counts / counts.sum()
    np.testing.assert_allclose(frac, [0.32, 0.23, 0.45], atol=0.1)


def test_activated_cells_have_more_red_puncta():
    meta = make_cells(0).meta["cells"]
    cls = np.array(meta["class"])
    red = np.array(meta["n_red_puncta"])
    assert red[cls == 1].mean() > 4 * red[cls == 0].mean()


def test_object_count_scales_with_area():
    small = [make_lyso(s, shape=(256, 256)).meta["objects"] for s in range(3)]
    large = [make_lyso(s, shape=(512, 512)).meta["objects"] for s in range(3)]
    n_small = np.mean([len(o["label"]) for o in small])
    n_large = np.mean([len(o["label"]) for o in large])
    assert 2.5 < n_large / n_small < 5.5


# --------------------------------------------------------------------------- SNR


def test_easy_has_higher_snr_than_realistic():
    snr = {}
    for difficulty in DIFFICULTIES:
        vals = []
        for seed in range(3):
            s = make_lyso(seed, difficulty=difficulty)
            g = s.channel("lamp1").astype(float)
            bg = ~ndi.binary_dilation(s.labels > 0, iterations=4)
            vals.append(
                (np.percentile(g[s.labels > 0], 90) - np.median(g[bg])) / _pixel_noise(g, bg)
            )
        snr["lyso", difficulty] = float(np.mean(vals))
        s = make_cells(1, difficulty=difficulty)
        g = s.channel("gfp").astype(float)
        cls = np.array([-1] + [s.classes[i] for i in range(1, s.labels.max() + 1)])
        expressing = (s.labels > 0) & (cls[s.labels] < 2)
        bg = ~ndi.binary_dilation(s.labels > 0, iterations=6)
        snr["cells", difficulty] = (np.median(g[expressing]) - np.median(g[bg])) / _pixel_noise(
            g, bg
        )
        s = make_rosella(1, difficulty=difficulty)
        g = s.channel("gfp").astype(float)
        whole = np.ones(g.shape, dtype=bool)
        snr["rosella", difficulty] = (np.percentile(g, 95) - np.percentile(g, 5)) / _pixel_noise(
            g, whole
        )
    print("contrast-to-noise ratios:", {k: round(v, 1) for k, v in snr.items()})
    for kind in ("lyso", "cells", "rosella"):
        assert snr[kind, "easy"] > 3 * snr[kind, "realistic"], kind


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make", [make_lyso, make_cells, make_rosella])
@pytest.mark.parametrize("bad", ["hard", "Easy", "", None, 1])
def test_bad_difficulty(make, bad):
    with pytest.raises(ValueError, match=r"`difficulty` must be one of 'easy', 'realistic'"):
        make(0, difficulty=bad)


@pytest.mark.parametrize("make", [make_lyso, make_cells, make_rosella])
@pytest.mark.parametrize(
    "bad", [(16, 256), (256,), (256, 256, 3), "256", 256, (256.0, 256), (True, 256), None]
)
def test_bad_shape(make, bad):
    with pytest.raises(ValueError, match=r"`shape` must be a \(Y, X\) pair of ints"):
        make(0, shape=bad)


def test_cells_need_a_larger_minimum_shape():
    with pytest.raises(ValueError, match=r">= 64"):
        make_cells(0, shape=(48, 256))


@pytest.mark.parametrize("bad", ["nuclei", "Cells", None, ""])
def test_bad_target(bad):
    with pytest.raises(ValueError, match=r"`target` must be one of 'cells', 'puncta'"):
        make_cells(0, target=bad)


@pytest.mark.parametrize("make", [make_lyso, make_cells, make_rosella])
def test_bad_seed(make):
    with pytest.raises(ValueError, match="`seed` must be a non-negative int"):
        make(-1)
    for bad in (1.5, "3", True, None):
        with pytest.raises(TypeError, match="`seed` must be a non-negative int"):
            make(bad)


# --------------------------------------------------------------------------- speed (report only)


def test_generation_time_report():
    """Prints the time per default-size image; no assertion (machines differ)."""
    for name, make in (("lyso", make_lyso), ("cells", make_cells), ("rosella", make_rosella)):
        for difficulty in DIFFICULTIES:
            make(99, difficulty=difficulty)
            t0 = time.perf_counter()
            for seed in range(2):
                make(seed, difficulty=difficulty)
            print(
                f"{name:8s} {difficulty:10s} {(time.perf_counter() - t0) / 2 * 1000:7.1f} ms/image"
            )
