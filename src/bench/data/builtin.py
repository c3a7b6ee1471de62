"""Registers the built-in datasets (imported lazily by :func:`bench.data.get_dataset`)."""

from __future__ import annotations

from .base import register_dataset
from .cellular import Cellular
from .files import CellularBoxes, FolderDataset
from .nuclei import GOWT1, NIH3T3, GOWT1Full, NIH3T3Full
from .synthetic_datasets import SYNTHETIC_SPECS, SyntheticDataset

for _base in SYNTHETIC_SPECS:
    register_dataset(_base, lambda n=_base: SyntheticDataset(n, "realistic"))
    register_dataset(f"{_base}-easy", lambda n=_base: SyntheticDataset(f"{n}-easy", "easy"))

register_dataset("nih3t3", NIH3T3)
register_dataset("nih3t3-full", NIH3T3Full)
register_dataset("gowt1", GOWT1)
register_dataset("gowt1-full", GOWT1Full)
register_dataset("cellular-boxes", CellularBoxes)
register_dataset("cellular", Cellular)
register_dataset("folder:", FolderDataset)
