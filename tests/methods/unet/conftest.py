"""Tiny synthetic samples for the U-Net tests (no dataset generator needed)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data import Sample


def make_blobs(seed: int, *, shape=(64, 64), n=6, radius=(4, 7), classes=True) -> Sample:
    """Bright discs on a dark noisy background; class 1 discs also light up channel 1."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    cls: dict[int, int] = {}
    k = 0
    for _ in range(n * 4):
        if k == n:
            break
        r = rng.uniform(*radius)
        cy, cx = rng.uniform(r, shape[0] - r), rng.uniform(r, shape[1] - r)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        if (labels[disc] > 0).any():
            continue
        k += 1
        labels[disc] = k
        cls[k] = int(rng.integers(0, 2))
    image = rng.normal(0.1, 0.03, size=(*shape, 2)).astype(np.float32)
    image[..., 0] += 0.8 * (labels > 0)
    loaded = np.isin(labels, [i for i, c in cls.items() if c == 1])
    image[..., 1] += 0.8 * loaded
    return Sample(
        name=f"blobs-{seed}", image=image, channels=("lamp1", "cargo"), labels=labels,
        classes=cls if classes else None,
    )


@pytest.fixture(scope="module")
def blobs():
    """(train, val, test) lists of tiny two-class samples."""
    return [make_blobs(i) for i in range(4)], [make_blobs(10 + i) for i in range(2)], [make_blobs(20)]
