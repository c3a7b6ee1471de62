"""Benchmark results: the on-disk schema, atomic writing and loading.

A *run* is one folder, ``benchmark/runs/<run-id>/`` (:func:`runs_root`)::

    manifest.json                 the run: config, hashes, provenance (see below)
    cells/<cell-id>/              one (method, dataset, seed) cell
        cell.json                 status and measurements of the cell (CELL_FIELDS)
        notebook.ipynb            the executed notebook (absent for skipped cells)
        tables/<table>.csv        tidy rows of raw counts (bench.scoring.TABLES)
        curve.csv                 learning curve of a trained method (bench.curves.CURVE_COLUMNS)
        predictions/<image>.tif   predicted label images (int32, zlib)
        figures/<name>.png        figures saved by the notebook

Every file is written atomically (to a temporary name, then renamed), and a
cell folder appears only once complete (the runner builds it under a temporary
name first), so a killed run never leaves a half-written cell behind.

Rows of every table carry the key columns :data:`KEY_COLUMNS` plus ``image``
and the columns of :data:`bench.scoring.TABLE_COLUMNS`. They hold **raw counts**;
scores are computed from them by :mod:`bench.aggregate`.

The manifest (``manifest.json``) holds ``run_id``, ``config`` (the parsed YAML),
``config_path``, ``config_hash``, ``code_version``, ``git`` (``sha``, ``dirty``),
``packages`` (name -> version), ``hardware`` (cpu, cores, memory, gpu),
``data`` (dataset -> fingerprint), ``plugins`` (method id -> the
plugin distribution and version behind it, for methods from plugins), ``created``, ``updated``, ``invocations``
(one entry per ``bench run``: start, end, cells run / cached) and ``cells``
(cell-id -> status).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .paths import repo_root
from .protocol import TABLE_COLUMNS, TABLES
from .curves import CURVE_COLUMNS

__all__ = [
    "KEY_COLUMNS",
    "STATUSES",
    "CELL_FIELDS",
    "RunResults",
    "runs_root",
    "list_runs",
    "latest_run",
    "load_run",
    "read_cell",
    "write_json",
    "write_table",
]

logger = logging.getLogger(__name__)

#: Columns identifying a cell, prefixed to every row of every table.
KEY_COLUMNS = ("dataset", "split", "method_id", "method", "seed", "profile")

#: Status of a cell: ``ok`` (scored), ``skipped`` (the method cannot run on the
#: dataset here, or the data is unavailable: ``reason`` says why), ``failed``
#: (an exception: ``reason`` holds it) or ``timeout`` (ran past its limit).
STATUSES = ("ok", "skipped", "failed", "timeout")

#: Fields of ``cell.json`` (and columns of :attr:`RunResults.cells`).
CELL_FIELDS: dict[str, str] = {
    "cell_id": "folder name under cells/",
    "status": "one of STATUSES",
    "reason": "why skipped / failed / timed out (empty when ok)",
    "dataset": "dataset name",
    "split": "split scored ('test', or 'val')",
    "method_id": "deterministic method id, e.g. 'unet[depth=7,features=16]'",
    "method": "registry name of the method class",
    "params": "all hyperparameters (dict)",
    "seed": "random seed passed to fit(rng=seed)",
    "profile": "training budget: 'ci', 'quick' or 'full'",
    "limit": "images per split (None = all)",
    "tasks": "tables produced (list)",
    "n_images": "images scored",
    "fit_s": "wall seconds in Method.fit (data loading excluded)",
    "predict_s_per_image": "median wall seconds of Method.predict_full per image (robust to warm-up)",
    "predict_s_total": "wall seconds of all predictions",
    "peak_mem_mb": "peak resident memory of the kernel process (MiB, ru_maxrss)",
    "fit_cpu_s": "CPU seconds (all threads) in Method.fit: the cost on a machine shared with others",
    "predict_cpu_s": "CPU seconds (all threads) of all predictions",
    "cpu_s": "CPU seconds of the whole kernel (imports, loading, scoring, figures included)",
    "wall_s": "wall seconds of the whole cell (kernel start, loading, notebook)",
    "notebook": "source notebook, relative to the repository",
    "executed_notebook": "executed copy, relative to the run folder ('' if none)",
    "cache_key": "hash of cell spec + code version + data hash",
    "code_version": "hash of the package source and notebooks",
    "data_hash": "Dataset.fingerprint of the split ids",
    "git_sha": "commit of the checkout that ran the cell",
    "plugin": "for a method from a plugin: its entry point, distribution and version (dict); None for a built-in",
    "host": "machine that ran the cell",
    "started": "ISO time the cell started",
    "finished": "ISO time the cell finished",
    "error": "exception name, message and traceback tail (failed cells)",
    "undertrained": "why the learning curve says 'under-trained at this budget' (bench.curves.UNDERTRAINED_RULE); "
                    "'' when it does not, None for a method that does not train",
    "curve_overhead_s": "wall seconds spent evaluating the learning-curve checkpoints (part of fit_s)",
}


# ------------------------------------------------------------------ locations
def runs_root() -> Path:
    """Where runs live: ``$BENCH_RUNS``, else ``<repo>/benchmark/runs``."""
    env = os.environ.get("BENCH_RUNS")
    if env:
        return Path(env)
    return repo_root() / "benchmark" / "runs"


def list_runs(root: str | Path | None = None) -> list[Path]:
    """Run folders (holding a ``manifest.json``) under `root`, oldest update first."""
    root = runs_root() if root is None else Path(root)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if (p / "manifest.json").is_file()]

    def updated(p: Path) -> str:
        try:
            return str(json.loads((p / "manifest.json").read_text()).get("updated", ""))
        except (OSError, json.JSONDecodeError):
            return ""

    return sorted(runs, key=lambda p: (updated(p), p.name))


def latest_run(root: str | Path | None = None) -> Path:
    """The most recently updated run under `root` (default :func:`runs_root`).

    Raises
    ------
    FileNotFoundError
        If there is no run there.
    """
    runs = list_runs(root)
    if not runs:
        where = runs_root() if root is None else Path(root)
        raise FileNotFoundError(f"no benchmark run under {where}; run `bench run CONFIG` first")
    return runs[-1]


# -------------------------------------------------------------------- writing
def write_json(path: str | Path, obj: Any) -> Path:
    """Write `obj` as JSON atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1, sort_keys=False, default=_json_default, allow_nan=True)
    _write_atomic(path, text.encode())
    return path


