"""Shared fixtures. Tests never touch the user's cache or the network."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")

from bench.paths import shared_data_dir  # noqa: E402

SHARED = shared_data_dir()

# an example plugin distribution, installed by tests/test_plugins.py (not a test module)
collect_ignore = ["plugins"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Downloads and model caches go to a temporary folder, never ~/.cache."""
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "bench-cache"))


@pytest.fixture(scope="session")
def shared_data():
    """The local mirror of public data; skips the test where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"local data mirror {SHARED} is absent (see ../shared/data/README.md)")
    return SHARED


def pytest_configure(config):
    # keep BLAS/torch from oversubscribing the 2-core CI machine
    os.environ.setdefault("OMP_NUM_THREADS", "2")
