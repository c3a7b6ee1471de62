"""Measure the classical methods on test splits (a maintainer's script, not imported by the registry).

Each (dataset, method) cell runs in a fresh subprocess so that its peak resident
memory is its own::

    python benchmark/perf/classical_measure.py --datasets synth-lyso nih3t3 --methods hough

prints one markdown row per cell: F1 at IoU 0.5 (pooled over the test split; box
IoU for detection datasets), mean matched IoU, per-object class accuracy on
matched objects (where the dataset has classes), fit and predict times (wall and
CPU seconds; prediction includes ``predict_classes``), peak memory allocated by
a fit and by the prediction of one test image (tracemalloc, numpy and Python
allocations, in separate untimed runs; data loading excluded), the process's
peak RSS (data loading included), and the tuned parameters. ``--field2048`` adds the time to
predict one 2048x2048 synthetic lysosome field (objects at full resolution, so no
downscaling) with the method fitted on synth-lyso.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

CLASSICAL = ("isodata_watershed", "auto_threshold", "random_forest", "svm", "hough", "log_spots")
DATASETS = ("synth-lyso", "synth-cells", "synth-cells-puncta", "nih3t3", "gowt1", "cellular-boxes")


def _cell(dataset: str, method: str, seed: int, field2048: bool) -> dict:
    from bench.data import get_dataset
    from bench.methods import get_method
    from bench.metrics import boxes_from_labels, match_boxes, match_instances, matched_pairs
    from bench.splits import load_fit_data, load_test_images, load_test_truth

    info = get_dataset(dataset).info
    m = get_method(method)
    reason = m.skip(info)
    if reason:
        return {"dataset": dataset, "method": method, "skip": reason}
    train, val = load_fit_data(dataset)
    w0, c0 = time.perf_counter(), time.process_time()
    m.fit(train, val, rng=seed)
    fit_wall, fit_cpu = time.perf_counter() - w0, time.process_time() - c0
    # memory in a second, traced fit (tracemalloc slows Python code: not timed)
    tracemalloc.start()
    get_method(method).fit(train, val, rng=seed)
    fit_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del train, val
    images = load_test_images(dataset)
    truths = load_test_truth(dataset)
    tp = nt = npred = 0
    siou = 0.0
    pw = pc = 0.0
    ok = n_cls = 0
    m.predict(images[0].image)  # warm-up (imports, caches), not timed
    for x, y in zip(images, truths):
        w0, c0 = time.perf_counter(), time.process_time()
        labels = m.predict(x.image)
        classes = m.predict_classes(x.image, labels)
        pw += time.perf_counter() - w0
        pc += time.process_time() - c0
        if y.labels is not None:
            r = match_instances(y_true=y.labels, y_pred=labels)
            if classes is not None and y.classes:
                t_ids, p_ids, _ = matched_pairs(y_true=y.labels, y_pred=labels)
                ok += sum(int(classes[int(j)] == y.classes[int(i)]) for i, j in zip(t_ids, p_ids))
                n_cls += t_ids.size
        else:
            r = match_boxes(true_boxes=y.boxes, pred_boxes=boxes_from_labels(labels))
        tp, nt, npred = tp + r.tp, nt + r.n_true, npred + r.n_pred
        siou += r.sum_matched_iou
    tracemalloc.start()
    labels = m.predict(images[0].image)
    m.predict_classes(images[0].image, labels)
    predict_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    row = {
        "dataset": dataset,
        "method": method,
        "f1": 2 * tp / max(nt + npred, 1),
        "mean_iou": siou / tp if tp else 0.0,
        "class_acc": ok / n_cls if n_cls else None,
        "n_true": nt,
        "n_pred": npred,
        "fit_wall": fit_wall,
        "fit_cpu": fit_cpu,
        "predict_wall": pw / len(images),
        "predict_cpu": pc / len(images),
        "fit_peak_mib": fit_peak,
        "predict_peak_mib": predict_peak,
        "channel": m.state.get("channel"),
        "factor": m.factor,
        "tuned": {k: v for k, v in m.tuned.items() if k not in ("radii", "sigmas")},
    }
    if field2048 and dataset == "synth-lyso":
        from bench.data.synthetic import make_lyso

        big = make_lyso(10_000, shape=(2048, 2048))
        m.predict(big.image[:256, :256])  # warm-up
        w0, c0 = time.perf_counter(), time.process_time()
        m.predict(big.image)
        row["field2048_wall"] = time.perf_counter() - w0
        row["field2048_cpu"] = time.process_time() - c0
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--methods", nargs="+", default=list(CLASSICAL))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--field2048", action="store_true")
    ap.add_argument("--cell", nargs=2, metavar=("DATASET", "METHOD"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.cell:
        sys.stdout.write(json.dumps(_cell(a.cell[0], a.cell[1], a.seed, a.field2048)) + "\n")
        return
    sys.stdout.write(
        "| dataset | method | F1@0.5 | mean IoU | class acc | fit s wall (cpu) | predict s/img wall (cpu) "
        "| peak MiB fit / predict | peak RSS MiB | 2048² field s wall (cpu) | channel, scale, tuned |\n|"
        + "---|" * 11 + "\n"
    )
    for ds in a.datasets:
        for meth in a.methods:
            cmd = [sys.executable, __file__, "--cell", ds, meth, "--seed", str(a.seed)]
            if a.field2048:
                cmd.append("--field2048")
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                sys.stdout.write(f"| {ds} | {meth} | error: {out.stderr.strip().splitlines()[-1:]} |\n")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if "skip" in r:
                sys.stdout.write(f"| {ds} | {meth} | skipped: {r['skip']} |\n")
                continue
            ca = "-" if r["class_acc"] is None else f"{r['class_acc']:.3f}"
            big = f"{r['field2048_wall']:.2f} ({r['field2048_cpu']:.2f})" if "field2048_wall" in r else "-"
            sys.stdout.write(
                f"| {ds} | {meth} | {r['f1']:.3f} | {r['mean_iou']:.3f} | {ca} | {r['fit_wall']:.1f} ({r['fit_cpu']:.1f}) "
                f"| {r['predict_wall']:.2f} ({r['predict_cpu']:.2f}) | {r['fit_peak_mib']:.0f} / {r['predict_peak_mib']:.0f} "
                f"| {r['peak_rss_mib']:.0f} | {big} "
                f"| {r['channel']}, 1/{r['factor']}, {r['tuned']} |\n"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
