"""Threads for the independent steps inside one method call (filter scales, grey levels).

SciPy's and scikit-image's filters, labelling and watershed release the GIL, so
independent steps of one image run on several cores from threads. How many
follows the process's thread budget: ``OMP_NUM_THREADS`` when it is set (the
runner sets it to its cores per cell: 1 when two cells share two cores), else
the cores this process may use. With a budget of one thread the steps run in
order in the caller's thread, exactly as a plain loop.

Results never depend on the number of threads: :func:`thread_map` returns the
results in the order of its items, and callers combine them in that order.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

__all__ = ["thread_budget", "thread_imap", "thread_map", "row_blocks", "map_rows"]

T = TypeVar("T")
R = TypeVar("R")


def thread_budget() -> int:
    """Threads this process may use: ``OMP_NUM_THREADS`` if set to a positive integer, else its cores.

    Examples
    --------
    >>> thread_budget() >= 1
    True
    """
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def thread_imap(fn: Callable[[T], R], items: Iterable[T], *, threads: int | None = None) -> Iterator[R]:
    """``fn(x)`` for each of `items`, in their order, computed on up to `threads` threads.

    A generator: a result is released as soon as the caller moves past it, so
    a caller that folds the results (a running maximum) holds few at a time.
    With one thread (default: :func:`thread_budget`) each ``fn(x)`` runs in
    the caller's thread when the caller asks for it.

    Examples
    --------
    >>> list(thread_imap(lambda x: x * x, range(5), threads=2))
    [0, 1, 4, 9, 16]
    """
    items = list(items)
    n = min(len(items), thread_budget() if threads is None else threads)
    if n <= 1:
        for x in items:
            yield fn(x)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="bench-steps") as pool:
        # at most n items ahead of the caller, so finished results do not pile up
        pending = deque()
        it = iter(items)
        for x in itertools.islice(it, n):
            pending.append(pool.submit(fn, x))
        while pending:
            result = pending.popleft().result()
            for x in itertools.islice(it, 1):
                pending.append(pool.submit(fn, x))
            yield result


def thread_map(fn: Callable[[T], R], items: Iterable[T], *, threads: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, on up to `threads` threads (default: :func:`thread_budget`).

    Examples
    --------
    >>> thread_map(lambda x: x * x, range(5), threads=2)
    [0, 1, 4, 9, 16]
    """
    return list(thread_imap(fn, items, threads=threads))


def row_blocks(n_rows: int, *, threads: int | None = None, min_rows: int = 512) -> list[slice]:
    """`n_rows` split into one block of rows per thread (blocks of at least `min_rows`).

    For elementwise or local operations on a large image, run block by block
    with :func:`thread_map`: each block's result is what the whole-image call
    gives on those rows.

    Examples
    --------
    >>> row_blocks(2048, threads=2)
    [slice(0, 1024, None), slice(1024, 2048, None)]
    >>> row_blocks(300, threads=2)
    [slice(0, 300, None)]
    """
    n = thread_budget() if threads is None else threads
    n = max(1, min(n, n_rows // max(1, min_rows)))
    edges = [round(i * n_rows / n) for i in range(n + 1)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def map_rows(fn: Callable[[np.ndarray], np.ndarray], array: np.ndarray, *, margin: int = 0,
             threads: int | None = None, min_rows: int = 512) -> np.ndarray:
    """``fn(array)``, computed by blocks of rows (:func:`row_blocks`) on threads.

    `fn` must map an array to one with the same number of rows, in which row
    ``i`` depends only on rows ``i - margin`` to ``i + margin`` of its input
    (an elementwise step has ``margin=0``; a filter of radius ``r`` has
    ``margin=r``, more when filters are chained). Each block is computed from
    its rows and up to `margin` rows either side, and only its own rows are
    kept, so the result equals ``fn(array)`` whatever the number of blocks
    (byte for byte when `fn` computes each output from its neighbourhood alone:
    a correlation or a maximum, not a running sum such as
    ``ndi.uniform_filter``'s). With
    one block this is ``fn(array)`` itself: no copies.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> x = np.random.default_rng(0).random((1200, 7))
    >>> f = lambda a: ndi.maximum_filter(a, size=5, mode="constant")
    >>> bool((map_rows(f, x, margin=2, threads=2) == f(x)).all())
    True
    """
    blocks = row_blocks(array.shape[0], threads=threads, min_rows=min_rows)
    if len(blocks) == 1:
        return fn(array)
    n_rows = array.shape[0]

    def rows(b: slice) -> np.ndarray:
        lo, hi = max(0, b.start - margin), min(n_rows, b.stop + margin)
        return fn(array[lo:hi])[b.start - lo:b.stop - lo]

    out = None
    for b, r in zip(blocks, thread_imap(rows, blocks, threads=len(blocks))):
        if out is None:
            out = np.empty((n_rows,) + r.shape[1:], r.dtype)
        out[b] = r
    return out
