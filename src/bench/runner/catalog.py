"""What the tutorials show about the datasets: a table of their cards and example samples."""

from __future__ import annotations

import logging
from typing import Sequence

import pandas as pd

from ..data import Sample, get_dataset
from ..splits import get_split, iter_split

__all__ = ["dataset_table", "examples"]

logger = logging.getLogger(__name__)


def dataset_table(names: Sequence[str], *, count_objects: bool = False) -> pd.DataFrame:
    """One row per dataset: tasks, channels, classes, split sizes, source, licence, availability.

    Parameters
    ----------
    names : sequence of str
        Dataset names.
    count_objects : bool, optional
        Also count the annotated objects of each split (loads every image).
    """
    rows = []
    for name in names:
        ds = get_dataset(name)
        info = ds.info
        reason = ds.unavailable_reason()
        row = {
            "dataset": name,
            "target": info.target,
            "tasks": ", ".join(info.tasks),
            "channels": ", ".join(info.channels),
            "classes": ", ".join(info.class_names or info.semantic_names) or "-",
            "source": info.source,
            "license": info.license,
            "available": "yes" if reason is None else f"no: {reason}",
        }
        sp = get_split(name)
        for k in ("train", "val", "test"):
            row[f"n_{k}"] = len(sp.ids(k))
            if count_objects and reason is None:
                row[f"objects_{k}"] = sum(s.n_objects for s in iter_split(name, k))
        rows.append(row)
    return pd.DataFrame(rows)


def examples(names: Sequence[str], *, split: str = "train", index: int = 0) -> dict[str, Sample]:
    """The `index`-th sample of `split` of every *available* dataset in `names`.

    Unavailable datasets are left out (logged with the reason).
    """
    out = {}
    for name in names:
        ds = get_dataset(name)
        reason = ds.unavailable_reason()
        if reason is not None:
            logger.info("dataset %s left out: %s", name, reason)
            continue
        ids = get_split(name).ids(split)
        if not ids:
            raise ValueError(f"dataset {name!r} has no {split} samples")
        out[name] = ds.load(ids[min(index, len(ids) - 1)])
    return out
