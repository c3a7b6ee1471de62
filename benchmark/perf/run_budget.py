"""Per-cell times of a run, and what the run would take on N dedicated cores.

    python benchmark/perf/run_budget.py [RUN] [--cores 2] [--overhead-cpu 1.5]

Wall times measured on a shared machine overstate the cost of a cell; the CPU seconds
its kernel used (``cpu_s``, all threads) do not. The estimate for N dedicated cores is
``(sum of cpu_s + cells x overhead) / N``. ``cpu_s`` is the kernel's whole lifetime
(its own start and imports included); the overhead is the CPU of the papermill process
around it: about 1.5 s per cell here (``/usr/bin/time`` on ``runner_overhead.py``:
2.2 CPU-s per trivial cell, of which ~1 s is that kernel's own start). Waiting between
cells (scheduling, a single slow cell at the end) is not counted.
"""

from __future__ import annotations

import argparse


def main() -> None:
    from bench.cli import format_table
    from bench.results import load_run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", default=None, help="run folder (default: the latest)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--overhead-cpu", type=float, default=1.5, help="CPU seconds of papermill per cell")
    args = p.parse_args()
    run = load_run(args.run)
    c = run.cells.copy()
    ran = c[c["status"].isin(["ok", "failed", "timeout"])]
    rows = []
    for r in ran.sort_values("wall_s", ascending=False).itertuples():
        rows.append({"cell": r.cell_id, "status": r.status, "wall_s": f"{r.wall_s or 0:.1f}",
                     "fit_s": "" if r.fit_s is None or r.fit_s != r.fit_s else f"{r.fit_s:.1f}",
                     "cpu_s": "" if r.cpu_s is None or r.cpu_s != r.cpu_s else f"{r.cpu_s:.1f}"})
    print(format_table(rows, ["cell", "status", "wall_s", "fit_s", "cpu_s"]))
    cpu = float(ran["cpu_s"].fillna(0).sum())
    wall = float(ran["wall_s"].fillna(0).sum())
    n = len(ran)
    est = (cpu + n * args.overhead_cpu) / args.cores
    print(f"\n{n} cells executed ({len(c) - n} skipped); sum of cell wall times {wall:.0f} s; "
          f"sum of kernel CPU {cpu:.0f} s")
    print(f"estimate on {args.cores} dedicated cores: ({cpu:.0f} + {n} x {args.overhead_cpu:g}) / {args.cores} "
          f"= {est:.0f} s ({est / 60:.1f} min)")


if __name__ == "__main__":
    main()
