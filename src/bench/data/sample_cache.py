"""A run's cache of loaded samples: generate or decode each sample once per run, not once per cell.

Every cell of a run loads its dataset again in a fresh kernel: a synthetic dataset is
generated again (the test split twice: once stripped for the method, once with the truth
for scoring), a folder of 2048x2048 JPEGs decoded again. ``bench run`` (local executor)
points :data:`SAMPLE_CACHE_ENV` at a folder of its own (``<run>/.samples-<id>``, removed
when the invocation ends); :func:`load_sample` then keeps each sample there, pickled, the
first time a cell loads it, and later cells read it back. The samples are exactly the ones
the dataset returns (a pickle round trip), so scores do not change.

The key is the dataset's name, the sample id and the dataset's :attr:`~bench.data.base.Dataset.info`;
the folder lives only as long as one invocation of one code version, so a sample cannot
be stale. Outside the runner (a notebook opened by hand, a test) the variable is unset
and nothing is cached.

The cache holds pickles, which run code when loaded: the variable is meant to name a
folder that only the runner writes, never a shared or downloaded one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from .sample import Sample

__all__ = ["SAMPLE_CACHE_ENV", "load_sample", "sample_cache_dir"]

logger = logging.getLogger(__name__)

#: Environment variable naming the folder of the run's sample cache (set by ``bench run``).
SAMPLE_CACHE_ENV = "BENCH_SAMPLE_CACHE"


def sample_cache_dir() -> Path | None:
    """The cache folder named by :data:`SAMPLE_CACHE_ENV`, or None (no caching)."""
    value = os.environ.get(SAMPLE_CACHE_ENV, "").strip()
    return Path(value) if value else None


def _key(ds, sample_id: str) -> str:
    h = hashlib.sha256()
    for part in (ds.name, sample_id, repr(ds.info)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:32]


def load_sample(ds, sample_id: str) -> Sample:
    """``ds.load(sample_id)``, through the run's sample cache when there is one.

    A cached file that cannot be read back (a cell killed while another wrote it is
    excluded by the atomic write, but a full disk is not) is loaded again from the
    dataset and rewritten; a failed write only logs a warning.
    """
    folder = sample_cache_dir()
    if folder is None:
        return ds.load(sample_id)
    path = folder / f"{_key(ds, sample_id)}.pkl"
    try:
        with path.open("rb") as f:
            sample = pickle.load(f)
        if isinstance(sample, Sample):
            return sample
        logger.warning("sample cache: %s holds a %s, not a Sample; loading %s/%s again", path,
                       type(sample).__name__, ds.name, sample_id)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - a damaged cache entry is reloaded, never fatal
        logger.warning("sample cache: %s unreadable (%s); loading %s/%s again", path, exc, ds.name, sample_id)
    sample = ds.load(sample_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(sample, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # atomic: a concurrent cell sees the whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        logger.warning("sample cache: could not write %s (%s); continuing without it", path, exc)
    return sample
