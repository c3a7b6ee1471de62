"""Does a method trained on 8-bit images still find objects in the same images re-encoded?

The case from issue 13: ``unet_mdl`` trained on NIH3T3 nuclei (8-bit) and applied to
nuclei stored as 16-bit with an offset of about 33,000 found 0 of 859 objects, because
its normalisation was computed once from the training images. Here the NIH3T3 test
images themselves are re-encoded: their 8-bit values ``x`` stored as
``uint16(scale * x + offset)`` (default scale 4, offset 33,000) and read back the way
the loaders read a 16-bit file (:func:`bench.data.io.to_float_image`, ``/ 65535``), so
the objects are exactly those of the 8-bit originals and any difference comes from the
encoding alone::

    python benchmark/perf/bitdepth_shift.py --profile ci
    python benchmark/perf/bitdepth_shift.py --methods "unet_mdl[normalize=dataset]" unet_mdl random_forest

prints one markdown row per method: the test split's true objects, the objects found
and F1 at IoU 0.5 (pooled) on the original and on the re-encoded images, fit time.
Each method is fitted once, on the original training / validation split.
"""

from __future__ import annotations

import argparse
import time
import warnings


def _score(method, samples, truth, encode) -> tuple[int, float]:
    import numpy as np

    from bench.metrics import match_instances

    tp = n_true = n_pred = 0
    found = 0
    for s, t in zip(samples, truth):
        pred = method.predict(encode(s.image))
        r = match_instances(y_true=t.labels, y_pred=pred, iou_threshold=0.5)
        tp, n_true, n_pred = tp + r.tp, n_true + r.n_true, n_pred + r.n_pred
        found += int(np.unique(pred[pred > 0]).size)
    f1 = 1.0 if n_true + n_pred == 0 else 2 * tp / (n_true + n_pred)
    return found, f1


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="nih3t3")
    ap.add_argument("--methods", nargs="+", default=["unet_mdl[normalize=dataset]", "unet_mdl", "random_forest"])
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--scale", type=float, default=4.0)
    ap.add_argument("--offset", type=float, default=33000.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import numpy as np

    from bench.data.io import to_float_image
    from bench.runner.experiment import make_method
    from bench.splits import load_fit_data, load_test_images, load_test_truth

    def original(x):
        return x

    def reencoded(x):  # x: the loader's float image of an 8-bit file (x8 / 255)
        x8 = np.rint(np.asarray(x, np.float64) * 255)
        return to_float_image(np.clip(np.rint(a.scale * x8 + a.offset), 0, 65535).astype(np.uint16))

    train, val = load_fit_data(a.dataset)
    test, truth = load_test_images(a.dataset), load_test_truth(a.dataset)
    n_true = sum(int(np.unique(t.labels[t.labels > 0]).size) for t in truth)
    print(f"{a.dataset}: {len(train)} train / {len(val)} val / {len(test)} test images, {n_true} true objects; "
          f"re-encoded as uint16({a.scale:g} * x + {a.offset:g}); profile {a.profile}")
    print("| method | found (original) | F1 (original) | found (re-encoded) | F1 (re-encoded) | warnings | fit s |")
    print("|---|---|---|---|---|---|---|")
    for mid in a.methods:
        m = make_method(mid, profile=a.profile)
        t0 = time.perf_counter()
        m.fit(train, val, rng=a.seed)
        fit_s = time.perf_counter() - t0
        n0, f0 = _score(m, test, truth, original)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            n1, f1 = _score(m, test, truth, reencoded)
        print(f"| `{mid}` | {n0} | {f0:.3f} | {n1} | {f1:.3f} | {len(caught)} | {fit_s:.0f} |", flush=True)


if __name__ == "__main__":
    main()
