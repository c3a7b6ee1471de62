"""Common splits, stored as files, and the only way data reaches a method.

Every dataset has one split file ``benchmark/splits/<dataset>.json``::

    {"dataset": ..., "rule": ..., "train": [...], "val": [...], "test": [...],
     "sha256": <hash of the three id lists>}

The hash is checked on every load, so an edited file fails loudly instead of
silently changing the benchmark. ``folder:`` datasets carry their split in
the folder (``split.json``) or get a deterministic hash split.

Test labels never reach a method by construction: :func:`load_fit_data`
returns train and validation samples (with truth) for ``Method.fit``;
:func:`load_test_images` returns test samples stripped of their truth for
``Method.predict``; :func:`load_test_truth` is for scoring only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .progress import progress_bar

from .data import DataError, Sample, get_dataset
from .data.base import Dataset
from .data.sample_cache import load_sample
from .paths import shown_path, splits_dir

__all__ = [
    "Split",
    "SPLITS",
    "split_hash",
    "split_path",
    "get_split",
    "write_split",
    "load_fit_data",
    "load_test_images",
    "load_test_truth",
    "iter_split",
]

SPLITS = ("train", "val", "test")


def split_hash(split: dict) -> str:
    """SHA-256 of the id lists, independent of key order and JSON formatting."""
    payload = json.dumps({k: list(split[k]) for k in SPLITS}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Split:
    """Sample ids of one dataset's train / validation / test split."""

    dataset: str
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]
    rule: str
    sha256: str

    def ids(self, which: str) -> tuple[str, ...]:
        if which not in SPLITS:
            raise ValueError(f"`split` must be one of {SPLITS}, got {which!r}")
        return getattr(self, which)

    def sizes(self) -> dict[str, int]:
        return {k: len(self.ids(k)) for k in SPLITS}


def split_path(dataset: str) -> Path:
    """Where the split file of ``dataset`` lives."""
    if dataset.startswith("folder:"):
        raise ValueError("folder: datasets keep their split in <folder>/split.json")
    return splits_dir() / f"{dataset}.json"


def _make_split(ds: Dataset) -> Split:
    split, rule = ds.split_rule()
    overlap = set(split["train"]) & set(split["val"]) | set(split["train"]) & set(split["test"]) | set(
        split["val"]
    ) & set(split["test"])
    if overlap:
        raise DataError(f"dataset {ds.name!r}: ids in two splits: {sorted(overlap)[:5]}")
    return Split(
        dataset=ds.name,
        rule=rule,
        sha256=split_hash(split),
        **{k: tuple(split[k]) for k in SPLITS},
    )


def write_split(dataset: str) -> Path:
    """(Re)write the split file of ``dataset`` from its rule (maintainers only)."""
    ds = get_dataset(dataset)
    sp = _make_split(ds)
    path = split_path(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"dataset": sp.dataset, "rule": sp.rule}
    doc.update({k: list(sp.ids(k)) for k in SPLITS})
    doc["sha256"] = sp.sha256
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def read_split_file(path: Path) -> Split:
    """Read and verify a split file."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f"{shown_path(path)}: split file does not exist") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{shown_path(path)}: invalid JSON ({exc})") from exc
    missing = [k for k in (*SPLITS, "dataset", "sha256") if k not in doc]
    if missing:
        raise DataError(f"{shown_path(path)}: missing key(s) {missing}")
    actual = split_hash(doc)
    if actual != doc["sha256"]:
        raise DataError(
            f"{shown_path(path)}: content hash mismatch (file says {doc['sha256'][:12]}..., ids hash to "
            f"{actual[:12]}...); the split was edited by hand. Regenerate it with "
            "`bench splits --write DATASET` if the change is intended"
        )
    return Split(
        dataset=doc["dataset"],
        rule=doc.get("rule", ""),
        sha256=doc["sha256"],
        **{k: tuple(doc[k]) for k in SPLITS},
    )


def get_split(dataset: str) -> Split:
    """The split of ``dataset``: its committed file, checked against its data.

    Raises
    ------
    DataError
        If the file is missing, edited, or names samples the dataset lacks.
    """
    ds = get_dataset(dataset)
    if ds.info.source == "folder":
        return _make_split(ds)
    path = split_path(dataset)
    if not path.is_file():
        raise DataError(
            f"{shown_path(path)}: no split file for dataset {dataset!r}; create it with "
            f"`bench splits --write {dataset}`"
        )
    sp = read_split_file(path)
    if sp.dataset != dataset:
        raise DataError(f"{shown_path(path)}: file is for dataset {sp.dataset!r}, not {dataset!r}")
    if ds.available:
        known = set(ds.sample_ids())
        unknown = [i for k in SPLITS for i in sp.ids(k) if i not in known]
        if unknown:
            raise DataError(
                f"{shown_path(path)}: {len(unknown)} id(s) not in dataset {dataset!r}: {unknown[:5]}"
            )
    return sp


def iter_split(
    dataset: str, split: str, *, limit: int | None = None, progress: bool = False
) -> Iterator[Sample]:
    """Yield the samples of one split (with their truth), loading lazily."""
    ds = get_dataset(dataset)
    ds.ensure_available()
    ids = get_split(dataset).ids(split)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"`limit` must be >= 1, got {limit}")
        ids = ids[:limit]
    for sid in progress_bar(ids, desc=f"{dataset}/{split}", disable=not progress, leave=False):
        yield load_sample(ds, sid)  # through the run's sample cache under `bench run`


def load_fit_data(
    dataset: str, *, limit: int | None = None, progress: bool = False
) -> tuple[list[Sample], list[Sample]]:
    """Train and validation samples, with ground truth, for ``Method.fit``."""
    train = list(iter_split(dataset, "train", limit=limit, progress=progress))
    val = list(iter_split(dataset, "val", limit=limit, progress=progress))
    return train, val


def load_test_images(
    dataset: str, *, limit: int | None = None, progress: bool = False
) -> list[Sample]:
    """Test samples without any ground truth: all a method may see of the test set."""
    return [s.image_only() for s in iter_split(dataset, "test", limit=limit, progress=progress)]


def load_test_truth(
    dataset: str, *, limit: int | None = None, progress: bool = False
) -> list[Sample]:
    """Test samples with their truth, for scoring. Never pass these to a method."""
    return list(iter_split(dataset, "test", limit=limit, progress=progress))