def write_table(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a DataFrame as CSV atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, df.to_csv(index=False).encode())
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON: {o!r}")


# -------------------------------------------------------------------- reading
def read_cell(cell_dir: str | Path) -> dict:
    """The record (``cell.json``) of one cell folder.

    Raises
    ------
    ValueError
        If the folder has no readable ``cell.json``.
    """
    path = Path(cell_dir) / "cell.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; {cell_dir} is not a complete cell folder") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc})") from exc


def _read_table(path: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(path, keep_default_na=True)
    missing = [c for c in ("image", *TABLE_COLUMNS[name]) if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: table {name!r} lacks column(s) {missing}")
    return df


@dataclass
class RunResults:
    """Everything one run produced, as pandas DataFrames.

    Attributes
    ----------
    path : Path
        The run folder.
    manifest : dict
        ``manifest.json`` (see the module docstring).
    cells : DataFrame
        One row per cell, columns :data:`CELL_FIELDS` (``params`` as a dict,
        ``notebook_path`` the absolute path of the executed notebook or ``None``).
    rows : dict of str to DataFrame
        Per table name in :data:`bench.scoring.TABLES`: the rows of every
        ``ok`` cell, concatenated, with :data:`KEY_COLUMNS` first (an empty
        DataFrame with the right columns when no cell produced that table).
    """

    path: Path
    manifest: dict = field(repr=False)
    cells: pd.DataFrame = field(repr=False)

    @cached_property
    def rows(self) -> dict[str, pd.DataFrame]:
        out: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
        for rec in self.cells.itertuples(index=False):
            if rec.status != "ok":
                continue
            tdir = self.path / "cells" / rec.cell_id / "tables"
            for name in TABLES:
                p = tdir / f"{name}.csv"
                if p.is_file():
                    df = _read_table(p, name)
                    if len(df):
                        out[name].append(df)
        tables = {}
        for name in TABLES:
            cols = [*KEY_COLUMNS, "image", *TABLE_COLUMNS[name]]
            if name == "images":
                cols.append("predict_s")
            frames = out[name]
            df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({c: [] for c in cols})
            extra = [c for c in df.columns if c not in cols]
            tables[name] = df[[c for c in cols if c in df.columns] + extra]
        return tables

    @cached_property
    def curves(self) -> pd.DataFrame:
        """The learning curves (``curve.csv``) of every ``ok`` cell, concatenated.

        Columns :data:`KEY_COLUMNS` then :data:`bench.curves.CURVE_COLUMNS`
        (empty with those columns when no cell recorded one).
        """
        frames = []
        for rec in self.cells.itertuples(index=False):
            p = self.path / "cells" / rec.cell_id / "curve.csv"
            if rec.status == "ok" and p.is_file():
                frames.append(pd.read_csv(p))
        cols = [*KEY_COLUMNS, *CURVE_COLUMNS]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({c: [] for c in cols})

    def table(self, name: str) -> pd.DataFrame:
        """The rows of table `name` (see :data:`bench.scoring.TABLES`)."""
        if name not in TABLES:
            raise ValueError(f"`name` must be one of {TABLES}, got {name!r}")
        return self.rows[name]

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.path.name))

    def __repr__(self):
        counts = self.cells["status"].value_counts().to_dict() if len(self.cells) else {}
        return f"<RunResults {self.run_id}: {len(self.cells)} cells {counts}>"


