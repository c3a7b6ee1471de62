"""Datasets: one registry by name (:mod:`bench.data.registry`), samples with named channels and their ground truth.

>>> from bench.data import get_dataset
>>> ds = get_dataset("synth-lyso-easy")
>>> ds.info.tasks
('instance', 'classification')
"""

from .base import Dataset, UnknownDatasetError
from .io import DataError, read_image, read_mask
from .registry import (
    BUILTIN_DATASETS,
    dataset_names,
    dataset_plugin,
    dataset_plugins,
    get_dataset,
    register_dataset,
    unregister_dataset,
)
from .sample import TASKS, DatasetInfo, Sample

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "DatasetInfo",
    "DataError",
    "Sample",
    "TASKS",
    "UnknownDatasetError",
    "dataset_names",
    "dataset_plugin",
    "dataset_plugins",
    "get_dataset",
    "read_image",
    "read_mask",
    "register_dataset",
    "unregister_dataset",
]
