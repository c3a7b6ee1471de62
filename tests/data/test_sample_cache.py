"""bench.data.sample_cache: a run loads each sample once; the samples are exactly the dataset's."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.sample_cache import SAMPLE_CACHE_ENV, load_sample
from bench.splits import get_split, load_fit_data, load_test_truth

DATASET = "synth-lyso-easy"


def _same(a, b):
    assert a.name == b.name and a.channels == b.channels
    np.testing.assert_array_equal(a.image, b.image)
    assert a.image.dtype == b.image.dtype
    for f in ("labels", "semantic", "boxes"):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype
    assert dict(a.classes or {}) == dict(b.classes or {}) and dict(a.meta) == dict(b.meta)


@pytest.fixture
def counted(monkeypatch):
    """The dataset, with ``load`` counting its calls."""
    ds = get_dataset(DATASET)
    calls = []
    original = type(ds).load

    def load(self, sid):
        calls.append(sid)
        return original(self, sid)

    monkeypatch.setattr(type(ds), "load", load)
    return ds, calls


def test_without_the_variable_nothing_is_cached(counted, monkeypatch, tmp_path):
    monkeypatch.delenv(SAMPLE_CACHE_ENV, raising=False)
    ds, calls = counted
    sid = get_split(DATASET).ids("test")[0]
    load_sample(ds, sid), load_sample(ds, sid)
    assert calls == [sid, sid]


def test_a_cached_sample_is_loaded_once_and_is_exactly_the_datasets(counted, monkeypatch, tmp_path):
    monkeypatch.setenv(SAMPLE_CACHE_ENV, str(tmp_path / "samples"))
    ds, calls = counted
    first_truth = load_test_truth(DATASET)
    n = len(first_truth)
    again = load_test_truth(DATASET)
    assert len(calls) == n  # the second pass read every sample back from the cache
    assert len(list((tmp_path / "samples").glob("*.pkl"))) == n
    monkeypatch.delenv(SAMPLE_CACHE_ENV)
    fresh = load_test_truth(DATASET)
    for a, b, c in zip(first_truth, again, fresh):
        _same(a, c), _same(b, c)
    train, _ = load_fit_data(DATASET)
    assert train[0].classes, "a classification dataset: classes survive the round trip"


def test_a_damaged_entry_is_loaded_again(counted, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv(SAMPLE_CACHE_ENV, str(tmp_path))
    ds, calls = counted
    sid = get_split(DATASET).ids("test")[0]
    good = load_sample(ds, sid)
    (entry,) = tmp_path.glob("*.pkl")
    entry.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="bench.data.sample_cache"):
        again = load_sample(ds, sid)
    assert calls == [sid, sid] and "unreadable" in caplog.text
    _same(good, again)
    load_sample(ds, sid)
    assert calls == [sid, sid]  # rewritten


def test_cached_arrays_are_writable_views_that_never_change_the_entry(counted, monkeypatch, tmp_path):
    """Read back, a sample's arrays map the file copy-on-write: a method may write into them
    (normalising in place), and the next cell still reads the dataset's sample."""
    monkeypatch.setenv(SAMPLE_CACHE_ENV, str(tmp_path))
    ds, calls = counted
    sid = get_split(DATASET).ids("test")[0]
    original = load_sample(ds, sid)
    cached = load_sample(ds, sid)
    assert calls == [sid]
    assert cached.image.flags.writeable and not cached.image.flags.owndata
    cached.image[...] = -1.0
    cached.labels[...] = 0
    _same(load_sample(ds, sid), original)
    assert calls == [sid]


def test_entries_keep_non_contiguous_arrays_and_plain_objects(tmp_path):
    from bench.data.sample_cache import _read, _write

    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    obj = {"view": base[:, ::3], "fortran": np.asfortranarray(base), "empty": np.zeros((0, 4), np.int32),
           "scalar": 3, "text": "x"}
    with (tmp_path / "e.pkl").open("wb") as f:
        _write(obj, f)
    back = _read(tmp_path / "e.pkl")
    for k in ("view", "fortran", "empty"):
        np.testing.assert_array_equal(back[k], obj[k])
        assert back[k].dtype == obj[k].dtype
    assert back["fortran"].flags.f_contiguous and back["scalar"] == 3 and back["text"] == "x"
    (tmp_path / "cut.pkl").write_bytes((tmp_path / "e.pkl").read_bytes()[:-8])
    with pytest.raises(ValueError, match="truncated"):
        _read(tmp_path / "cut.pkl")
