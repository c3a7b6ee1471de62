"""The dataset interface (the registry of datasets by name is :mod:`bench.data.registry`).

A dataset returns data and nothing else (benchopt's rule): it knows its sample
ids, how to load one sample, and the *rule* behind its default split. Which
samples a method may see is decided by :mod:`bench.splits`, not here.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from typing import Iterable

from .io import DataError
from .sample import DatasetInfo, Sample

__all__ = ["Dataset", "UnknownDatasetError"]

logger = logging.getLogger(__name__)


class UnknownDatasetError(KeyError):
    """No dataset of that name is registered."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0])


class Dataset(abc.ABC):
    """Base class of every dataset.

    Subclasses set :attr:`info` and implement :meth:`sample_ids`,
    :meth:`load` and :meth:`split_rule`.
    """

    info: DatasetInfo

    @property
    def name(self) -> str:
        return self.info.name

    def unavailable_reason(self) -> str | None:
        """``None`` if the data can be loaded on this machine, else why not."""
        return None

    @property
    def available(self) -> bool:
        return self.unavailable_reason() is None

    @abc.abstractmethod
    def sample_ids(self) -> list[str]:
        """Every sample id, sorted."""

    @abc.abstractmethod
    def load(self, sample_id: str) -> Sample:
        """Load one sample with all of its ground truth."""

    @abc.abstractmethod
    def split_rule(self) -> tuple[dict[str, list[str]], str]:
        """The default split and a sentence describing the rule that made it.

        Returns
        -------
        split : dict
            ``{"train": [...], "val": [...], "test": [...]}`` of sample ids.
        rule : str
            How the split was made (shown in the dataset card).
        """

    def fingerprint(self, ids: Iterable[str]) -> str:
        """A hash of the data behind ``ids`` (for cache keys).

        The default hashes the ids and :attr:`info`; file-backed datasets
        override it to hash file contents.
        """
        h = hashlib.sha256(repr(self.info).encode())
        for i in ids:
            h.update(i.encode() + b"\0")
        return h.hexdigest()[:16]

    def ensure_available(self) -> None:
        """Raise :class:`~bench.data.io.DataError` with the reason if unavailable."""
        reason = self.unavailable_reason()
        if reason is not None:
            raise DataError(f"dataset {self.name!r} is not available here: {reason}")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} ({self.info.source})>"
