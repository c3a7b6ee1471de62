"""Sub-commands ``bench run``, ``bench score`` and ``bench leaderboard``.

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

from ..cli import add_command

__all__: list[str] = []


# ------------------------------------------------------------------------ run
def _configure_run(p) -> None:
    p.add_argument("config", help="run configuration (benchmark/configs/*.yaml)")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="cells run at once locally (default: the CPU cores, at most 4; each cell gets "
                        "cores // jobs threads)")
    p.add_argument("--executor", choices=["local", "dask"], default="local", help="where cells run")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (with --executor dask)")
    p.add_argument("--run-id", default=None, help="run folder name (default: <config name>-<config hash>)")
    p.add_argument("--root", default=None, help="folder of runs (default: benchmark/runs or $BENCH_RUNS)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--force", action="store_true", help="re-run every cell, ignoring the cache")
    g.add_argument("--retry-failed", action="store_true", help="re-run failed and timed-out cells")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="run only the K-th of N parts of the configuration (balanced by estimated time; "
                        "the run folder gets the suffix -shardKofN; put them together with `bench merge`)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the cells and whether they are cached, and the estimated wall time of each shard; "
                        "run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-leaderboard", action="store_true", help="do not print the leaderboard at the end")


def _run(args) -> int:
    from ..leaderboard import format_leaderboard, leaderboard
    from .config import load_config
    from .run import run_config
    from .shard import Shard

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
        )
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
    from ..cli import format_table
    from ..results import read_cell, runs_root
    from .run import default_run_id, plan_estimates, plan_run, plan_tutorials
    from .shard import PRIOR_SECONDS, TUTORIAL_PREFIX, partition, shard_summary

    cells, ctx = plan_run(config)
    tutorials = plan_tutorials(config, ctx)
    estimates = plan_estimates(cells, tutorials, ctx)
    count = shard.count if shard is not None else 1
    assignment = partition(estimates, count)
    if shard is not None:
        cells = [c for c in cells if assignment[c.cell_id] == shard.index]
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
def _configure_merge(p) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="shard run folders or ids (from `bench run CONFIG --shard K/N`); one that does not "
                        "exist is recorded as a missing shard")
    p.add_argument("--into", required=True, metavar="RUN", help="the merged run: a new folder, or a run id")
    p.add_argument("--root", default=None, help="folder of runs (default: benchmark/runs or $BENCH_RUNS)")
    p.add_argument("--shards", type=int, default=None, metavar="N",
                   help="the number of shards expected (checked against the shards' own)")


def _merge(args) -> int:
    from .merge import merge_runs

    report = merge_runs(args.runs, args.into, root=args.root, shard_count=args.shards)
    print(f"merged shards {report.merged} of {report.shard_count} into {report.run_dir} ({report.cells} cells)")
    if report.missing or report.missing_cells:
        print(f"bench merge: missing shards {report.missing or 'none'}; {len(report.missing_cells)} cells "
              "recorded as missing", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- score
def _configure_score(p) -> None:
    p.add_argument("--pred", required=True, help="folder of predicted label images named <sample>.tif/.png")
    p.add_argument("--true", default=None, help="folder of true label images with the same names")
    p.add_argument("--dataset", default=None, help="score against this dataset's split instead of --true")
    p.add_argument("--split", default="test", choices=["test", "val"], help="split of --dataset (default test)")
    p.add_argument("--name", default=None, help="method id shown in tables (default: external:<pred folder>)")
    p.add_argument("--seed", type=int, default=0, help="seed recorded with the rows (default 0)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--run", default=None, help="add the result as a cell of this run (joins its leaderboard)")
    g.add_argument("--out", default=None, help="write tables and cell.json to this folder")
    p.add_argument("--format", default="markdown", choices=["markdown", "csv", "html"], help="summary format")


def _score(args) -> int:
    from ..leaderboard import format_leaderboard
    from ..results import load_run, summarize_tables
    from .external import save_external, score_folder
    from .run import cell_id

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
            from ..results import write_json

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
def _configure_leaderboard(p) -> None:
    p.add_argument("run", nargs="?", default=None, help="run folder or id (default: the latest run)")
    p.add_argument("--dataset", default=None, help="only this dataset")
    p.add_argument("--format", default="markdown", choices=["markdown", "csv", "html"])
    p.add_argument("--all-columns", action="store_true", help="every column, not the short set")
    p.add_argument("--no-ci", action="store_true", help="skip the bootstrap intervals (faster)")


def _leaderboard(args) -> int:
    from ..leaderboard import SHORT_COLUMNS, format_leaderboard, leaderboard
    from ..results import load_run

    try:
        run = load_run(args.run)
    except FileNotFoundError as exc:
        print(f"bench leaderboard: error: {exc}", file=sys.stderr)
        return 2
    df = leaderboard(run, dataset=args.dataset, n_boot=0 if args.no_ci else 1000)
    print(format_leaderboard(df, args.format, columns=None if args.all_columns else SHORT_COLUMNS))
    return 0


add_command("run", "run a benchmark configuration (papermill over methods x datasets)", _configure_run, _run)
add_command("merge", "merge the shard runs of one configuration into one run", _configure_merge, _merge)
add_command("score", "score a folder of predicted label images", _configure_score, _score)
add_command("leaderboard", "print the leaderboard of a run", _configure_leaderboard, _leaderboard)
