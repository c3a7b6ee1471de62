"""Threads inside one method call: same results whatever the thread budget."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from bench.methods._shared.parallel import row_blocks, thread_budget, thread_imap, thread_map


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
