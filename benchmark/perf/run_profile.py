"""Where the seconds of a run went: per-cell overhead, fit, predict, and the schedule.

    python benchmark/perf/run_profile.py [RUN] [--jobs N]

Reads a finished run folder (``bench run`` writes every cell's ``started``/``finished``
time, ``wall_s``, ``fit_s``, ``predict_s_total`` and ``cpu_s``; tutorials their wall time)
and prints:

* per method family (classical / deep / tutorial): cells, summed wall, fit, predict and
  the rest (``other``: papermill and kernel start, imports, data loading or generation,
  scoring, figures, writing the tables);
* the schedule: the run's span from the first cell's start to the last one's end, the
  worker-seconds the cells used (``sum wall``) against ``jobs x span``, and the *tail*:
  the time at the end when fewer than ``jobs`` cells were running (a long cell started
  late);
* the slowest cells.

This is the profile that the performance issue asks for before any optimisation; run it on
a run made on a quiet machine (timings taken while something else loads the cores are not
comparable).
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime
from pathlib import Path


def _t(s: str) -> float:
    return datetime.fromisoformat(s).timestamp()


def _num(v) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v


def items(run_dir: Path) -> list[dict]:
    """Every executed cell and tutorial of `run_dir` with its family, times and interval."""
    from bench.runner.shard import PRIOR_SECONDS, estimate_seconds

    out = []
    for kind, pattern in (("cell", "cells/*/cell.json"), ("tutorial", "tutorials/*.json")):
        for f in sorted(run_dir.glob(pattern)):
            r = json.loads(f.read_text())
            if r.get("status") == "skipped" or not r.get("started") or not r.get("finished"):
                continue
            if kind == "tutorial":
                family = "tutorial"
            else:
                try:
                    family = "deep" if estimate_seconds(r["method_id"]) == PRIOR_SECONDS["deep"] else "classical"
                except Exception:  # a method no longer registered
                    family = "unknown"
            wall = _num(r.get("wall_s"))
            fit, pred = _num(r.get("fit_s")), _num(r.get("predict_s_total"))
            out.append({"id": r.get("cell_id") or f.stem, "family": family, "status": r.get("status"),
                        "wall": wall, "fit": fit, "predict": pred, "other": max(0.0, wall - fit - pred),
                        "cpu": _num(r.get("cpu_s")), "start": _t(r["started"]), "end": _t(r["finished"])})
    return out


def schedule(rows: list[dict], jobs: int) -> dict:
    """Span, busy worker-seconds and the tail (fewer than `jobs` cells running) of `rows`."""
    if not rows:
        return {"span": 0.0, "busy": 0.0, "idle": 0.0, "tail": 0.0}
    t0, t1 = min(r["start"] for r in rows), max(r["end"] for r in rows)
    events = sorted([(r["start"], 1) for r in rows] + [(r["end"], -1) for r in rows])
    running, last, under = 0, t0, 0.0
    for t, d in events:
        if running < jobs:
            under += t - last
        running += d
        last = t
    # the tail: from the moment the workers stopped being all busy for good, to the end
    running, drop = 0, t0
    for t, d in events:
        running += d
        if running >= jobs:
            drop = None
        elif drop is None:
            drop = t
    busy = sum(r["end"] - r["start"] for r in rows)
    return {"span": t1 - t0, "busy": busy, "idle": jobs * (t1 - t0) - busy, "under": under,
            "tail": t1 - (drop if drop is not None else t1)}


def main(argv: list[str] | None = None) -> None:
    from bench.cli import format_table
    from bench.results import latest_run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", default=None, help="run folder (default: the latest)")
    p.add_argument("--jobs", type=int, default=None, help="cells at once (default: the run's last invocation's)")
    p.add_argument("--top", type=int, default=12, help="slowest cells listed")
    args = p.parse_args(argv)
    run_dir = Path(args.run) if args.run else latest_run()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    jobs = args.jobs or int((manifest.get("invocations") or [{}])[-1].get("jobs") or 1)
    rows = items(run_dir)
    fams = sorted({r["family"] for r in rows})
    table = []
    for fam in fams + ["all"]:
        g = [r for r in rows if fam in ("all", r["family"])]
        s = {k: sum(r[k] for r in g) for k in ("wall", "fit", "predict", "other", "cpu")}
        table.append({"family": fam, "items": len(g), "wall s": f"{s['wall']:.0f}", "fit s": f"{s['fit']:.0f}",
                      "predict s": f"{s['predict']:.0f}", "other s": f"{s['other']:.0f}",
                      "other per item": f"{s['other'] / max(1, len(g)):.1f}", "kernel CPU s": f"{s['cpu']:.0f}"})
    print(f"run {run_dir.name}: {len(rows)} executed items, {jobs} at a time\n")
    print(format_table(table, list(table[0])))
    sch = schedule(rows, jobs)
    print(f"\nschedule: span {sch['span']:.0f} s; cells busy {sch['busy']:.0f} worker-s of {jobs} x span = "
          f"{jobs * sch['span']:.0f} ({sch['busy'] / max(1e-9, jobs * sch['span']):.0%} used); "
          f"fewer than {jobs} running for {sch['under']:.0f} s, of which the tail at the end {sch['tail']:.0f} s")
    top = sorted(rows, key=lambda r: -r["wall"])[: args.top]
    print("\nslowest:")
    print(format_table([{"item": r["id"], "family": r["family"], "wall s": f"{r['wall']:.0f}",
                         "fit s": f"{r['fit']:.0f}", "predict s": f"{r['predict']:.0f}",
                         "other s": f"{r['other']:.0f}"} for r in top],
                       ["item", "family", "wall s", "fit s", "predict s", "other s"]))


if __name__ == "__main__":
    main()
