"""Shards of a run: the cells of one configuration split over N machines.

``bench run CONFIG --shard K/N`` runs the K-th of N parts of the configuration; ``bench
merge`` (:mod:`bench.runner.merge`) puts the parts back together. The partition is a
pure function of the configuration, so every machine computes the same one without
talking to the others:

* every item of the plan (each cell, and each tutorial notebook) gets an estimated
  time, :func:`estimate_seconds`, from what the method needs (the runner's priors);
  deliberately *not* from earlier results on this machine, which differ between
  machines -- so a cell whose dataset is unavailable here is estimated as if it ran;
* greedy longest-processing-time (:func:`partition`): items from the longest down
  (ties by key), each to the shard with the least estimated load so far (ties: the
  lowest shard number).

:func:`makespan` estimates the wall time of a shard run ``jobs`` cells at a time, the
same way the local executor schedules them (longest first, onto the worker free first).
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence
from ..methods import get_method

__all__ = ["Shard", "PRIOR_SECONDS", "estimate_seconds", "partition", "makespan", "shard_summary",
           "TUTORIAL_PREFIX"]

#: prior guesses of a cell's seconds, by what its method needs (deep-learning frameworks or not)
PRIOR_SECONDS = {"deep": 300.0, "classical": 30.0, "tutorial": 20.0}
#: the deep-learning frameworks that make a method "deep" for the priors
_DEEP_REQUIRES = ("torch", "tensorflow", "stardist", "cellpose")
#: key of a tutorial notebook in a partition (cell ids never start with it)
TUTORIAL_PREFIX = "tutorial:"


@dataclass(frozen=True)
class Shard:
    """The `index`-th (1-based) of `count` shards.

    >>> Shard.parse("2/3")
    Shard(index=2, count=3)
    >>> str(Shard(1, 4))
    '1/4'
    """

    index: int
    count: int

    def __post_init__(self):
        for name in ("index", "count"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"`{name}` of a shard must be an int, got {type(v).__name__}")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"a shard is K/N with 1 <= K <= N, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """``"K/N"`` -> ``Shard(K, N)``."""
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not m:
            raise ValueError(f"`--shard` must look like K/N (for instance 2/3), got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """Appended to the run id of a shard's run folder.

        >>> Shard(2, 3).suffix
        '-shard2of3'
        """
        return f"-shard{self.index}of{self.count}"


def estimate_seconds(method_id: str | None, *, kind: str = "method", declined: bool = False) -> float:
    """The prior estimate of one item: a tutorial, a deep or a classical method's cell.

    Parameters
    ----------
    method_id : str or None
        The cell's method (ignored for tutorials).
    kind : {"method", "tutorial"}
    declined : bool
        The method declines the dataset (``Method.skip``): nothing runs, 0 s. (A cell
        skipped only because its dataset is absent *here* keeps its estimate: on the
        machine that runs the shard, it runs.)
    """
    if kind == "tutorial":
        return PRIOR_SECONDS["tutorial"]
    if declined:
        return 0.0
    requires = type(get_method(method_id)).requires
    deep = any(m in _DEEP_REQUIRES for m in requires)
    return PRIOR_SECONDS["deep" if deep else "classical"]


def partition(estimates: Mapping[str, float], count: int) -> dict[str, int]:
    """Greedy LPT: the shard (1-based) of every key of `estimates` (key -> seconds).

    Deterministic: items from the longest down, ties broken by key; each goes to the
    shard with the least load so far, ties broken by the lowest shard number.

    >>> partition({"a": 5, "b": 4, "c": 3, "d": 3, "e": 1}, 2)
    {'a': 1, 'b': 2, 'c': 2, 'd': 1, 'e': 2}
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1, got {count!r}")
    bad = {k: v for k, v in estimates.items() if not v >= 0}
    if bad:
        raise ValueError(f"estimates must be seconds >= 0, got {bad}")
    loads = [(0.0, i) for i in range(1, count + 1)]  # a heap of (load, shard)
    out = {}
    for key in sorted(estimates, key=lambda k: (-float(estimates[k]), k)):
        load, shard = heapq.heappop(loads)
        out[key] = shard
        heapq.heappush(loads, (load + float(estimates[key]), shard))
    return dict(sorted(out.items()))


def makespan(seconds: Iterable[float], jobs: int) -> float:
    """Wall time of running items of these durations `jobs` at a time, longest first.

    >>> makespan([3, 3, 2, 2, 2], 2)
    7.0
    >>> makespan([], 4)
    0.0
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an int >= 1, got {jobs!r}")
    workers = [0.0] * jobs
    for s in sorted((float(x) for x in seconds), reverse=True):
        heapq.heapreplace(workers, workers[0] + s)
    return max(workers)


def shard_summary(estimates: Mapping[str, float], assignment: Mapping[str, int], count: int,
                  jobs: int) -> list[dict]:
    """One row per shard: ``shard``, ``items``, ``cell_s`` (summed estimates), ``wall_s`` at `jobs`."""
    rows = []
    for k in range(1, count + 1):
        secs: Sequence[float] = [estimates[key] for key, s in assignment.items() if s == k]
        rows.append({"shard": f"{k}/{count}", "items": len(secs), "cell_s": float(sum(secs)),
                     "wall_s": makespan(secs, jobs)})
    return rows
