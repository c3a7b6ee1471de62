"""Scores from the raw counts of a run: the aggregation behind every leaderboard.

The tables of a run (:mod:`bench.results`) hold raw counts; these helpers turn
them into scores with :mod:`bench.metrics`:

* :func:`match_scores` -- precision, recall, F1, ``ap_dsb``, mean matched IoU and
  panoptic quality at one threshold, pooled (counts summed over images and seeds)
  or per image (ratios averaged);
* :func:`ap_sweep` -- the same at every threshold 0.50:0.05:0.95 and their mean;
* :func:`semantic_scores`, :func:`classification_scores`, :func:`readout_errors`;
* :func:`bootstrap_scores` -- 95 % bootstrap intervals over images;
* :func:`summarize` -- one wide row per (dataset, method), what
  :func:`bench.leaderboard.leaderboard` shows.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import metrics
from .metrics import MatchResult, average_results, classification_metrics, pool_results
from .metrics.semantic import SemanticResult
from .protocol import AP_THRESHOLDS, TABLE_COLUMNS, TABLES
from .results import KEY_COLUMNS, RunResults

__all__ = [
    "GROUP",
    "match_scores",
    "ap_sweep",
    "semantic_scores",
    "classification_scores",
    "readout_errors",
    "bootstrap_scores",
    "summarize",
    "summarize_tables",
]


GROUP = ("dataset", "method_id")


def _groups(df: pd.DataFrame, by: Sequence[str]):
    by = list(by)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise ValueError(f"`by` names column(s) {missing} that the table lacks; columns: {list(df.columns)}")
    if not by:
        yield (), df
        return
    for key, g in df.groupby(by, sort=True, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), g


def _close(a: pd.Series, b: float) -> pd.Series:
    return (a.astype(float) - float(b)).abs() < 1e-9


def _match_result(g: pd.DataFrame, *, criterion: str, threshold: float, aggregate: str):
    per_image = [
        MatchResult.from_counts(
            criterion=criterion,
            threshold=threshold,
            n_true=int(r.n_true),
            n_pred=int(r.n_pred),
            tp=int(r.tp),
            sum_matched_iou=float(r.sum_matched_iou),
        )
        for r in g.itertuples(index=False)
    ]
    return pool_results(per_image) if aggregate == "pooled" else average_results(per_image)


_SCORE_FIELDS = ("precision", "recall", "f1", "ap_dsb", "mean_matched_iou", "panoptic_quality")


def match_scores(
    df: pd.DataFrame,
    *,
    threshold: float = 0.5,
    by: Sequence[str] = GROUP,
    aggregate: str = "pooled",
) -> pd.DataFrame:
    """Scores at one threshold from ``instance`` (or ``detection``) rows.

    Parameters
    ----------
    df : DataFrame
        Rows of the ``instance`` or ``detection`` table.
    threshold : float, optional
        IoU threshold (one of :data:`bench.scoring.THRESHOLDS`).
    by : sequence of str, optional
        Grouping columns; one output row per group.
    aggregate : {"pooled", "per_image"}, optional
        ``pooled``: counts summed over the group's images (and seeds), ratios
        computed once (:func:`bench.metrics.pool_results`); ``per_image``:
        ratios averaged over images (:func:`bench.metrics.average_results`).

    Returns
    -------
    DataFrame
        `by` columns, ``n_images, n_true, n_pred, tp, fp, fn`` and
        ``precision, recall, f1, ap_dsb, mean_matched_iou, panoptic_quality``.
    """
    if aggregate not in ("pooled", "per_image"):
        raise ValueError(f"`aggregate` must be 'pooled' or 'per_image', got {aggregate!r}")
    sel = df[_close(df["threshold"], threshold)] if len(df) else df
    out = []
    for key, g in _groups(sel, by):
        crit = str(g["criterion"].iloc[0])
        r = _match_result(g, criterion=crit, threshold=threshold, aggregate=aggregate)
        row = dict(zip(by, key))
        row.update(n_images=len(g), n_true=r.n_true, n_pred=r.n_pred, tp=r.tp, fp=r.fp, fn=r.fn)
        row.update({k: getattr(r, k) for k in _SCORE_FIELDS})
        out.append(row)
    cols = [*by, "n_images", "n_true", "n_pred", "tp", "fp", "fn", *_SCORE_FIELDS]
    return pd.DataFrame(out, columns=cols)


def ap_sweep(
    df: pd.DataFrame,
    *,
    thresholds: Sequence[float] = AP_THRESHOLDS,
    by: Sequence[str] = GROUP,
    aggregate: str = "pooled",
) -> pd.DataFrame:
    """Scores at every threshold of `thresholds` (long format: one row per group and threshold).

    The mean of ``ap_dsb`` over 0.50:0.05:0.95 is what Cellpose reports as
    "AP" averaged over thresholds; it is *not* COCO AP (no score ranking).
    """
    frames = []
    for t in thresholds:
        s = match_scores(df, threshold=t, by=by, aggregate=aggregate)
        s.insert(len(by), "threshold", float(t))
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def _confusion(g: pd.DataFrame, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (g["true_class"].to_numpy(int), g["pred_class"].to_numpy(int)), g["n_pixels"].to_numpy(np.int64))
    return cm


def semantic_scores(df: pd.DataFrame, *, class_names: Sequence[str] | None = None, by: Sequence[str] = GROUP) -> pd.DataFrame:
    """Per-class pixel scores from ``semantic`` rows (confusion counts pooled over images).

    Returns one row per group and class: ``class_id, class_name, iou, dice,
    precision, recall`` (NaN for a class absent from truth and prediction),
    computed by :class:`bench.metrics.SemanticResult` from the pooled confusion
    matrix.
    """
    cols = [*by, "class_id", "class_name", "iou", "dice", "precision", "recall"]
    out = []
    for key, g in _groups(df, by):
        n = int(max(g["true_class"].max(), g["pred_class"].max())) + 1
        if class_names is not None:
            n = max(n, len(class_names))
        res = SemanticResult(confusion=_confusion(g, n), boundary_counts=np.zeros((n, 4), np.int64),
                             boundary_tolerance=float("nan"), n_images=int(g["image"].nunique()))
        for k in range(n):
            name = class_names[k] if class_names is not None and k < len(class_names) else str(k)
            out.append({**dict(zip(by, key)), "class_id": k, "class_name": name, "iou": float(res.iou[k]),
                        "dice": float(res.dice[k]), "precision": float(res.precision[k]),
                        "recall": float(res.recall[k])})
    return pd.DataFrame(out, columns=cols)


def classification_scores(
    df: pd.DataFrame, *, class_names: Sequence[str] | None = None, by: Sequence[str] = GROUP
) -> pd.DataFrame:
    """Classes of matched objects (IoU >= 0.5): per-class and overall scores.

    One row per group and true class (one-vs-rest
    :func:`bench.metrics.classification_metrics`: ``precision, recall, f1, mcc``,
    ``n_objects`` = true objects of the class, ``accuracy`` = the fraction of them
    given their class, i.e. the class's recall), plus a row ``class_name="all"``
    with ``accuracy`` (fraction of matched objects given their true class) and the
    unweighted mean of the per-class F1 in ``f1``. Objects the method left without
    a class count as wrong (class -1).
    """
    cols = [*by, "class_name", "n_objects", "accuracy", "precision", "recall", "f1", "mcc"]
    out = []
    for key, g in _groups(df, by):
        yt = g["true_class"].to_numpy(int)
        yp = g["pred_class"].to_numpy(int)
        ks = sorted(set(yt.tolist()) | (set(range(len(class_names))) if class_names is not None else set()))
        per = []
        for k in ks:
            r = classification_metrics(yt, yp, positive=k)
            name = class_names[k] if class_names is not None and 0 <= k < len(class_names) else str(k)
            per.append(r)
            out.append({**dict(zip(by, key)), "class_name": name, "n_objects": int(r.tp + r.fn),
                        "accuracy": r.recall, "precision": r.precision, "recall": r.recall, "f1": r.f1, "mcc": r.mcc})
        n = len(yt)
        acc = sum(r.tp for r in per) / n if n else float("nan")
        out.append({**dict(zip(by, key)), "class_name": "all", "n_objects": n, "accuracy": acc,
                    "precision": np.nan, "recall": np.nan,
                    "f1": float(np.mean([r.f1 for r in per])) if per else float("nan"), "mcc": np.nan})
    return pd.DataFrame(out, columns=cols)


def readout_errors(df: pd.DataFrame, *, by: Sequence[str] = GROUP) -> pd.DataFrame:
    """Mean absolute and mean relative error of each readout over images.

    One row per group and readout: ``n_images, true_mean, pred_mean, mae,
    mean_rel_error`` (relative to the true value, images with true 0 left out).
    """
    out = []
    for key, g in _groups(df, [*by, "readout"]):
        t = g["true"].to_numpy(float)
        p = g["pred"].to_numpy(float)
        ok = np.isfinite(t) & np.isfinite(p)
        err = np.abs(p[ok] - t[ok])
        nz = ok & (t != 0)
        out.append(
            {
                **dict(zip([*by, "readout"], key)),
                "n_images": int(ok.sum()),
                "true_mean": float(t[ok].mean()) if ok.any() else float("nan"),
                "pred_mean": float(p[ok].mean()) if ok.any() else float("nan"),
                "mae": float(err.mean()) if ok.any() else float("nan"),
                "mean_rel_error": float(np.mean(np.abs(p[nz] - t[nz]) / np.abs(t[nz]))) if nz.any() else float("nan"),
            }
        )
    return pd.DataFrame(out, columns=[*by, "readout", "n_images", "true_mean", "pred_mean", "mae", "mean_rel_error"])


def bootstrap_scores(
    df: pd.DataFrame,
    *,
    score: str = "f1",
    threshold: float = 0.5,
    by: Sequence[str] = GROUP,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng: int | None = 0,
) -> pd.DataFrame:
    """Bootstrap confidence interval of a pooled score, resampling images.

    Parameters
    ----------
    df : DataFrame
        ``instance`` or ``detection`` rows.
    score : str, optional
        A field of :class:`bench.metrics.MatchResult` (``f1``, ``precision``...).
    threshold : float, optional
        IoU threshold.
    n_resamples, confidence_level, rng
        Passed to :func:`bench.metrics.bootstrap_ci` (images of all seeds are the
        resampling units).

    Returns
    -------
    DataFrame
        `by` columns, ``<score>``, ``<score>_low``, ``<score>_high``.
    """
    if score not in _SCORE_FIELDS:
        raise ValueError(f"`score` must be one of {_SCORE_FIELDS}, got {score!r}")
    sel = df[_close(df["threshold"], threshold)] if len(df) else df
    out = []
    for key, g in _groups(sel, by):
        crit = str(g["criterion"].iloc[0])
        per_image = [
            metrics.MatchResult.from_counts(criterion=crit, threshold=threshold, n_true=int(r.n_true),
                                            n_pred=int(r.n_pred), tp=int(r.tp),
                                            sum_matched_iou=float(r.sum_matched_iou))
            for r in g.itertuples(index=False)
        ]
        ci = metrics.bootstrap_ci(per_image, lambda rs: getattr(metrics.pool_results(list(rs)), score),
                                  n_resamples=n_resamples, confidence_level=confidence_level, rng=rng)
        out.append({**dict(zip(by, key)), score: ci.estimate, f"{score}_low": ci.low, f"{score}_high": ci.high})
    return pd.DataFrame(out, columns=[*by, score, f"{score}_low", f"{score}_high"])


def summarize_tables(tables: Mapping[str, pd.DataFrame], *, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per task (and group) with the headline scores of each table.

    ``task`` is ``instance``/``detection`` (F1, precision, recall, mean matched
    IoU and panoptic quality at IoU 0.5, and ``ap_dsb`` averaged over
    0.50:0.05:0.95, all pooled), ``semantic`` (mean IoU over classes) or
    ``classification`` (accuracy of matched objects).
    """
    rows = []
    for task in ("instance", "detection"):
        df = tables.get(task)
        if df is None or not len(df):
            continue
        s = match_scores(df, threshold=0.5, by=by)
        sweep = ap_sweep(df, by=by).groupby(list(by), sort=True)["ap_dsb"].mean() if by else None
        for _, r in s.iterrows():
            key = tuple(r[c] for c in by)
            ap = (
                float(ap_sweep(df, by=by)["ap_dsb"].mean())
                if not by
                else float(sweep.loc[key if len(key) > 1 else key[0]])
            )
            rows.append({**{c: r[c] for c in by}, "task": task, "n_images": int(r.n_images),
                         "f1@0.5": r.f1, "precision@0.5": r.precision, "recall@0.5": r.recall,
                         "mean_iou@0.5": r.mean_matched_iou, "pq@0.5": r.panoptic_quality,
                         "ap_dsb@[.5:.95]": ap})
    df = tables.get("semantic")
    if df is not None and len(df):
        s = semantic_scores(df, by=by)
        for key, g in _groups(s, by):
            fg = g[g["class_id"] > 0]
            rows.append({**dict(zip(by, key)), "task": "semantic", "n_images": int(tables["semantic"]["image"].nunique()),
                         "miou": float(fg["iou"].mean()) if len(fg) else float("nan")})
    df = tables.get("classification")
    if df is not None and len(df):
        s = classification_scores(df, by=by)
        for _, r in s[s["class_name"] == "all"].iterrows():
            rows.append({**{c: r[c] for c in by}, "task": "classification", "n_objects": int(r.n_objects),
                         "accuracy": r.accuracy})
    return pd.DataFrame(rows)


def summarize(
    run: RunResults,
    *,
    dataset: str | None = None,
    by: Sequence[str] = GROUP,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """One wide row per (dataset, method_id): scores, intervals, costs and status.

    Columns: ``dataset, method_id, method, task, status, reason, n_seeds,
    n_images, f1, f1_low, f1_high, precision, recall, mean_iou, pq, ap_dsb,
    miou, class_accuracy, count_mae, occupancy_mae, fit_s, predict_s_per_image,
    peak_mem_mb, profile, undertrained, notebook_path``. ``undertrained`` is ``""``, or
    the reason (:func:`bench.curves.undertrained`) of the first seed whose learning curve
    fires the rule, with the count of such seeds. Scores are pooled over images and
    seeds at IoU 0.5 (boxes for detection datasets); ``ap_dsb`` is the mean of
    TP/(TP+FP+FN) over IoU 0.50:0.05:0.95; ``f1_low``/``f1_high`` the 95 %
    bootstrap interval over images; ``miou`` the mean IoU of the foreground
    pixel classes (semantic datasets); costs are medians over seeds. ``status``
    is ``ok`` when every seed ran, else the status of the failing cells with a
    count (``failed (1/3)``), ``reason`` the first reason.
    """
    cells = run.cells
    if dataset is not None:
        cells = cells[cells["dataset"] == dataset]
    rows = []
    tables = {k: (v[v["dataset"] == dataset] if dataset is not None and len(v) else v) for k, v in run.rows.items()}
    for key, g in _groups(cells, by):
        row: dict[str, Any] = dict(zip(by, key))
        sel = {k: v[np.logical_and.reduce([v[c] == kv for c, kv in zip(by, key)])] if len(v) else v
               for k, v in tables.items()}
        statuses = g["status"].tolist()
        bad = [s for s in statuses if s != "ok"]
        if not bad:
            status = "ok"
        elif len(set(statuses)) == 1:
            status = statuses[0]
        else:
            worst = max(set(bad), key=bad.count)
            status = f"{worst} ({bad.count(worst)}/{len(statuses)})"
        reasons = [str(r) for r in g["reason"].tolist() if isinstance(r, str) and r]
        row.update(
            method=str(g["method"].iloc[0]),
            status=status,
            reason=reasons[0] if reasons else "",
            n_seeds=int(g["seed"].nunique()),
            profile=",".join(sorted({str(p) for p in g["profile"].dropna()})),
        )
        ok = g[g["status"] == "ok"]
        flags = [u for u in ok["undertrained"].tolist() if isinstance(u, str)] if "undertrained" in ok else []
        hit = [u for u in flags if u]
        # '' (no flag), or the reason of the first flagged seed with the count of flagged seeds
        row["undertrained"] = (hit[0] + (f" ({len(hit)}/{len(flags)} seeds)" if len(flags) > 1 else "")) if hit else ""
        for c in ("fit_s", "predict_s_per_image", "peak_mem_mb"):
            vals = pd.to_numeric(ok[c], errors="coerce").dropna() if len(ok) else pd.Series([], dtype=float)
            row[c] = float(vals.median()) if len(vals) else float("nan")
        nbs = [p for p in ok["notebook_path"].tolist() if p] if len(ok) else []
        row["notebook_path"] = nbs[0] if nbs else None
        task = ""
        for t in ("instance", "detection"):
            df = sel[t]
            if len(df):
                task = t
                m = match_scores(df, threshold=0.5, by=())
                r = m.iloc[0]
                row.update(n_images=int(df[_close(df["threshold"], 0.5)].shape[0]), f1=r.f1, precision=r.precision,
                           recall=r.recall, mean_iou=r.mean_matched_iou, pq=r.panoptic_quality)
                row["ap_dsb"] = float(ap_sweep(df, by=())["ap_dsb"].mean())
                if n_boot:
                    b = bootstrap_scores(df, score="f1", threshold=0.5, by=(), n_resamples=n_boot)
                    row.update(f1_low=float(b["f1_low"].iloc[0]), f1_high=float(b["f1_high"].iloc[0]))
                break
        if len(sel["semantic"]):
            task = task or "semantic"
            s = semantic_scores(sel["semantic"], by=())
            fg = s[s["class_id"] > 0]
            row["miou"] = float(fg["iou"].mean()) if len(fg) else float("nan")
            row["n_images"] = int(sel["semantic"][["seed", "image"]].drop_duplicates().shape[0])
        if len(sel["classification"]):
            c = classification_scores(sel["classification"], by=())
            row["class_accuracy"] = float(c[c["class_name"] == "all"]["accuracy"].iloc[0])
        if len(sel["readouts"]):
            e = readout_errors(sel["readouts"], by=())
            for name, col in (("count", "count_mae"), ("occupancy", "occupancy_mae")):
                v = e[e["readout"] == name]["mae"]
                if len(v):
                    row[col] = float(v.iloc[0])
        row["task"] = task
        rows.append(row)
    cols = [*by, "method", "task", "status", "reason", "n_seeds", "n_images", "f1", "f1_low", "f1_high",
            "precision", "recall", "mean_iou", "pq", "ap_dsb", "miou", "class_accuracy", "count_mae",
            "occupancy_mae", "fit_s", "predict_s_per_image", "peak_mem_mb", "profile", "undertrained", "notebook_path"]
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df.columns:
            df[c] = np.nan if c not in ("task", "status", "reason", "method", "profile", "undertrained") else ""
    return df[cols]

