"""Where things live: the repository, the local data mirror, caches.

Every location can be overridden with an environment variable, so the same
code works from a clone, in Colab and on a cluster node.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repo_root", "shared_data_dir", "cache_dir", "splits_dir"]


def repo_root() -> Path:
    """The project checkout (``$BENCH_ROOT``, else the folder holding ``pyproject.toml``
    above this package, else the current directory)."""
    env = os.environ.get("BENCH_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "bench").is_dir():
            return parent
    return Path.cwd()


def shared_data_dir() -> Path:
    """The read-only local mirror of public data (``$BENCH_SHARED_DATA``, else
    ``<repo>/../shared/data``). It may not exist."""
    env = os.environ.get("BENCH_SHARED_DATA")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "data"


def shown_path(path: str | os.PathLike) -> str:
    """`path` as a sentence shown to readers should print it: ``~/...`` under the home folder,
    relative under the repository, else as given. Reasons recorded by a run end up in the
    book, which must not show the paths of the machine that built it.

    >>> shown_path(Path.home() / ".cellpose" / "models")
    '~/.cellpose/models'
    >>> shown_path(repo_root() / "benchmark" / "runs")
    'benchmark/runs'
    """
    p = Path(path)
    for base, prefix in ((repo_root(), ""), (Path.home(), "~/")):
        try:
            rel = p.resolve().relative_to(base.resolve())
        except (ValueError, OSError):
            continue
        return prefix + rel.as_posix() if rel.parts else (prefix.rstrip("/") or ".")
    return str(p)


def cache_dir() -> Path:
    """Downloads and trained models (``$BENCH_CACHE``, else ``~/.cache/bench``)."""
    env = os.environ.get("BENCH_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "bench"


def splits_dir() -> Path:
    """The committed split files (``$BENCH_SPLITS``, else ``<repo>/benchmark/splits``)."""
    env = os.environ.get("BENCH_SPLITS")
    if env:
        return Path(env)
    return repo_root() / "benchmark" / "splits"
