"""How close are masks made from boxes to the true masks? (issue 16, item 1)

For each dataset with true masks, the boxes of the true masks are turned into
masks by every label maker of :mod:`bench.data.box_labels` (``threshold``
learned on the training split's boxes, as a method does); each true object is
compared with the mask made from its own box (object ``k`` <-> box ``k``, no
matching needed): per-object IoU, then its mean over the objects of the
training split. Writes a tidy CSV (one row per dataset and maker) that the
book's weak-label page reads::

    PYTHONPATH=src python benchmark/experiments/box_labels.py            # synth-cells
    PYTHONPATH=src python benchmark/experiments/box_labels.py synth-cells nih3t3

About 10-20 s per 12 images of 512x512 on one core.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from bench.data import get_dataset
from bench.data.box_labels import MAKERS, box_label_image, fit_box_threshold, sample_boxes
from bench.splits import get_split

OUT = Path(__file__).parent / "results" / "box_labels_iou.csv"
COLUMNS = ("dataset", "split", "maker", "n_images", "n_objects", "mean_iou", "median_iou",
           "frac_iou_ge_0.5", "n_hidden", "n_fallback", "threshold_plane", "threshold_j", "seconds")


def per_object_iou(truth: np.ndarray, made: np.ndarray) -> np.ndarray:
    """IoU of true object ``k`` (k-th label in ascending order) with made object ``k + 1``."""
    ids = np.unique(truth[truth > 0])
    remap = np.zeros(int(truth.max()) + 1, np.int64)
    remap[ids] = np.arange(1, ids.size + 1)
    t = remap[truth]
    n = ids.size + 1
    inter = np.bincount((t * n + made).ravel(), minlength=n * n).reshape(n, n).diagonal()[1:]
    area_t = np.bincount(t.ravel(), minlength=n)[1:]
    area_m = np.bincount(made.ravel(), minlength=n)[1:]
    return inter / np.maximum(area_t + area_m - inter, 1)


def run(dataset: str, split_name: str = "train") -> list[dict]:
    ds = get_dataset(dataset)
    split = get_split(dataset)
    samples = [ds.load(i) for i in getattr(split, split_name)]
    if any(s.labels is None for s in samples):
        raise ValueError(f"dataset {dataset!r} has no masks to compare with")
    t0 = time.perf_counter()
    threshold = fit_box_threshold(samples, rng=0)
    fit_s = time.perf_counter() - t0
    rows = []
    for maker in MAKERS:
        t0 = time.perf_counter()
        ious, hidden, fallback = [], 0, 0
        for s in samples:
            made = box_label_image(sample_boxes(s), s.shape, maker=maker, image=s.image, threshold=threshold)
            ious.append(per_object_iou(s.labels, made.labels))
            hidden += made.n_hidden
            fallback += made.n_fallback
        iou = np.concatenate(ious)
        rows.append({
            "dataset": dataset, "split": split_name, "maker": maker, "n_images": len(samples),
            "n_objects": int(iou.size), "mean_iou": round(float(iou.mean()), 4),
            "median_iou": round(float(np.median(iou)), 4),
            "frac_iou_ge_0.5": round(float((iou >= 0.5).mean()), 4),
            "n_hidden": hidden, "n_fallback": fallback,
            "threshold_plane": threshold.plane if maker == "threshold" else "",
            "threshold_j": threshold.youden_j if maker == "threshold" else "",
            "seconds": round(time.perf_counter() - t0 + (fit_s if maker == "threshold" else 0.0), 2),
        })
        print(rows[-1], flush=True)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=["synth-cells"])
    ap.add_argument("--split", default="train", choices=("train", "val", "test"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rows = [r for d in args.datasets for r in run(d, args.split)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
