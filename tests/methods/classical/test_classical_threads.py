"""The steps of classical methods that run on threads give the same bytes on one thread or two.

``log_spots`` filters its scales, ``fill_dark_holes`` its grey levels, and
normalisation, the mean plane, the LoG maxima and the watershed their blocks
of rows on threads when the thread budget (``OMP_NUM_THREADS``) allows. The
benchmark's cells run on one thread each; a single field (``field2048.py``)
uses the machine's cores. Both must segment identically.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from bench.data.synthetic import make_lyso
from bench.methods._shared import normalize
from bench.methods._shared.parallel import row_blocks
from bench.methods.classical.features import _upsample, _upsample_axis
from bench.methods.classical.log_spots import (
    _grouped_watershed,
    log_candidates,
    log_response,
    prune_candidates,
    spot_basins,
)
from bench.methods.classical.planes import channel_plane

SIGMAS = [1.2, 2.0, 3.3, 5.0, 8.5]


@pytest.fixture(scope="module")
def field():
    # 1100 rows: two blocks of rows at the default minimum of 512 rows per block
    return make_lyso(7, shape=(1100, 160)).image


def _on(monkeypatch, threads, fn, *args, **kw):
    monkeypatch.setenv("OMP_NUM_THREADS", str(threads))
    return fn(*args, **kw)


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_normalise_mean_plane_log_response_and_maxima_do_not_depend_on_threads(monkeypatch, field):
    results = {}
    for t in (1, 2, 3):
        norm = _on(monkeypatch, t, normalize, field)
        plane = _on(monkeypatch, t, channel_plane, norm, ["a", "b"], "sum")
        best, scale = _on(monkeypatch, t, log_response, plane, SIGMAS)
        results[t] = (norm, plane, best, scale, _on(monkeypatch, t, log_candidates, best, scale))
    assert _same(results[1], results[2]) and _same(results[1], results[3])
    # the one-thread path is the plain computation
    norm = results[1][0]
    assert _same(results[1][1], norm.mean(axis=2, dtype=np.float32))
    assert len(results[1][4][0]) > 50  # spots were found


def test_upsample_equals_the_transposed_interpolation():
    rng = np.random.default_rng(0)
    for shape, f in [((37, 53), 2), ((101, 64), 4), ((8, 9), 4)]:
        p = rng.random((-(-shape[0] // f), -(-shape[1] // f)), dtype=np.float32)
        rows = _upsample_axis(p, f, shape[0])
        old = np.ascontiguousarray(_upsample_axis(rows.T, f, shape[1]).T)
        assert _same(_upsample(p, f, shape), old)


def _seeds(plane, threshold):
    best, scale = log_response(plane, SIGMAS)
    return best, prune_candidates(log_candidates(best, scale), SIGMAS, best.shape, threshold=threshold)


@pytest.mark.parametrize("n_blocks", [2, 3, 7])
@pytest.mark.parametrize("floor", [0.0, 0.01, 0.05])
def test_grouped_watershed_equals_scikit_image(field, n_blocks, floor):
    best, markers = _seeds(normalize(field)[..., 0], 0.02)
    image = -best.astype(np.float32)
    mask = (best > floor) | (markers > 0)
    ref = watershed(image, markers, mask=mask)
    got = _grouped_watershed(image, markers, mask, row_blocks(best.shape[0], threads=n_blocks, min_rows=1))
    assert len(np.unique(ref)) > 20
    if got is None:  # declined only for two seeds of one component with the same value
        comp = ndi.label(mask)[0][markers > 0]
        pairs = list(zip(comp.tolist(), image[markers > 0].tolist()))
        assert len(set(pairs)) < len(pairs)
        assert floor == 0.0  # this field's only tie: two background seeds joined at floor 0
    else:
        assert _same(ref, got)


def test_grouped_watershed_declines_tied_seeds_in_one_component():
    image = np.zeros((6, 9), np.float32)
    image[:, 4] = 1.0  # one component: the whole image
    markers = np.zeros(image.shape, np.int32)
    markers[2, 1], markers[3, 7] = 1, 2  # both at value 0
    mask = np.ones(image.shape, bool)
    assert _grouped_watershed(image, markers, mask, row_blocks(6, threads=2, min_rows=1)) is None
    # in two components the tie is harmless
    mask[:, 4] = False
    got = _grouped_watershed(image, markers, mask, row_blocks(6, threads=2, min_rows=1))
    assert _same(got, watershed(image, markers, mask=mask))


def test_spot_basins_do_not_depend_on_threads(monkeypatch, field):
    best, markers = _seeds(normalize(field)[..., 0], 0.02)
    one = _on(monkeypatch, 1, spot_basins, best, markers, floor=0.002)
    two = _on(monkeypatch, 2, spot_basins, best, markers, floor=0.002)
    assert _same(one, two)
    assert _same(one, watershed(-best.astype(np.float32), markers, mask=(best > 0.002) | (markers > 0)))


def test_hough_edges_and_candidates_do_not_depend_on_threads(monkeypatch, field):
    from bench.methods.classical.hough import _edge_strength, circle_candidates, edge_strength

    plane = normalize(field).mean(axis=2)
    for sigma in (0.0, 1.0, 2.5):
        one = _on(monkeypatch, 1, edge_strength, plane, sigma)
        for t in (2, 3):
            assert _same(one, _on(monkeypatch, t, edge_strength, plane, sigma))
        assert _same(one, _edge_strength(plane, sigma))  # the whole-image computation
    rng = np.random.default_rng(1)
    score = np.round(rng.random(plane.shape) * 20) / 20  # plateaus of equal maxima
    score[rng.random(plane.shape) < 0.3] = 0
    radius = rng.random(plane.shape).astype(np.float32)
    for sep in (1, 2.4, 6):
        got = [_on(monkeypatch, t, circle_candidates, score, radius, min_separation=sep, min_score=0.5)
               for t in (1, 2)]
        assert all(_same(a, b) for a, b in zip(*got))
        # scipy's maximum filter and centres of mass, on the whole image
        size = 2 * max(int(round(sep)), 1) + 1
        peak = (score >= ndi.maximum_filter(score, size=size, mode="constant")) & (score > 0) & (score >= 0.5)
        lab, n = ndi.label(peak, structure=np.ones((3, 3), bool))
        ref = np.asarray(ndi.center_of_mass(peak, lab, np.arange(1, n + 1)), float).reshape(-1, 2)
        order = np.lexsort((ref[:, 1], ref[:, 0]))
        mine = got[0][0][np.lexsort((got[0][0][:, 1], got[0][0][:, 0]))]
        assert n > 100 and _same(mine, ref[order])
