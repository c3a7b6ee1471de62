"""Fixtures of the metric tests: random label images, real masks, perturbations."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage as ndi

#: ``shared/data`` beside the repository root (read-only mirror of public data).
SHARED_DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()

#: The thresholds of the cross-checks against stardist.
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def blob_labels(shape, n, rng, *, smooth=2.0, fill=0.5, scale_ids=True):
    """Random instance labels: Voronoi cells of `n` seeds cut by a smooth foreground.

    Label values are shuffled and (optionally) spread out, so they are not
    consecutive."""
    seeds = np.zeros(shape, np.int64)
    idx = rng.choice(seeds.size, size=min(n, seeds.size), replace=False)
    ids = rng.permutation(np.arange(1, idx.size + 1))
    seeds.flat[idx] = ids * (int(rng.integers(1, 5)) if scale_ids else 1)
    fg = ndi.gaussian_filter(rng.random(shape), smooth) > np.quantile(
        ndi.gaussian_filter(rng.random(shape), smooth), 1 - fill
    )
    _, (ii, jj) = ndi.distance_transform_edt(seeds == 0, return_indices=True)
    return (seeds[ii, jj] * fg).astype(np.int32)


def erode_labels(labels, iterations=1):
    """Remove the pixels of each object that touch another label or the background."""
    out = labels.copy()
    for _ in range(iterations):
        p = np.pad(out, 1)
        same = np.ones(out.shape, bool)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            same &= p[1 + dy : p.shape[0] - 1 + dy, 1 + dx : p.shape[1] - 1 + dx] == out
        out = np.where(same, out, 0)
    return out


def dilate_labels(labels, distance=2):
    """Grow objects into the background (never into each other)."""
    d, (ii, jj) = ndi.distance_transform_edt(labels == 0, return_indices=True)
    return np.where(d <= distance, labels[ii, jj], 0).astype(labels.dtype)


def split_labels(labels, rng, fraction=0.5):
    """Cut a fraction of the objects in two along a vertical line through their centre."""
    out = labels.copy()
    ids = np.unique(labels)
    ids = ids[ids != 0]
    chosen = rng.choice(ids, size=max(1, int(fraction * ids.size)), replace=False) if ids.size else []
    next_id = int(labels.max()) + 1
    for obj in chosen:
        rr, cc = np.nonzero(labels == obj)
        left = cc < np.median(cc)
        out[rr[left], cc[left]] = next_id
        next_id += 1
    return out


def merge_labels(labels, rng, fraction=0.3):
    """Merge random pairs of touching objects (the second takes the first's label)."""
    out = labels.copy()
    # pairs of different labels that are horizontal or vertical neighbours
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    keep = (a != b) & (a != 0) & (b != 0)
    pairs = np.unique(np.sort(np.stack([a[keep], b[keep]], 1), axis=1), axis=0)
    if pairs.size == 0:
        return out
    pairs = pairs[rng.permutation(len(pairs))[: max(1, int(fraction * len(pairs)))]]
    for x, y in pairs:
        out[out == y] = x
    return out


def shift_labels(labels, dy=3, dx=-2):
    out = np.zeros_like(labels)
    h, w = labels.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = labels[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def drop_labels(labels, rng, fraction=0.25):
    ids = np.unique(labels)
    ids = ids[ids != 0]
    gone = rng.choice(ids, size=int(fraction * ids.size), replace=False) if ids.size else []
    return np.where(np.isin(labels, gone), 0, labels)


def relabel_random(labels, rng):
    """Same objects, shuffled and spread-out label values."""
    ids = np.unique(labels)
    ids = ids[ids != 0]
    new = rng.permutation(np.arange(1, ids.size + 1)) * 7 + 1000
    lut = np.zeros(int(labels.max()) + 1, np.int64)
    lut[ids] = new
    return lut[labels]


PERTURBATIONS = {
    "eroded": lambda y, rng: erode_labels(y, 2),
    "dilated": lambda y, rng: dilate_labels(y, 3),
    "split": lambda y, rng: split_labels(y, rng),
    "merged": lambda y, rng: merge_labels(dilate_labels(y, 4), rng),
    "shifted": lambda y, rng: shift_labels(y),
    "dropped": lambda y, rng: drop_labels(y, rng),
    "mixed": lambda y, rng: relabel_random(split_labels(drop_labels(shift_labels(y, 1, 1), rng), rng, 0.2), rng),
}


def _load_nih3t3():
    from PIL import Image

    folder = SHARED_DATA / "nih3t3" / "masks"
    if not folder.is_dir():
        pytest.skip(f"real masks absent: {folder} does not exist (read-only mirror, see ../shared/data/README.md)")
    files = sorted(folder.glob("*.png"), key=lambda p: int(p.stem))
    return [(p.name, ndi.label(np.asarray(Image.open(p)) > 0)[0].astype(np.int32)) for p in files]


def _load_gowt1():
    folder = SHARED_DATA / "gowt1" / "masks"
    if not folder.is_dir():
        pytest.skip(f"real masks absent: {folder} does not exist (read-only mirror, see ../shared/data/README.md)")
    tifffile = pytest.importorskip("tifffile", reason="reading the GOWT1 masks needs tifffile + imagecodecs")
    return [(p.name, tifffile.imread(p)) for p in sorted(folder.glob("man_seg*.tif"))]


@pytest.fixture(scope="session")
def nih3t3_masks():
    """(name, int32 instance labels) of the 18 NIH3T3 masks (connected components)."""
    return _load_nih3t3()


@pytest.fixture(scope="session")
def gowt1_masks():
    """(name, uint16 instance labels) of the 6 GOWT1 reference segmentations."""
    return _load_gowt1()


@pytest.fixture(scope="session")
def lab():
    """The helpers above, for test modules (which cannot import this conftest)."""
    return SimpleNamespace(
        blob_labels=blob_labels,
        erode_labels=erode_labels,
        dilate_labels=dilate_labels,
        split_labels=split_labels,
        merge_labels=merge_labels,
        shift_labels=shift_labels,
        drop_labels=drop_labels,
        relabel_random=relabel_random,
        PERTURBATIONS=PERTURBATIONS,
        THRESHOLDS=THRESHOLDS,
        SHARED_DATA=SHARED_DATA,
    )