def load_run(run_dir: str | Path | None = None) -> RunResults:
    """Load a run folder (default: :func:`latest_run`).

    Parameters
    ----------
    run_dir : str or Path, optional
        A run folder (with ``manifest.json``), or the name of one under
        :func:`runs_root`. When the manifest lists the run's cells (``cells``),
        only those are loaded.

    Returns
    -------
    RunResults

    Raises
    ------
    FileNotFoundError
        If `run_dir` is not a run folder.
    """
    if run_dir is None:
        path = latest_run()
    else:
        path = Path(run_dir)
        if not path.exists() and not path.is_absolute() and (runs_root() / path).exists():
            path = runs_root() / path
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: not a benchmark run (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    # the cells of the run's configuration (a folder reused with another configuration
    # may hold others): those the manifest lists, when it lists them
    listed = manifest.get("cells")
    records = []
    cells_dir = path / "cells"
    if cells_dir.is_dir():
        for d in sorted(cells_dir.iterdir()):
            if listed is not None and d.name not in listed:
                continue
            if d.is_dir() and not d.name.startswith(".") and (d / "cell.json").is_file():
                rec = read_cell(d)
                rec["cell_id"] = d.name
                nb = rec.get("executed_notebook") or ""
                rec["notebook_path"] = str(path / nb) if nb and (path / nb).is_file() else None
                records.append(rec)
    cols = [*CELL_FIELDS, "notebook_path"]
    cells = pd.DataFrame.from_records(records) if records else pd.DataFrame({c: [] for c in cols})
    for c in cols:
        if c not in cells.columns:
            cells[c] = None
    cells = cells[cols + [c for c in cells.columns if c not in cols]]
    return RunResults(path=path, manifest=manifest, cells=cells)
