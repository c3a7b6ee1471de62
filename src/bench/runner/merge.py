"""``bench merge``: the shards of one configuration, put back together into one run.

Each shard's run folder (``bench run CONFIG --shard K/N``) holds its part of the cells and,
in its manifest, the whole partition (``shard.plan``: every item of the configuration and
the shard it belongs to). :func:`merge_runs` checks that the shards belong together --
the same configuration (``config_hash``), the same code (``code_version``), the same
partition, no shard twice, no conflicting data fingerprints -- and refuses otherwise. It
copies every shard's cells and tutorials into a new run folder whose manifest records
which shards were merged and which are missing (``shards``).

A missing shard is never silently dropped: each cell planned for it gets a cell record
with status ``missing`` (and the reason), so tables and the book list it like a failed or
skipped cell; its tutorials are listed as ``missing`` in the manifest.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..results import read_cell, runs_root, write_json
from .provenance import now
from .shard import TUTORIAL_PREFIX

__all__ = ["MergeReport", "merge_runs", "MISSING"]

logger = logging.getLogger(__name__)

#: Status of a cell whose shard never delivered its results.
MISSING = "missing"


@dataclass
class MergeReport:
    """What :func:`merge_runs` did."""

    run_dir: Path
    shard_count: int
    merged: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    cells: int = 0
    missing_cells: list[str] = field(default_factory=list)


def _resolve(run: str | Path, root: Path) -> Path:
    path = Path(run)
    if not path.exists() and not path.is_absolute() and (root / path).exists():
        path = root / path
    return path


def _read_manifest(path: Path) -> dict:
    mf = path / "manifest.json"
    if not mf.is_file():
        raise ValueError(f"{path}: not a benchmark run (no manifest.json)")
    try:
        manifest = json.loads(mf.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{mf}: invalid JSON ({exc})") from exc
    shard = manifest.get("shard")
    if not isinstance(shard, dict) or not {"index", "count", "plan"} <= set(shard):
        raise ValueError(f"{path}: not a shard of a run (its manifest has no `shard`; "
                         "shards come from `bench run CONFIG --shard K/N`)")
    return manifest


def _same(manifests: dict[Path, dict], key: str, what: str) -> None:
    values = {p: m.get(key) for p, m in manifests.items()}
    if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
        listing = ", ".join(f"{p.name}: {str(v)[:16]}" for p, v in values.items())
        raise ValueError(f"cannot merge runs of different {what} ({key}): {listing}")


def _copy_tree(src: Path, dst: Path) -> None:
    tmp = dst.parent / f".tmp-{dst.name}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(src, tmp)
    os.replace(tmp, dst)


def merge_runs(runs: Sequence[str | Path], into: str | Path, *, root: str | Path | None = None,
               shard_count: int | None = None) -> MergeReport:
    """Merge the shard runs `runs` into the new run folder `into`.

    Parameters
    ----------
    runs : sequence of str or Path
        Shard run folders (or their names under `root`). Those that do not exist are
        taken as missing shards (a shard job that failed before uploading anything).
    into : str or Path
        The merged run: a folder, or a run id under `root`. It must not exist yet, or
        be empty.
    root : str or Path, optional
        Folder of runs (default :func:`bench.results.runs_root`).
    shard_count : int, optional
        The N of the shards; checked against the shards' own (default: theirs).

    Returns
    -------
    MergeReport

    Raises
    ------
    ValueError
        If no shard is given or found, if a folder is not a shard, if the shards differ
        in configuration, code version, partition or shard count, if a shard appears
        twice, or if `into` already holds something.
    """
    root = runs_root() if root is None else Path(root)
    if isinstance(runs, (str, Path)) or not runs:
        raise ValueError(f"`runs` must be a non-empty list of shard run folders, got {runs!r}")
    paths = [_resolve(r, root) for r in runs]
    absent = [p for p in paths if not p.exists()]
    for p in absent:
        logger.warning("shard run %s does not exist: its shard is recorded as missing", p)
    manifests = {p: _read_manifest(p) for p in paths if p.exists()}
    if not manifests:
        raise ValueError(f"none of the shard runs exists: {[str(p) for p in paths]}")
    _same(manifests, "config_hash", "configurations")
    _same(manifests, "code_version", "code versions")
    counts = {m["shard"]["count"] for m in manifests.values()}
    if len(counts) > 1 or (shard_count is not None and counts != {shard_count}):
        raise ValueError(f"cannot merge shards of different counts: {sorted(counts)}"
                         + (f" (expected {shard_count})" if shard_count is not None else ""))
    count = counts.pop()
    plans = {json.dumps({k: v["shard"] for k, v in m["shard"]["plan"].items()}, sort_keys=True)
             for m in manifests.values()}
    if len(plans) > 1:
        raise ValueError("cannot merge shards whose partitions differ (were they planned from the same "
                         "configuration and code?): " + ", ".join(p.name for p in manifests))
    by_index: dict[int, tuple[Path, dict]] = {}
    for p, m in manifests.items():
        k = m["shard"]["index"]
        if k in by_index:
            raise ValueError(f"shard {k}/{count} given twice: {by_index[k][0]} and {p}")
        by_index[k] = (p, m)
    data: dict[str, str] = {}
    for p, m in manifests.items():
        for name, fp in (m.get("data") or {}).items():
            if str(fp).startswith("unavailable"):
                data.setdefault(name, fp)
            elif str(data.get(name, "unavailable")).startswith("unavailable"):
                data[name] = fp
            elif data[name] != fp:
                raise ValueError(f"cannot merge shards that saw different data for {name!r}: {data[name]} vs {fp} "
                                 f"({p})")

    out = Path(into)
    if not out.is_absolute() and len(out.parts) == 1:  # a run id
        out = root / out
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"`into` {out} already exists and is not empty: merge into a new run folder")
    if out.resolve() in {p.resolve() for p in manifests}:
        raise ValueError(f"`into` {out} is one of the shards")
    (out / "cells").mkdir(parents=True, exist_ok=True)

    first = next(iter(manifests.values()))
    plan: dict[str, dict] = first["shard"]["plan"]
    report = MergeReport(run_dir=out, shard_count=count)
    cells: dict[str, str] = {}
    tutorials: dict[str, str | None] = {}
    shards = []
    for k in range(1, count + 1):
        if k not in by_index:
            report.missing.append(k)
            shards.append({"index": k, "status": MISSING})
            continue
        report.merged.append(k)
        p, m = by_index[k]
        mine = {key for key, v in plan.items() if v["shard"] == k}
        for cid, status in (m.get("cells") or {}).items():
            if cid not in mine:
                continue
            src = p / "cells" / cid
            if not (src / "cell.json").is_file():
                continue
            _copy_tree(src, out / "cells" / cid)
            cells[cid] = read_cell(src).get("status", status)
        for name, status in (m.get("tutorials") or {}).items():
            if TUTORIAL_PREFIX + name not in mine:
                continue
            tutorials[name] = status
            for ext in ("json", "ipynb"):
                src = p / "tutorials" / f"{name}.{ext}"
                if src.is_file():
                    (out / "tutorials").mkdir(exist_ok=True)
                    shutil.copy2(src, out / "tutorials" / src.name)
        shards.append({"index": k, "status": "merged", "run_id": m.get("run_id", p.name),
                       "git": m.get("git"), "hardware": m.get("hardware"), "packages": m.get("packages"),
                       "plugins": m.get("plugins", {}), "invocations": m.get("invocations", [])})

    # what was planned but never arrived: the cells of missing shards, and any cell a present
    # shard did not finish (its job timed out or was cancelled before the cell was written)
    for key, info in plan.items():
        if key.startswith(TUTORIAL_PREFIX):
            name = key[len(TUTORIAL_PREFIX):]
            if tutorials.get(name) is None:
                tutorials[name] = MISSING
            continue
        if key in cells:
            continue
        k = info["shard"]
        why = (f"shard {k}/{count} delivered no results (its job failed, timed out or was cancelled "
               "before uploading)" if k in report.missing else
               f"shard {k}/{count} did not finish this cell (its job stopped before the cell ended)")
        record = {"cell_id": key, "status": MISSING, "reason": why,
                  **{f: info.get(f) for f in ("dataset", "split", "method_id", "method", "seed", "profile", "limit")},
                  "shard": f"{k}/{count}"}
        (out / "cells" / key).mkdir(parents=True, exist_ok=True)
        write_json(out / "cells" / key / "cell.json", record)
        cells[key] = MISSING
        report.missing_cells.append(key)

    manifest = {k: v for k, v in first.items() if k not in ("shard", "invocations", "cells", "tutorials")}
    manifest.update(
        run_id=out.name,
        data=data,
        # method id -> plugin distribution and version, as each shard recorded it
        plugins={k: v for _, m in sorted(by_index.items()) for k, v in (m[1].get("plugins") or {}).items()},
        created=now(),
        updated=now(),
        cells=dict(sorted(cells.items())),
        shards={"count": count, "merged": report.merged, "missing": report.missing,
                "missing_cells": len(report.missing_cells), "runs": shards},
        invocations=[{"merged": now(), "from": [by_index[k][1].get("run_id") for k in report.merged]}],
    )
    if tutorials:
        manifest["tutorials"] = dict(sorted(tutorials.items()))
    write_json(out / "manifest.json", manifest)
    report.cells = len(cells)
    report.missing_cells.sort()
    if report.missing or report.missing_cells:
        logger.warning("merged %d of %d shards into %s; missing shards %s, %d cells missing", len(report.merged),
                       count, out, report.missing or "none", len(report.missing_cells))
    return report
