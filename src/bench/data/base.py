"""The dataset interface and the registry of datasets by name.

A dataset returns data and nothing else (benchopt's rule): it knows its sample
ids, how to load one sample, and the *rule* behind its default split. Which
samples a method may see is decided by :mod:`bench.splits`, not here.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from typing import Callable, Iterable

from .sample import DatasetInfo, Sample

__all__ = [
    "Dataset",
    "register_dataset",
    "get_dataset",
    "dataset_names",
    "UnknownDatasetError",
]

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
        from .io import DataError

        reason = self.unavailable_reason()
        if reason is not None:
            raise DataError(f"dataset {self.name!r} is not available here: {reason}")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} ({self.info.source})>"


_REGISTRY: dict[str, Callable[[], Dataset]] = {}
_PREFIXES: dict[str, Callable[[str], Dataset]] = {}


def register_dataset(name: str, factory: Callable[[], Dataset]) -> None:
    """Register a dataset factory under ``name`` (``"prefix:"`` for families)."""
    if name.endswith(":"):
        _PREFIXES[name[:-1]] = factory  # type: ignore[assignment]
    else:
        if name in _REGISTRY:
            raise ValueError(f"dataset {name!r} is already registered")
        _REGISTRY[name] = factory


def dataset_names() -> list[str]:
    """Names of all registered datasets (prefix families like ``folder:`` excluded)."""
    _load_builtins()
    return list(_REGISTRY)


def get_dataset(name: str) -> Dataset:
    """Return the dataset called ``name``.

    ``name`` is a registered name (see :func:`dataset_names`) or
    ``folder:<path>`` for a user folder with ``images/`` and ``masks/``.

    Raises
    ------
    UnknownDatasetError
        If no dataset has that name (the message lists the known ones).
    """
    _load_builtins()
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name]()
    prefix, sep, rest = name.partition(":")
    if sep and prefix in _PREFIXES:
        return _PREFIXES[prefix](rest)
    known = ", ".join(sorted(_REGISTRY)) + ", " + ", ".join(f"{p}:<path>" for p in _PREFIXES)
    raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}")


_LOADED = False


def _load_builtins() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from . import builtin  # noqa: F401  (registers on import)
