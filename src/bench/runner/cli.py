"""What ``bench run``, ``bench merge``, ``bench score`` and ``bench leaderboard`` do.

Their options are declared with the command table, :data:`bench.cli.COMMANDS`.

    bench run CONFIG [--jobs N] [--executor local|dask --scheduler ADDR] [--shard K/N]
                     [--run-id ID] [--root DIR] [--force | --retry-failed] [--dry-run]
    bench merge RUN... --into RUN [--root DIR] [--shards N]
    bench score --pred DIR (--true DIR | --dataset NAME [--split test])
                     [--name METHOD] [--run RUN | --out DIR] [--format markdown|csv|html]
    bench leaderboard [RUN] [--dataset NAME] [--format markdown|csv|html] [--all-columns]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..leaderboard import SHORT_COLUMNS, format_leaderboard, leaderboard
from ..results import load_run, read_cell, runs_root, write_json
from ..aggregate import summarize_tables
from ..text_table import format_table
from .config import load_config
from .external import save_external, score_folder
from .merge import merge_runs
from .run import cell_id, default_run_id, select_cells, plan_estimates, plan_run, plan_tutorials, run_config
from .shard import PRIOR_SECONDS, Shard, TUTORIAL_PREFIX, partition, shard_summary

__all__ = ["run", "merge", "score", "print_leaderboard"]


# ------------------------------------------------------------------------ run
def run(args) -> int:
    try:
        config = load_config(args.config)
    except FileNotFoundError as exc:
        print(f"bench run: error: {exc}", file=sys.stderr)
        return 2
    try:
        shard = Shard.parse(args.shard) if args.shard is not None else None
    except ValueError as exc:
        print(f"bench run: error: {exc}", file=sys.stderr)
        return 2
    jobs = args.jobs
    if jobs is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        jobs = max(1, min(cores, 4))
    if args.dry_run:
        _dry_run(config, args, shard, jobs)
        return 0
    try:
        report = run_config(
            config,
            root=args.root,
            run_id=args.run_id,
            jobs=jobs,
            executor=args.executor,
            scheduler=args.scheduler,
            force=args.force,
            retry_failed=args.retry_failed,
            progress=not args.no_progress,
            shard=shard,
            only=args.only,
        )
    except ValueError as exc:
        print(f"bench run: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        reason = f" ({exc})" if str(exc) else ""
        print(f"bench run: interrupted{reason}; finished cells are kept, running ones were stopped. "
              "Run the same command again to finish the rest.", file=sys.stderr)
        return 130
    counts = ", ".join(f"{v} {k}" for k, v in report.counts().items() if v)
    print(f"run {report.run_id}: {len(report.statuses)} cells ({counts}); "
          f"{len(report.executed)} run now, {len(report.cached)} cached; {report.wall_s:.0f} s wall")
    print(f"results: {report.run_dir}")
    if not args.no_leaderboard:
        print(format_leaderboard(leaderboard(report.run_dir)))
    return 0


def _dry_run(config, args, shard, jobs: int) -> None:
    """What ``bench run --dry-run`` prints: the cells (of the shard) and the estimate per shard."""
    cells, ctx = plan_run(config)
    tutorials = plan_tutorials(config, ctx)
    estimates = plan_estimates(cells, tutorials, ctx)
    count = shard.count if shard is not None else 1
    assignment = partition(estimates, count)
    if shard is not None:
        cells = [c for c in cells if assignment[c.cell_id] == shard.index]
    if getattr(args, "only", None):
        cells = select_cells(cells, args.only)
        keep = {c.cell_id for c in cells}
        estimates = {k: v for k, v in estimates.items() if k in keep}
        assignment = {k: v for k, v in assignment.items() if k in keep}
    root = Path(args.root) if args.root else runs_root()
    run_dir = root / (args.run_id or default_run_id(config) + (shard.suffix if shard is not None else ""))
    rows = []
    for c in cells:
        d = run_dir / "cells" / c.cell_id
        old = read_cell(d) if (d / "cell.json").is_file() else None
        key = c.record["cache_key"] if c.record else c.spec.cache_key
        cached = old is not None and old.get("cache_key") == key
        rows.append({"cell": c.cell_id,
                     "plan": "skip: " + c.record["reason"][:60] if c.record else "run",
                     "cached": f"yes ({old['status']})" if cached else "no",
                     "estimate": f"{estimates[c.cell_id]:.0f} s"})
    print(f"run folder: {run_dir}\ncode version: {ctx['code_version']}")
    print(format_table(rows, ["cell", "plan", "cached", "estimate"]))
    if shard is not None:
        mine = [t.cell_id for t in tutorials if assignment[TUTORIAL_PREFIX + t.cell_id] == shard.index]
        print(f"tutorials of this shard: {', '.join(mine) or 'none'}")

    def hours(s: float) -> str:
        return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"

    summary = shard_summary(estimates, assignment, count, jobs)
    print(f"\nestimated wall time per shard ({jobs} cell{'s' if jobs != 1 else ''} at a time; priors per cell: "
          + ", ".join(f"{k} {v:g} s" for k, v in PRIOR_SECONDS.items())
          + "; a cell its method declines: 0 s)")
    print(format_table([{"shard": r["shard"] + (" (this one)" if shard is not None and r["shard"] == str(shard) else ""),
                         "cells + tutorials": r["items"], "cell time": hours(r["cell_s"]),
                         "estimated wall": hours(r["wall_s"])} for r in summary],
                       ["shard", "cells + tutorials", "cell time", "estimated wall"]))


# ---------------------------------------------------------------------- merge
def merge(args) -> int:
    report = merge_runs(args.runs, args.into, root=args.root, shard_count=args.shards)
    print(f"merged shards {report.merged} of {report.shard_count} into {report.run_dir} ({report.cells} cells)")
    if report.missing or report.missing_cells:
        print(f"bench merge: missing shards {report.missing or 'none'}; {len(report.missing_cells)} cells "
              "recorded as missing", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- score
def score(args) -> int:
    if (args.true is None) == (args.dataset is None):
        print("bench score: error: give exactly one of --true DIR and --dataset NAME", file=sys.stderr)
        return 2
    scores, info = score_folder(args.pred, true_dir=args.true, dataset=args.dataset, split=args.split)
    name = args.name or f"external:{Path(args.pred).resolve().name}"
    dataset = args.dataset or info.name
    out = None
    if args.run:
        run = load_run(args.run)
        out = run.path / "cells" / cell_id(name, dataset, args.seed)
    elif args.out:
        out = Path(args.out)
    if out is not None:
        save_external(scores, out, method_id=name, dataset=dataset, split=args.split, seed=args.seed,
                      source=str(Path(args.pred).resolve()))
        if args.run:
            manifest = dict(run.manifest)
            if "cells" in manifest:
                manifest["cells"] = {**manifest["cells"], out.name: "ok"}
            write_json(run.path / "manifest.json", manifest)
        print(f"wrote {out}")
    summary = summarize_tables(scores.tables)
    summary.insert(0, "method_id", name)
    summary.insert(1, "dataset", dataset)
    print(format_leaderboard(summary, args.format, columns=None))
    return 0


# ---------------------------------------------------------------- leaderboard
def print_leaderboard(args) -> int:
    try:
        run = load_run(args.run)
    except FileNotFoundError as exc:
        print(f"bench leaderboard: error: {exc}", file=sys.stderr)
        return 2
    df = leaderboard(run, dataset=args.dataset, n_boot=0 if args.no_ci else 1000)
    print(format_leaderboard(df, args.format, columns=None if args.all_columns else SHORT_COLUMNS))
    return 0


