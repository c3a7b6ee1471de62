"""benchmark/perf/run_profile.py: the schedule arithmetic of a run's profile."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmark" / "perf" / "run_profile.py"


@pytest.fixture(scope="module")
def profile():
    spec = importlib.util.spec_from_file_location("run_profile", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cell(start, end):
    return {"start": float(start), "end": float(end)}


def test_two_workers_all_busy_then_a_tail(profile):
    # worker 1: 0-10, 10-40; worker 2: 0-20 then idle -> fewer than 2 running from 20 to 40
    s = profile.schedule([_cell(0, 10), _cell(10, 40), _cell(0, 20)], jobs=2)
    assert s["span"] == 40 and s["busy"] == 60 and s["idle"] == 20
    assert s["under"] == 20 and s["tail"] == 20


def test_a_gap_in_the_middle_is_not_the_tail(profile):
    # both busy 0-10; one cell 10-15; both busy 15-30
    s = profile.schedule([_cell(0, 10), _cell(0, 15), _cell(10, 30), _cell(15, 30)], jobs=2)
    assert s["under"] == 0 and s["tail"] == 0
    s = profile.schedule([_cell(0, 10), _cell(0, 12), _cell(12, 30), _cell(14, 30)], jobs=2)
    assert s["under"] == pytest.approx(4) and s["tail"] == 0  # one cell running from 10 to 14


def test_one_job_is_never_under_used(profile):
    s = profile.schedule([_cell(0, 5), _cell(5, 9)], jobs=1)
    assert s["under"] == 0 and s["tail"] == 0 and s["idle"] == 0
