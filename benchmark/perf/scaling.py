"""How the cost of each method grows: predict time and memory against field size and
object count, fit time against training-set size. Writes a tidy CSV for the book.

    python benchmark/perf/scaling.py --quick          # a few minutes: the committed table
    python benchmark/perf/scaling.py                  # 256² .. 4096², more methods, more fits
    python benchmark/perf/scaling.py --methods log_spots --sides 256 1024 4096 --out /tmp/s.csv

Fields: mosaics of 256 x 256 synth-lyso tiles (a pool of ``--pool`` generated tiles,
each placed with a random flip and rotation, labels renumbered), so a field of any
side has the density of real synth-lyso fields: about 32 objects per 256², 2,000 at
2048², 8,000 at 4096². Each method runs in its own process: fitted once on the
synth-lyso training split (``--profile``, the U-Net's ``ci`` by default), warmed up on
one 256² field, then it predicts one field per side in ascending order. Fit curves:
each trainable method is fitted on the first n training fields, for each n of
``--train-sizes``, its validation split unchanged.

Peak memory is the larger of the ``tracemalloc`` peak during the call (numpy's buffers,
not torch's) and the growth of the resident set (``VmHWM`` after resetting it through
``/proc/self/clear_refs``, where that file exists). Times are wall-clock seconds of one call, with the
CPU seconds beside them; the machine's 1-minute load average goes in every row, since a
loaded machine inflates the times (ratios between sizes, and so the fitted exponents,
suffer less).

Columns of the CSV: ``kind`` (predict | fit), ``method``, ``side``, ``pixels``,
``objects`` (true objects in the field; training objects for a fit), ``n_train``,
``seconds``, ``cpu_seconds``, ``peak_mib``, ``threads``, ``cpus``, ``load_1min``, ``quick``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "benchmark" / "perf" / "results" / "scaling.csv"
COLUMNS = ["kind", "method", "side", "pixels", "objects", "n_train", "seconds", "cpu_seconds", "peak_mib",
           "threads", "cpus", "load_1min", "quick"]
TILE = 256

QUICK = {
    "methods": ["auto_threshold", "isodata_watershed", "log_spots", "random_forest", "unet[depth=5,features=16]"],
    "sides": [256, 512, 1024, 2048],
    "fit_methods": ["random_forest", "unet[depth=5,features=16]"],
    "train_sizes": [3, 6, 12],
}
FULL = {
    "methods": ["auto_threshold", "isodata_watershed", "log_spots", "hough", "random_forest", "svm",
                "unet[depth=5,features=16]", "unet7x16"],
    "sides": [256, 512, 1024, 2048, 4096],
    "fit_methods": ["random_forest", "svm", "unet[depth=5,features=16]"],
    "train_sizes": [3, 6, 12, 24],
}


def mosaic(side: int, *, seed: int = 0, pool: int = 8):
    """A ``side x side`` synth-lyso field tiled from `pool` generated 256² fields:
    ``(image (side, side, C) float32, labels (side, side) int32)``."""
    import numpy as np

    from bench.data.synthetic import make_lyso

    if side % TILE:
        raise ValueError(f"`side` must be a multiple of {TILE}, got {side}")
    rng = np.random.default_rng(seed)
    tiles = [make_lyso(50_000 + k, shape=(TILE, TILE)) for k in range(pool)]
    n = side // TILE
    image = np.zeros((side, side, tiles[0].image.shape[2]), np.float32)
    labels = np.zeros((side, side), np.int32)
    next_id = 0
    for i in range(n):
        for j in range(n):
            t = tiles[int(rng.integers(pool))]
            k, flip = int(rng.integers(4)), bool(rng.integers(2))
            img, lab = np.rot90(t.image, k), np.rot90(t.labels, k)
            if flip:
                img, lab = img[:, ::-1], lab[:, ::-1]
            ys, xs = slice(i * TILE, (i + 1) * TILE), slice(j * TILE, (j + 1) * TILE)
            image[ys, xs] = img
            ids, inv = np.unique(lab, return_inverse=True)
            new = np.arange(ids.size, dtype=np.int32) + next_id
            new[ids == 0] = 0
            labels[ys, xs] = new[inv.reshape(lab.shape)]
            next_id += int((ids > 0).sum())
    return image, labels


class _Peak:
    """Peak growth of the resident set (or of traced numpy memory) over a block."""

    def __enter__(self):
        import tracemalloc

        self.mode = "vmhwm"
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.base = self._status("VmRSS")
        except OSError:
            self.mode = "tracemalloc"
        tracemalloc.start()
        tracemalloc.reset_peak()
        return self

    @staticmethod
    def _status(key: str) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        raise OSError(key)

    def __exit__(self, *exc):
        import tracemalloc

        # freed heap pages that are reused do not raise VmHWM: take the larger of the two
        self.mib = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        if self.mode == "vmhwm":
            self.mib = max(self.mib, self._status("VmHWM") - self.base)
        return False


def _timed(fn):
    with _Peak() as pk:
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
    return out, w, c, pk.mib


def _get(method: str, profile: str):
    from bench.methods import get_method

    m = get_method(method)
    if "profile" in type(m.params).__dataclass_fields__:
        m = get_method(method, profile=profile)
    return m


def _child(job: dict) -> list[dict]:
    import numpy as np
    import torch

    from bench.splits import load_fit_data

    rows = []
    common = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(), "quick": job["quick"]}
    train, val = load_fit_data("synth-lyso")
    if job["kind"] == "predict":
        m = _get(job["method"], job["profile"])
        m.fit(train, val, rng=0)
        warm, _ = mosaic(TILE, seed=99)
        m.predict(warm)
        for side in job["sides"]:
            image, labels = mosaic(side, seed=side)
            _, w, c, mib = _timed(lambda: m.predict(image))
            rows.append({"kind": "predict", "method": job["method"], "side": side, "pixels": side * side,
                         "objects": int(labels.max()), "n_train": len(train), "seconds": w, "cpu_seconds": c,
                         "peak_mib": mib, "load_1min": os.getloadavg()[0], **common})
    else:
        # one untimed fit first: the first fit of a process also pays imports and first-call
        # set-up (8.5 s against 3.4 s for random_forest on 3 fields), which is no cost of the data
        _get(job["method"], job["profile"]).fit(train[: min(job["train_sizes"])], val, rng=0)
        for n in job["train_sizes"]:
            sub = train[:n]
            m = _get(job["method"], job["profile"])
            _, w, c, mib = _timed(lambda: m.fit(sub, val, rng=0))
            objects = int(sum(np.unique(s.labels[s.labels > 0]).size for s in sub))
            side = sub[0].image.shape[0]
            rows.append({"kind": "fit", "method": job["method"], "side": side, "pixels": side * side * len(sub),
                         "objects": objects, "n_train": len(sub), "seconds": w, "cpu_seconds": c, "peak_mib": mib,
                         "load_1min": os.getloadavg()[0], **common})
    return rows


def _run(job: dict) -> list[dict]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], capture_output=True, text=True,
                         env=env, check=False)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {job['kind']} {job['method']}: failed ({tail})", flush=True)
        return []
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer methods, sides up to 2048², 3 fit sizes")
    ap.add_argument("--methods", nargs="+", help="predict curves of these methods")
    ap.add_argument("--fit-methods", nargs="+", help="fit curves of these methods")
    ap.add_argument("--sides", type=int, nargs="+", help=f"field sides (multiples of {TILE})")
    ap.add_argument("--train-sizes", type=int, nargs="+", help="training-set sizes of the fit curves")
    ap.add_argument("--profile", default="ci", help="training profile of methods that have one")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        sys.stdout.write(json.dumps(_child(json.loads(a.child))) + "\n")
        return 0
    plan = QUICK if a.quick else FULL
    methods = a.methods or plan["methods"]
    fit_methods = a.fit_methods if a.fit_methods is not None else plan["fit_methods"]
    sides = sorted(a.sides or plan["sides"])
    train_sizes = sorted(a.train_sizes or plan["train_sizes"])
    rows = []
    t0 = time.perf_counter()
    for meth in methods:
        got = _run({"kind": "predict", "method": meth, "sides": sides, "profile": a.profile, "quick": a.quick})
        for r in got:
            print(f"  predict {meth:28s} {r['side']:>5}²  {r['objects']:>6} objects  {r['seconds']:8.2f} s  "
                  f"{r['peak_mib']:8.1f} MiB", flush=True)
        rows += got
        _write(a.out, rows)  # after every method: an interrupted run keeps what it measured
    for meth in fit_methods:
        got = _run({"kind": "fit", "method": meth, "train_sizes": train_sizes, "profile": a.profile,
                    "quick": a.quick})
        for r in got:
            print(f"  fit     {meth:28s} n={r['n_train']:>3}  {r['objects']:>6} objects  {r['seconds']:8.2f} s  "
                  f"{r['peak_mib']:8.1f} MiB", flush=True)
        rows += got
        _write(a.out, rows)
    print(f"wrote {len(rows)} rows to {a.out} in {time.perf_counter() - t0:.0f} s")
    return 0 if rows else 1


def _write(out: Path, rows: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.4g}" if isinstance(r[k], float) else r[k]) for k in COLUMNS})
    os.replace(tmp, out)


if __name__ == "__main__":
    raise SystemExit(main())
