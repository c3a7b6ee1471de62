"""Split files: committed, hash-checked, disjoint, and the only path to data."""

import inspect
import json

import pytest

from bench.data import DataError, dataset_names, get_dataset
from bench.methods import Method
from bench.splits import SPLITS, get_split, read_split_file, split_hash, split_path, write_split


#: datasets whose split can only be written once the upstream archive has been seen:
#: nobody could list gowt1-full's annotated frames without downloading the CTC archive
PENDING_SPLIT = {"gowt1-full"}


def test_a_pending_split_says_how_to_write_it():
    for name in PENDING_SPLIT:
        assert not split_path(name).is_file(), f"{name} has a split now: drop it from PENDING_SPLIT"
        with pytest.raises(DataError, match=rf"`bench splits --write {name}`"):
            get_split(name)


@pytest.mark.parametrize("name", [n for n in dataset_names() if n not in PENDING_SPLIT])
def test_every_dataset_has_a_valid_committed_split(name):
    path = split_path(name)
    assert path.is_file(), f"{path} is missing"
    sp = read_split_file(path)
    assert sp.dataset == name
    ids = [i for k in SPLITS for i in sp.ids(k)]
    assert len(ids) == len(set(ids)), "an id is in two splits"
    assert all(len(sp.ids(k)) >= 1 for k in SPLITS)


@pytest.mark.parametrize("name", [n for n in dataset_names() if n != "cellular" and n not in PENDING_SPLIT])
def test_committed_split_equals_the_rule(name):
    ds = get_dataset(name)
    if not ds.available:
        pytest.skip(f"{name}: {ds.unavailable_reason()}")
    rule_split, _ = ds.split_rule()
    sp = get_split(name)
    for k in SPLITS:
        assert list(sp.ids(k)) == rule_split[k]


def test_hash_detects_a_hand_edit(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_SPLITS", str(tmp_path))
    path = write_split("synth-lyso")
    doc = json.loads(path.read_text())
    doc["test"].append(doc["train"].pop())
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"synth-lyso\.json: content hash mismatch"):
        get_split("synth-lyso")


def test_missing_split_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_SPLITS", str(tmp_path))
    with pytest.raises(DataError, match=r"no split file for dataset 'gowt1'"):
        get_split("gowt1")


def test_split_errors_name_the_file_relative_to_the_repository(monkeypatch):
    """The message reaches the book (a dataset card says why it has no counts): the file is named
    as in the repository, not by this machine's absolute path."""
    from bench.paths import repo_root

    monkeypatch.delenv("BENCH_SPLITS", raising=False)
    with pytest.raises(DataError) as err:
        get_split("gowt1-full")
    msg = str(err.value)
    assert msg.startswith("benchmark/splits/gowt1-full.json: no split file") and str(repo_root()) not in msg


def test_split_hash_ignores_key_order():
    a = {"train": ["a"], "val": ["b"], "test": ["c"]}
    b = {"test": ["c"], "val": ["b"], "train": ["a"]}
    assert split_hash(a) == split_hash(b)
    assert split_hash(a) != split_hash({"train": ["a"], "val": ["c"], "test": ["b"]})


def test_unknown_split_name():
    with pytest.raises(ValueError, match=r"`split` must be one of"):
        get_split("synth-lyso").ids("testing")


def test_methods_cannot_receive_test_labels():
    """By construction: fit() sees train and val only; predict() sees an image array."""
    fit = inspect.signature(Method.fit)
    assert list(fit.parameters)[1:3] == ["train", "val"]
    assert list(inspect.signature(Method.predict).parameters)[1:] == ["image"]
    predict_full = inspect.signature(Method.predict_full)
    assert list(predict_full.parameters)[1:] == ["image"]
