"""Segment Anything (``sam``): zero-shot automatic mask generation.

:mod:`.masks` turns SAM's overlapping mask records into one label image (pure
numpy, tested without weights); :mod:`.weights` is the checkpoint registry;
:mod:`.method` is the ``bench`` method. Nothing here imports torch or
segment_anything at import time.
"""

from .masks import check_records, filter_records, priority_order, records_to_labels, resolve_overlaps
from .method import SAMMethod, SAMParams, to_rgb_uint8
from .weights import CHECKPOINTS, Checkpoint, checkpoint_path, fetch_checkpoint, verify_checkpoint

__all__ = [
    "check_records",
    "filter_records",
    "priority_order",
    "records_to_labels",
    "resolve_overlaps",
    "SAMMethod",
    "SAMParams",
    "to_rgb_uint8",
    "CHECKPOINTS",
    "Checkpoint",
    "checkpoint_path",
    "fetch_checkpoint",
    "verify_checkpoint",
]
