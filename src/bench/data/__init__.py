"""Datasets: one registry by name, samples with named channels and their ground truth.

>>> from bench.data import get_dataset
>>> ds = get_dataset("synth-lyso-easy")
>>> ds.info.tasks
('instance', 'classification')
"""

from .base import Dataset, UnknownDatasetError, dataset_names, get_dataset, register_dataset
from .io import DataError, read_image, read_mask
from .sample import TASKS, DatasetInfo, Sample

__all__ = [
    "Dataset",
    "DatasetInfo",
    "DataError",
    "Sample",
    "TASKS",
    "UnknownDatasetError",
    "dataset_names",
    "get_dataset",
    "read_image",
    "read_mask",
    "register_dataset",
]
