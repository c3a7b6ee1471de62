"""Box supervision: the leaderboard rows of box-trained and mask-trained deep methods (issue 16).

Collects, from finished runs of ``benchmark/configs/boxes.yaml`` (synth-cells: the same
methods trained on the true masks and on masks made from the true boxes) and
``benchmark/configs/boxes_cellular.yaml`` (or ``deep.yaml``: the real CELLULAR fields,
boxes only), one row per (run, dataset, method) into a small CSV that the book's
box-supervision page reads, so the page never holds a hand-typed number::

    bench run benchmark/configs/boxes.yaml --jobs 1
    bench run benchmark/configs/boxes_cellular.yaml --jobs 1
    PYTHONPATH=src python benchmark/experiments/box_supervision.py boxes-112ba70e boxes-cellular-cee6c7a8

``--update`` keeps the rows already in the CSV and replaces those of the same (dataset,
method) with the new runs' (for runs made at different times, on different machines);
``--datasets`` takes only those datasets of the runs (e.g. the cellular-boxes cells of a
``deep.yaml`` run)::

    python benchmark/experiments/box_supervision.py deep-33f70f64 --datasets cellular-boxes --update

Scores are the leaderboard's: object F1 at IoU >= 0.5 of the instances (masks on
synth-cells, boxes on ``cellular-boxes``, where predicted instances become boxes), pooled
over the test images, and the mean absolute count error per image (``count_mae``).
Cells that failed, timed out or were skipped are kept with their status and reason.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from bench.leaderboard import leaderboard
from bench.methods import get_method
from bench.results import load_run

OUT = Path(__file__).parent / "results" / "box_supervision.csv"
COLUMNS = ("run_id", "dataset", "task", "method_id", "method", "labels", "status", "reason", "f1", "f1_low",
           "f1_high", "precision", "recall", "mean_iou", "count_mae", "fit_s", "predict_s_per_image",
           "n_images", "profile")


def _labels(method_id: str) -> str:
    try:
        return str(get_method(method_id).param_dict().get("labels", "truth"))
    except (KeyError, ValueError):
        return "?"


def _round(v, nd=4):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    return "" if f != f else round(f, nd)


def rows_of(run_id: str, *, root: Path | None = None) -> list[dict]:
    results = load_run(run_id) if root is None else load_run(root / run_id)
    board = leaderboard(results)
    names = results.cells.drop_duplicates("method_id").set_index("method_id")["method"]
    rows = []
    for _, r in board.iterrows():
        mid = str(r["method_id"])
        rows.append({
            "run_id": results.run_id, "dataset": r["dataset"], "task": r["task"], "method_id": mid,
            "method": names.get(mid, ""), "labels": _labels(mid), "status": r["status"],
            "reason": str(r.get("reason") or "")[:200],
            **{k: _round(r.get(k)) for k in ("f1", "f1_low", "f1_high", "precision", "recall", "mean_iou",
                                             "count_mae")},
            "fit_s": _round(r.get("fit_s"), 1), "predict_s_per_image": _round(r.get("predict_s_per_image"), 2),
            "n_images": r.get("n_images", ""), "profile": r.get("profile", ""),
        })
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run ids (folders of benchmark/runs) or run folders")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--datasets", nargs="+", default=None, metavar="NAME", help="only these datasets of the runs")
    ap.add_argument("--update", action="store_true",
                    help="keep the CSV's rows, replacing those of the same (dataset, method_id)")
    args = ap.parse_args(argv)
    rows = [r for run in args.runs for r in rows_of(run)
            if args.datasets is None or r["dataset"] in args.datasets]
    if args.datasets is not None and not rows:
        ap.error(f"--datasets {' '.join(args.datasets)}: no leaderboard row of the runs {args.runs} is on them")
    if args.update and args.out.is_file():
        new = {(r["dataset"], r["method_id"]) for r in rows}
        with args.out.open(newline="") as f:
            old = [r for r in csv.DictReader(f) if (r["dataset"], r["method_id"]) not in new]
        rows = old + rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
