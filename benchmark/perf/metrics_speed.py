"""Speed and memory of ``bench.metrics.match_instances`` against ``stardist.matching.matching``.

Builds 2048 x 2048 label images with 500, 2,000 and 10,000 puncta-sized objects
(discs of radius 1.5-4.5 px) and a noisy prediction of each (objects shifted by up
to 1 px, grown or shrunk by 1 px, 5 % dropped, 3 % split in two, 5 % spurious,
labels shuffled), then times both functions on the same pair, checks that the counts
are identical, and prints a table (object counts, times, ratios, peak memory) and, as
its last line, the speed-up ratios.

Each timing runs in a fresh Python process, so that the peak resident memory it
reports (``ru_maxrss`` minus the resident size before the call) belongs to that call
alone. Warm-up (numba compilation of stardist's overlap kernel, imports) is kept out
of the timings; the reported time is the best of ``--repeats`` calls (wall clock; the
CPU-time ratio is printed too, as it is steadier on a busy machine). A third process
calls both functions interleaved and reports the ratio of their median times: on a
loaded machine that ratio is the one to quote.

Usage::

    python benchmark/perf/metrics_speed.py                  # 500, 2000, 10000 objects
    python benchmark/perf/metrics_speed.py --sizes 500 2000 --repeats 3
    python benchmark/perf/metrics_speed.py --thresholds 0.1 0.3 0.5 0.7 0.9
    python benchmark/perf/metrics_speed.py --json benchmark/perf/results/metrics_speed.json

``--json`` also writes the measurements with the machine and package versions: the
committed ``benchmark/perf/results/metrics_speed.json`` is what the book's metrics
chapter shows (``bench book`` renders it; no number there is typed by hand).

This is a benchmark script, not a test: it needs stardist (``pip install
bench[stardist]``) and takes about a minute, most of it in stardist at 10,000
objects.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SHAPE = (2048, 2048)
CELL = 16  # grid spacing that keeps the true objects apart


def _disc(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (yy**2 + xx**2) <= radius**2


def _paint(labels: np.ndarray, cy: int, cx: int, stencil: np.ndarray, value: int) -> None:
    h, w = stencil.shape
    y0, x0 = cy - h // 2, cx - w // 2
    ys, xs = slice(max(y0, 0), min(y0 + h, labels.shape[0])), slice(max(x0, 0), min(x0 + w, labels.shape[1]))
    sub = stencil[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    labels[ys, xs][sub] = value


def make_pair(n_objects: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 2048 x 2048 ground truth with `n_objects` puncta and a noisy prediction."""
    rng = np.random.default_rng(seed)
    gy, gx = SHAPE[0] // CELL, SHAPE[1] // CELL
    if n_objects > gy * gx:
        raise ValueError(f"at most {gy * gx} objects fit, got {n_objects}")
    cells = rng.choice(gy * gx, size=n_objects, replace=False)
    cy = (cells // gx) * CELL + CELL // 2 + rng.integers(-2, 3, n_objects)
    cx = (cells % gx) * CELL + CELL // 2 + rng.integers(-2, 3, n_objects)
    radius = rng.uniform(1.5, 4.5, n_objects)
    y_true = np.zeros(SHAPE, np.int32)
    y_pred = np.zeros(SHAPE, np.int32)
    new_ids = iter(rng.permutation(np.arange(1, 2 * n_objects + 10)))
    fate = rng.random(n_objects)
    for i in range(n_objects):
        _paint(y_true, cy[i], cx[i], _disc(radius[i]), i + 1)
        if fate[i] < 0.05:  # dropped
            continue
        r = max(radius[i] + rng.choice([-1.0, 0.0, 0.0, 1.0]), 1.0)
        py, px = cy[i] + rng.integers(-1, 2), cx[i] + rng.integers(-1, 2)
        stencil = _disc(r)
        _paint(y_pred, py, px, stencil, next(new_ids))
        if fate[i] > 0.97:  # split: left half gets its own label
            half = stencil.copy()
            half[:, stencil.shape[1] // 2 :] = False
            _paint(y_pred, py, px, half, next(new_ids))
    free = np.setdiff1d(np.arange(gy * gx), cells)
    spurious = rng.choice(free, size=n_objects // 20, replace=False)
    for c in spurious:
        _paint(y_pred, (c // gx) * CELL + CELL // 2, (c % gx) * CELL + CELL // 2, _disc(rng.uniform(1.5, 3.5)), next(new_ids))
    return y_true, y_pred


_CHILD = r"""
import json, resource, sys, time
import numpy as np
which, true_path, pred_path, repeats, thresholds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
y_true, y_pred = np.load(true_path), np.load(pred_path)
thr = thresholds[0] if len(thresholds) == 1 else thresholds
if which == "stardist":
    from stardist.matching import matching
    call = lambda: matching(y_true, y_pred, thresh=thr)
    tiny = np.zeros((8, 8), np.int32); tiny[2:4, 2:4] = 1
    matching(tiny, tiny, thresh=thr)  # numba compilation
    def counts(r):
        rs = (r,) if hasattr(r, "tp") else r
        return [[x.n_true, x.n_pred, x.tp, x.fp, x.fn] for x in rs]
else:
    from bench.metrics import match_instances
    call = lambda: match_instances(y_true, y_pred, iou_threshold=thr)
    tiny = np.zeros((8, 8), np.int32); tiny[2:4, 2:4] = 1
    match_instances(tiny, tiny, iou_threshold=thr)
    def counts(r):
        rs = (r,) if hasattr(r, "tp") else r
        return [[x.n_true, x.n_pred, x.tp, x.fp, x.fn] for x in rs]
page = resource.getpagesize()
with open("/proc/self/statm") as f:
    rss_before = int(f.read().split()[1]) * page
times, cpu = [], []
for _ in range(repeats):
    t0, c0 = time.perf_counter(), time.process_time()
    res = call()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"time": min(times), "cpu": min(cpu), "peak_bytes": max(peak - rss_before, 0), "counts": counts(res)}))
"""

# Both functions in one process, calls interleaved (one stardist call, then `k` of
# ours, repeated): a busy machine slows both sides alike, so the ratio of the medians
# is steadier than the ratio of times taken minutes apart in separate processes.
_INTERLEAVED = r"""
import json, sys, time
import numpy as np
from stardist.matching import matching
from bench.metrics import match_instances
true_path, pred_path, rounds, thresholds = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
y_true, y_pred = np.load(true_path), np.load(pred_path)
thr = thresholds[0] if len(thresholds) == 1 else thresholds
matching(y_true, y_pred, thresh=thr)
match_instances(y_true, y_pred, iou_threshold=thr)
sd, ours = [], []
for _ in range(rounds):
    t0 = time.perf_counter(); matching(y_true, y_pred, thresh=thr); sd.append(time.perf_counter() - t0)
    for _ in range(5):
        t0 = time.perf_counter(); match_instances(y_true, y_pred, iou_threshold=thr); ours.append(time.perf_counter() - t0)
print(json.dumps({"stardist": float(np.median(sd)), "bench": float(np.median(ours))}))
"""


def _run_child(which: str, true_path: Path, pred_path: Path, repeats: int, thresholds: list[float]) -> dict:
    env = dict(os.environ)
    src = Path(__file__).resolve().parents[2] / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH", "")]))
    if which == "interleaved":
        args = [_INTERLEAVED, str(true_path), str(pred_path), str(repeats), json.dumps(thresholds)]
    else:
        args = [_CHILD, which, str(true_path), str(pred_path), str(repeats), json.dumps(thresholds)]
    out = subprocess.run(
        [sys.executable, "-c", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{which} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (best is kept)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the measurements, machine and versions to PATH (for the book)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()  # the book says how busy the machine was
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            y_true, y_pred = make_pair(n, seed=args.seed)
            tp_, pp_ = Path(tmp) / f"true_{n}.npy", Path(tmp) / f"pred_{n}.npy"
            np.save(tp_, y_true)
            np.save(pp_, y_pred)
            # stardist at 10,000 objects takes tens of seconds per call: time it once
            sd = _run_child("stardist", tp_, pp_, 1 if n >= 5000 else args.repeats, args.thresholds)
            ours = _run_child("bench", tp_, pp_, max(args.repeats, 10), args.thresholds)
            both = _run_child("interleaved", tp_, pp_, 1 if n >= 5000 else max(args.repeats, 5), args.thresholds)
            ours["interleaved_ratio"] = both["stardist"] / both["bench"]
            rows.append((n, sd, ours))

    thr = ",".join(f"{t:g}" for t in args.thresholds)
    print(f"match_instances vs stardist.matching.matching, 2048x2048 int32 labels, criterion=iou, threshold={thr}")
    header = (
        f"{'objects':>8} {'n_true':>7} {'n_pred':>7} {'tp':>7} {'same counts':>11} "
        f"{'stardist s':>11} {'bench s':>9} {'speed-up':>9} {'CPU speed-up':>13} {'interleaved':>12} "
        f"{'stardist MB':>12} {'bench MB':>9} {'bench kB/object':>16}"
    )
    print(header)
    print("-" * len(header))
    all_same = True
    for n, sd, ours in rows:
        same = sd["counts"] == ours["counts"]
        all_same &= same
        n_true, n_pred, tp = ours["counts"][0][:3]
        print(
            f"{n:>8} {n_true:>7} {n_pred:>7} {tp:>7} {'yes' if same else 'NO':>11} "
            f"{sd['time']:>11.3f} {ours['time']:>9.4f} {sd['time'] / ours['time']:>8.1f}x "
            f"{sd['cpu'] / ours['cpu']:>12.1f}x {ours['interleaved_ratio']:>11.1f}x "
            f"{sd['peak_bytes'] / 2**20:>12.1f} {ours['peak_bytes'] / 2**20:>9.1f} "
            f"{ours['peak_bytes'] / 1024 / max(n_true + n_pred, 1):>16.2f}"
        )
    if not all_same:
        print("COUNTS DIFFER between stardist and bench.metrics")
    print(
        "speed-up (wall / CPU / interleaved in one process, medians): "
        + ", ".join(
            f"{n} objects {sd['time'] / ours['time']:.1f}x / {sd['cpu'] / ours['cpu']:.1f}x / {ours['interleaved_ratio']:.1f}x"
            for n, sd, ours in rows
        )
    )
    if args.json is not None:
        _write_json(args.json, rows, args, argv, load=(load_before, os.getloadavg()))
        print(f"wrote {args.json}")
    return 0 if all_same else 1


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_json(path: Path, rows, args, argv: list[str] | None, *, load) -> None:
    """The measurements as the book reads them (``bench.book.facts``)."""
    from datetime import datetime, timezone

    words = sys.argv[1:] if argv is None else argv
    doc = {
        "command": "python benchmark/perf/metrics_speed.py" + "".join(f" {shlex.quote(w)}" for w in words),
        "measured": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()
                    or platform.machine(), "python": platform.python_version(),
                    "load_average_1min": {"before": round(load[0][0], 2), "after": round(load[1][0], 2)}},
        "packages": {d: _version(d) for d in ("numpy", "scipy", "stardist", "numba")},
        "shape": list(SHAPE),
        "thresholds": list(args.thresholds),
        "rows": [
            {
                "objects": n,
                "n_true": ours["counts"][0][0],
                "n_pred": ours["counts"][0][1],
                "tp": ours["counts"][0][2],
                "same_counts": sd["counts"] == ours["counts"],
                "stardist_s": sd["time"],
                "bench_s": ours["time"],
                "stardist_cpu_s": sd["cpu"],
                "bench_cpu_s": ours["cpu"],
                "stardist_peak_mb": sd["peak_bytes"] / 2**20,
                "bench_peak_mb": ours["peak_bytes"] / 2**20,
                "interleaved_speedup": ours["interleaved_ratio"],
            }
            for n, sd, ours in rows
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
