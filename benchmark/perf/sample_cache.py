"""What a cell spends loading its data, without and with the run's sample cache.

    python benchmark/perf/sample_cache.py [DATASET ...] [--repeat 2]

A cell loads its dataset as ``bench.runner.Experiment`` does: the training and validation
samples, the test images, then the test truth for scoring. Without the cache (a notebook
run by hand) every cell generates or decodes them again, the test split twice; with the
cache (:mod:`bench.data.sample_cache`, set by ``bench run``) only the first cell of a run
does. Prints, per dataset, the first cell's time (the cache is filled), a later cell's, and
the time with no cache, each the best of ``--repeat``, and their ratio, measured in one
process, so the ratio holds on a busy machine too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

DEFAULT = ["synth-lyso", "synth-cells", "synth-cells-puncta", "synth-rosella", "nih3t3", "cellular-boxes"]


def cell_load(dataset: str) -> float:
    from bench.splits import load_fit_data, load_test_images, load_test_truth

    t = time.perf_counter()
    load_fit_data(dataset)
    load_test_images(dataset)
    load_test_truth(dataset)
    return time.perf_counter() - t


def main(argv=None) -> None:
    from bench.cli import format_table
    from bench.data import get_dataset
    from bench.data.sample_cache import SAMPLE_CACHE_ENV

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("datasets", nargs="*", default=DEFAULT)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    rows = []
    for name in args.datasets:
        if get_dataset(name).unavailable_reason():
            print(f"{name}: not available here, skipped")
            continue
        os.environ.pop(SAMPLE_CACHE_ENV, None)
        cell_load(name)  # imports and first-touch costs out of the way
        plain = min(cell_load(name) for _ in range(args.repeat))
        firsts, laters = [], []
        for _ in range(args.repeat):
            folder = tempfile.mkdtemp(prefix="bench-samples-")
            os.environ[SAMPLE_CACHE_ENV] = folder
            try:
                firsts.append(cell_load(name))
                laters.append(cell_load(name))
            finally:
                os.environ.pop(SAMPLE_CACHE_ENV, None)
                shutil.rmtree(folder, ignore_errors=True)
        rows.append({"dataset": name, "no cache s": f"{plain:.2f}", "first cell s": f"{min(firsts):.2f}",
                     "later cells s": f"{min(laters):.2f}", "later / no cache": f"{min(laters) / plain:.2f}"})
    print(format_table(rows, ["dataset", "no cache s", "first cell s", "later cells s", "later / no cache"]))


if __name__ == "__main__":
    main()
