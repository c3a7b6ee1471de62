"""Contract tests parametrised over every registered method (benchopt style).

Each method, on a tiny slice of a dataset it applies to, must: give a skip
reason or run; return int32 labels of the image's shape; be deterministic
given ``rng``; survive save/load with identical predictions; have an id that
round-trips through :func:`get_method`.
"""

import dataclasses
import json

import numpy as np
import pytest

from bench.data import get_dataset
from bench.methods import Method, get_method, method_class, method_names
from bench.splits import load_fit_data, load_test_images

ALL = method_names()
#: a small dataset per task, used for every method
TINY = {"instance": "synth-lyso-easy", "semantic": "synth-rosella-easy"}


def _make(name):
    m = get_method(name)
    fields = {f.name for f in dataclasses.fields(m.Params)}
    if "profile" in fields:  # trainable methods: seconds, not minutes
        m = get_method(name, profile="ci")
    return m


def _dataset_for(m):
    for task, ds in TINY.items():
        if task in m.tasks:
            return ds
    pytest.skip(f"{m.id} solves {m.tasks}: no tiny dataset for it")


@pytest.mark.parametrize("name", ALL)
def test_declares_itself(name):
    cls = method_class(name)
    assert cls.__doc__ and len(cls.__doc__.strip()) > 80, f"{name}: docstring must explain the algorithm"
    assert cls.reference, f"{name}: `reference` must cite the method"
    assert dataclasses.is_dataclass(cls.Params)
    assert cls.Params.__dataclass_params__.frozen, f"{name}: Params must be frozen"
    m = get_method(name)
    # params are JSON-serialisable and the id round-trips
    json.dumps(dataclasses.asdict(m.params))
    assert get_method(m.id).params == m.params


@pytest.mark.parametrize("name", ALL)
def test_skip_returns_reason_or_none(name):
    m = get_method(name)
    for ds in ("synth-lyso", "synth-rosella", "nih3t3", "cellular-boxes", "cellular"):
        reason = m.skip(get_dataset(ds).info)
        assert reason is None or (isinstance(reason, str) and reason.strip())


@pytest.mark.parametrize("name", ALL)
def test_fit_predict_save_load(name, tmp_path):
    m = _make(name)
    ds = _dataset_for(m)
    reason = m.skip(get_dataset(ds).info)
    if reason is not None:
        pytest.skip(f"{m.id} is skipped on {ds}: {reason}")
    train, val = load_fit_data(ds, limit=2)
    test = load_test_images(ds, limit=1)[0]
    before = [(s.image.copy(), None if s.labels is None else s.labels.copy()) for s in [*train, *val]]
    m.fit(train, val, rng=0)
    for (img, lab), s in zip(before, [*train, *val]):  # fit must not change its data
        np.testing.assert_array_equal(s.image, img, err_msg=f"{m.id}.fit modified the image of {s.name}")
        if lab is not None:
            np.testing.assert_array_equal(s.labels, lab, err_msg=f"{m.id}.fit modified the labels of {s.name}")
    p1 = m.predict_full(test.image)
    assert p1.labels.dtype == np.int32 and p1.labels.shape == test.shape
    if p1.classes is not None:
        ids = set(np.unique(p1.labels[p1.labels > 0]).tolist())
        assert set(p1.classes) == ids, "a class for every predicted object, no more"
    # deterministic given rng
    m2 = _make(name).fit(train, val, rng=0)
    np.testing.assert_array_equal(m2.predict_full(test.image).labels, p1.labels)
    # save / load
    loaded = Method.load(m.save(tmp_path / "model"))
    assert loaded.id == m.id
    np.testing.assert_array_equal(loaded.predict_full(test.image).labels, p1.labels)
