"""Threads inside one method call: same results whatever the thread budget."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from bench.methods._shared.parallel import map_rows, row_blocks, thread_budget, thread_imap, thread_map


def test_thread_budget_follows_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert thread_budget() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "0")  # not a budget: the cores
    assert thread_budget() >= 1
    monkeypatch.setenv("OMP_NUM_THREADS", "two")
    assert thread_budget() >= 1


def test_thread_map_keeps_order_and_uses_threads():
    names = set()

    def f(x):
        names.add(threading.current_thread().name)
        time.sleep(0.01 * (5 - x))  # later items finish first
        return x * x

    assert thread_map(f, range(5), threads=3) == [0, 1, 4, 9, 16]
    assert all(n.startswith("bench-steps") for n in names)
    names.clear()
    assert thread_map(f, range(3), threads=1) == [0, 1, 4]
    assert names == {threading.current_thread().name}  # one thread: the caller's


def test_thread_imap_runs_at_most_threads_items_ahead():
    started = []

    def f(x):
        started.append(x)
        return x

    it = thread_imap(f, range(10), threads=2)
    assert next(it) == 0
    time.sleep(0.05)
    assert len(started) <= 3  # the first result, and at most 2 in flight
    assert list(it) == list(range(1, 10))
    # an exception reaches the caller
    with pytest.raises(ZeroDivisionError):
        thread_map(lambda x: 1 / x, [1, 0, 2], threads=2)


@pytest.mark.parametrize("n_rows,threads,min_rows,expected", [
    (2048, 2, 512, 2), (1000, 2, 512, 1), (10, 4, 1, 4), (0, 2, 512, 1), (9, 16, 1, 9)])
def test_row_blocks_cover_the_rows_once(n_rows, threads, min_rows, expected):
    blocks = row_blocks(n_rows, threads=threads, min_rows=min_rows)
    assert len(blocks) == expected
    covered = np.concatenate([np.arange(n_rows)[b] for b in blocks])
    assert covered.tolist() == list(range(n_rows))


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_map_rows_equals_the_whole_array_call(threads):
    from scipy import ndimage as ndi

    rng = np.random.default_rng(5)
    x = rng.random((61, 23, 2)).astype(np.float32)[:, ::-1]  # not contiguous, trailing axis kept
    cases = [  # (fn, the rows each output row depends on either side)
        (lambda a: (a * 3 - 1).astype(np.float16), 0),
        (lambda a: a.mean(axis=2, dtype=np.float32), 0),
        (lambda a: ndi.maximum_filter(a[..., 0], size=5, mode="constant") > 0.5, 2),
        (lambda a: ndi.gaussian_filter(ndi.sobel(a[..., 1], axis=0), 1.0), 1 + 4 + 1),
    ]
    for fn, margin in cases:
        whole = fn(x)
        got = map_rows(fn, x, margin=margin, threads=threads, min_rows=1)
        assert got.dtype == whole.dtype and got.shape == whole.shape
        assert got.tobytes() == whole.tobytes()
    # the margin matters: too little changes the rows next to the block edges
    fn = lambda a: ndi.uniform_filter(a[..., 0], size=7, mode="constant")
    assert not np.array_equal(map_rows(fn, x, margin=1, threads=threads, min_rows=1), fn(x))


def test_map_rows_with_one_block_is_the_plain_call():
    x = np.arange(12.0).reshape(4, 3)
    sentinel = np.zeros(4)
    assert map_rows(lambda a: sentinel, x, margin=3, threads=1) is sentinel
    assert map_rows(lambda a: sentinel, x, threads=4) is sentinel  # 4 rows < min_rows: one block
