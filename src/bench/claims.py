"""Verdicts on the papers' claims "method A scores higher than method B", across seeds and images.

The rule (:data:`VERDICT_RULE`, stated once, here): the score is each test image's
F1 at IoU 0.5 (the benchmark's primary score). The difference is
``mean(A) - mean(B)``, each method's scores averaged over its seeds and the test
images both methods were scored on. Its 95 % interval comes from a two-level
bootstrap: each resample redraws the test images with replacement (the same
images for A and B: the comparison is paired) and, independently for each
method, its seeds with replacement. Then

* interval entirely above 0 -> ``"reproduces"``;
* entirely below 0 -> ``"does not reproduce"``;
* containing 0 -> ``"not distinguishable at this budget"``.

With one seed per method the seed level adds no spread, and the verdict says so
(``n_seeds``).

>>> import pandas as pd
>>> rows = [{"method_id": m, "seed": s, "image": f"i{i}", "score": v + 0.01 * s}
...         for m, v in (("a", 0.9), ("b", 0.5)) for s in range(3) for i in range(8)]
>>> claim_verdict(pd.DataFrame(rows), better="a", worse="b").verdict
'reproduces'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from .aggregate import match_scores

__all__ = ["VERDICTS", "VERDICT_RULE", "ClaimVerdict", "claim_verdict", "per_image_scores"]

#: The three verdicts, in the order of the rule.
VERDICTS = ("reproduces", "does not reproduce", "not distinguishable at this budget")

VERDICT_RULE = (
    "per test image, F1 at IoU 0.5; difference = mean(paper's better method) - mean(paper's worse method), "
    "each averaged over its seeds and the test images both were scored on; 95% interval from 2000 bootstrap "
    "resamples that redraw the test images (the same for both methods: paired) and, for each method "
    "independently, its seeds; interval above 0: reproduces; below 0: does not reproduce; containing 0: "
    "not distinguishable at this budget"
)


@dataclass(frozen=True)
class ClaimVerdict:
    """The verdict on "`better` scores higher than `worse`" (see :data:`VERDICT_RULE`).

    Attributes
    ----------
    better, worse : str
        Method ids, in the paper's order.
    verdict : str
        One of :data:`VERDICTS`.
    diff, low, high : float
        Mean difference and its 95 % bootstrap interval.
    n_images : int
        Test images both methods were scored on.
    n_seeds : tuple of int
        Seeds of `better` and of `worse`.
    seed_means : dict
        ``{method_id: [mean score of each seed]}``: the spread across seeds.
    """

    better: str
    worse: str
    verdict: str
    diff: float
    low: float
    high: float
    n_images: int
    n_seeds: tuple[int, int]
    seed_means: dict


def per_image_scores(instance_rows: pd.DataFrame) -> pd.DataFrame:
    """Per (method_id, seed, image) F1 at IoU 0.5 from ``instance`` (or ``detection``) table rows.

    Returns a DataFrame with columns ``dataset, method_id, seed, image, score``.
    """
    cols = ["dataset", "method_id", "seed", "image", "score"]
    if not len(instance_rows):
        return pd.DataFrame({c: [] for c in cols})
    m = match_scores(instance_rows, threshold=0.5, by=("dataset", "method_id", "seed", "image"))
    return m.rename(columns={"f1": "score"})[cols]


def claim_verdict(scores: pd.DataFrame, *, better: str, worse: str, n_boot: int = 2000, rng=0) -> ClaimVerdict:
    """Decide whether `better` scores higher than `worse` (see :data:`VERDICT_RULE`).

    Parameters
    ----------
    scores : DataFrame
        Columns ``method_id``, ``seed``, ``image``, ``score`` (one dataset).
    better, worse : str
        The method the paper found better, and the one it found worse.
    n_boot : int, optional
        Bootstrap resamples.
    rng : None, int or numpy Generator
        Seeds the bootstrap.

    Raises
    ------
    ValueError
        If a column is missing, or the two methods share no scored image.
    """
    missing = [c for c in ("method_id", "seed", "image", "score") if c not in scores.columns]
    if missing:
        raise ValueError(f"`scores` lacks column(s) {missing}; columns: {list(scores.columns)}")
    if n_boot < 1:
        raise ValueError(f"`n_boot` must be >= 1, got {n_boot}")
    tables = {}
    for m in (better, worse):
        sub = scores[scores["method_id"] == m]
        tables[m] = sub.pivot_table(index="seed", columns="image", values="score", aggfunc="mean")
    images = sorted(set(tables[better].columns) & set(tables[worse].columns))
    if not images:
        raise ValueError(f"`scores` has no test image scored for both {better!r} and {worse!r}")
    a = tables[better][images].to_numpy(float)  # (seeds, images)
    b = tables[worse][images].to_numpy(float)
    diff = float(np.nanmean(a) - np.nanmean(b))
    gen = np.random.default_rng(rng)
    n_img = len(images)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        idx = gen.integers(0, n_img, n_img)
        sa = gen.integers(0, a.shape[0], a.shape[0])
        sb = gen.integers(0, b.shape[0], b.shape[0])
        boots[k] = np.nanmean(a[np.ix_(sa, idx)]) - np.nanmean(b[np.ix_(sb, idx)])
    low, high = (float(v) for v in np.percentile(boots, [2.5, 97.5]))
    if low > 0:
        verdict = VERDICTS[0]
    elif high < 0:
        verdict = VERDICTS[1]
    else:
        verdict = VERDICTS[2]
    seed_means = {m: [round(float(v), 6) for v in np.nanmean(t[images].to_numpy(float), axis=1)]
                  for m, t in tables.items()}
    return ClaimVerdict(better=better, worse=worse, verdict=verdict, diff=diff, low=low, high=high,
                        n_images=n_img, n_seeds=(a.shape[0], b.shape[0]), seed_means=seed_means)
