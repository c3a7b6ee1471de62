"""How far a leaderboard's order can be trusted: rank uncertainty and significance per dataset.

For one dataset of a run, :func:`rank_uncertainty` resamples the test images
(the same images for every method), recomputes each method's leaderboard score
exactly as :func:`bench.leaderboard.leaderboard` does (F1 at IoU 0.5 pooled over
images and seeds; mean foreground IoU of the pooled confusion matrix for semantic
datasets), re-ranks, and tests every ordered pair of methods on their paired
per-image scores (one-sided Wilcoxon signed-rank, Holm-corrected):
:func:`bench.metrics.rank_bootstrap` and :func:`bench.metrics.significance_map`.

>>> from bench.ranking import rank_uncertainty            # doctest: +SKIP
>>> ru = rank_uncertainty(load_run(), "synth-lyso")       # doctest: +SKIP
>>> ru.intervals()                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .metrics import RankBootstrap, SignificanceMap, rank_bootstrap, significance_map
from .results import RunResults
from .aggregate import _close

__all__ = ["RankUncertainty", "rank_uncertainty"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class RankUncertainty:
    """Rank distributions and pairwise significance of the methods on one dataset.

    Attributes
    ----------
    dataset : str
    score : str
        The leaderboard score that was resampled (``"f1"`` or ``"miou"``).
    bootstrap : RankBootstrap
    significance : SignificanceMap
    images : tuple of str
        The test images shared by every ranked method (the resampling units).
    excluded : dict of str to str
        Methods of the dataset left out of the ranking, with why.
    """

    dataset: str
    score: str
    bootstrap: RankBootstrap
    significance: SignificanceMap
    images: tuple[str, ...]
    excluded: Mapping[str, str] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        return self.bootstrap.methods

    def intervals(self) -> pd.DataFrame:
        """One row per method, best first: ``method_id, score, rank, median_rank,
        rank_low, rank_high, p_first, n_better_than`` (methods it is significantly
        better than)."""
        b = self.bootstrap
        low, high = b.rank_interval
        sig = self.significance.significant
        df = pd.DataFrame({
            "method_id": list(b.methods), "score": b.scores, "rank": b.ranks, "median_rank": b.median_rank,
            "rank_low": low, "rank_high": high, "p_first": b.p_first(), "n_better_than": sig.sum(axis=1),
        })
        return df.sort_values(["rank", "median_rank", "method_id"], kind="mergesort").reset_index(drop=True)

    def frequencies(self) -> pd.DataFrame:
        """Long table ``method_id, rank, frequency`` (fraction of resamples), zero rows dropped."""
        f = self.bootstrap.frequencies
        rows = [{"method_id": m, "rank": r + 1, "frequency": float(f[i, r])}
                for i, m in enumerate(self.methods) for r in range(f.shape[1]) if f[i, r] > 0]
        return pd.DataFrame(rows, columns=["method_id", "rank", "frequency"])

    def pairs(self) -> pd.DataFrame:
        """Long table of the ordered pairs: ``method_id, other, p_value, p_holm, significant``
        (``method_id`` significantly better than ``other``)."""
        s = self.significance
        rows = [{"method_id": a, "other": b, "p_value": float(s.pvalues[i, j]), "p_holm": float(s.adjusted[i, j]),
                 "significant": bool(s.significant[i, j])}
                for i, a in enumerate(s.methods) for j, b in enumerate(s.methods) if i != j]
        return pd.DataFrame(rows, columns=["method_id", "other", "p_value", "p_holm", "significant"])


def _ok_methods(run: RunResults, dataset: str) -> tuple[list[str], dict[str, str]]:
    cells = run.cells[run.cells["dataset"] == dataset]
    ok, excluded = [], {}
    for mid, g in cells.groupby("method_id", sort=True):
        if (g["status"] == "ok").all():
            ok.append(str(mid))
        else:
            excluded[str(mid)] = "not every seed ran: " + ", ".join(sorted(set(g["status"]) - {"ok"}))
    return ok, excluded


def _match_items(df: pd.DataFrame, methods: list[str]) -> dict[str, dict[str, np.ndarray]]:
    sel = df[_close(df["threshold"], 0.5)]
    out: dict[str, dict[str, np.ndarray]] = {}
    for (mid, image), g in sel.groupby(["method_id", "image"], sort=True):
        if mid in methods:
            out.setdefault(str(mid), {})[str(image)] = g[["n_true", "n_pred", "tp"]].to_numpy(np.int64).sum(axis=0)
    return out


def _pooled_f1(counts: np.ndarray) -> float:
    n_true, n_pred, tp = np.asarray(counts).reshape(-1, 3).sum(axis=0)
    if n_true + n_pred == 0:
        return 1.0  # nothing to find, nothing predicted: the metrics' empty convention
    return float(2 * tp / (n_true + n_pred))


def _semantic_items(df: pd.DataFrame, methods: list[str]) -> dict[str, dict[str, np.ndarray]]:
    k = int(max(df["true_class"].max(), df["pred_class"].max())) + 1
    out: dict[str, dict[str, np.ndarray]] = {}
    for (mid, image), g in df.groupby(["method_id", "image"], sort=True):
        if mid in methods:
            cm = np.zeros((k, k), np.int64)
            np.add.at(cm, (g["true_class"].to_numpy(int), g["pred_class"].to_numpy(int)), g["n_pixels"].to_numpy(np.int64))
            out.setdefault(str(mid), {})[str(image)] = cm
    return out


def _mean_fg_iou(cms: np.ndarray) -> float:
    cm = np.asarray(cms).reshape(-1, *np.asarray(cms).shape[-2:]).sum(axis=0)
    tp = np.diag(cm).astype(float)
    den = cm.sum(axis=0) + cm.sum(axis=1) - tp
    iou = np.where(den > 0, tp / np.where(den > 0, den, 1), np.nan)[1:]
    return float(np.nanmean(iou)) if np.any(np.isfinite(iou)) else float("nan")


def rank_uncertainty(
    run: RunResults,
    dataset: str,
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    alpha: float = 0.05,
    rng=0,
) -> RankUncertainty | None:
    """Bootstrap rank distribution and significance map of the methods on `dataset`.

    Parameters
    ----------
    run : RunResults
    dataset : str
    n_resamples, confidence_level, rng
        Passed to :func:`bench.metrics.rank_bootstrap`.
    alpha : float, optional
        Family-wise level of :func:`bench.metrics.significance_map`.

    Returns
    -------
    RankUncertainty or None
        None when fewer than two methods were scored on the same images.

    Notes
    -----
    Only methods whose every seed ran are ranked (the others are in
    ``excluded``), on the test images all of them were scored on. A method's
    item for an image pools that image over its seeds; the per-image score of the
    paired tests is F1 at 0.5 (or mean foreground IoU) of that pooled item.
    """
    if not isinstance(run, RunResults):
        raise TypeError(f"`run` must be a RunResults (bench.results.load_run), got {type(run).__name__}")
    methods, excluded = _ok_methods(run, dataset)
    items: dict[str, dict[str, np.ndarray]] = {}
    stat = None
    score = ""
    for task in ("instance", "detection"):
        df = run.rows[task]
        df = df[df["dataset"] == dataset] if len(df) else df
        if len(df):
            items, stat, score = _match_items(df, methods), _pooled_f1, "f1"
            break
    if not items:
        df = run.rows["semantic"]
        df = df[df["dataset"] == dataset] if len(df) else df
        if len(df):
            items, stat, score = _semantic_items(df, methods), _mean_fg_iou, "miou"
    for m in methods:
        if m not in items:
            excluded[m] = "no scored rows"
    ranked = [m for m in methods if m in items]
    if len(ranked) < 2:
        return None
    shared = sorted(set.intersection(*(set(items[m]) for m in ranked)))
    for m in list(ranked):
        missing = set(items[m]) ^ set(shared)
        if missing and len(shared) < len(items[m]):
            logger.info("%s: %s scored on %d images outside the shared %d", dataset, m, len(missing), len(shared))
    if not shared:
        return None
    per = {m: np.stack([items[m][im] for im in shared]) for m in ranked}
    boot = rank_bootstrap(per, stat, n_resamples=n_resamples, confidence_level=confidence_level, rng=rng)
    per_image_scores = {m: [stat(per[m][i]) for i in range(len(shared))] for m in ranked}
    sig = significance_map(per_image_scores, alpha=alpha)
    return RankUncertainty(dataset=dataset, score=score, bootstrap=boot, significance=sig, images=tuple(shared),
                           excluded=excluded)
