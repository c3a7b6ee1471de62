"""Figures: composites, TP/FN/FP overlays, score distributions, Pareto and per-class plots.

Every function returns a :class:`matplotlib.figure.Figure` (or draws on the
``ax`` it is given) and never calls ``plt.show()``; figures are made with
:mod:`matplotlib.pyplot` so notebooks display them inline, and work headless
(Agg) in scripts and tests. Close them with ``plt.close(fig)`` in loops.

Colours follow what biologists expect: red-type channels (mRFP, DsRed, cargo,
``red``) in red, green-type channels (EGFP, LAMP1, ``green``) in green, transmitted
light and single channels in grey. In overlays, outlines mark **true
positives in cyan**, **false negatives (missed true objects) in magenta** and
**false positives (spurious predictions) in yellow** (:data:`MATCH_COLORS`),
as in LysoQuant's Fig. 1 comparison of correct, missed and spurious organelles.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .data.sample import Sample
from .methods.base import Prediction

__all__ = [
    "CHANNEL_COLORS",
    "MATCH_COLORS",
    "composite",
    "show_sample",
    "match_masks",
    "overlay",
    "score_distribution",
    "threshold_curve",
    "pareto",
    "per_class_bars",
    "show_truth",
    "dataset_gallery",
    "error_by_size",
]

_RED, _GREEN, _BLUE, _GREY = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.4, 1.0), (1.0, 1.0, 1.0)
#: Display colour of each known channel name (others: grey if alone, else a palette).
CHANNEL_COLORS: dict[str, tuple[float, float, float]] = {
    "red": _RED, "rfp": _RED, "mrfp": _RED, "dsred": _RED, "mcherry": _RED, "cargo": _RED,
    "green": _GREEN, "gfp": _GREEN, "egfp": _GREEN, "lamp1": _GREEN,
    "blue": _BLUE, "hoechst": _GREY, "dapi": _GREY, "transmitted": _GREY, "brightfield": _GREY,
}
#: Outline colours of matched (tp), missed (fn) and spurious (fp) objects.
MATCH_COLORS: dict[str, tuple[float, float, float]] = {
    "tp": (0.0, 1.0, 1.0),  # cyan
    "fn": (1.0, 0.0, 1.0),  # magenta
    "fp": (1.0, 0.9, 0.0),  # yellow
}
#: Box colours for detection datasets (truth, prediction).
BOX_COLORS: dict[str, tuple[float, float, float]] = {"true": (1.0, 0.0, 1.0), "pred": (1.0, 0.9, 0.0)}
_PALETTE = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.4, 1.0), (1.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0)]


def _subplots(ax=None, **kw):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(**kw)


def _normalise(plane: np.ndarray, low: float = 1.0, high: float = 99.8) -> np.ndarray:
    lo, hi = np.percentile(plane, [low, high])
    if hi <= lo:
        hi = lo + 1e-6
    return np.clip((plane - lo) / (hi - lo), 0.0, 1.0)


def composite(
    image: np.ndarray | Sample,
    channels: Sequence[str] | None = None,
    *,
    colors: Mapping[str, tuple[float, float, float]] | None = None,
    grey_weight: float = 0.5,
) -> np.ndarray:
    """An RGB composite of a multi-channel image, channels coloured as biologists expect.

    Parameters
    ----------
    image : (Y, X, C) ndarray or Sample
        Intensities (a Sample brings its channel names).
    channels : sequence of str, optional
        Channel names (default: the sample's, else ``ch0, ch1...``).
    colors : dict, optional
        Overrides of :data:`CHANNEL_COLORS` (name -> RGB in [0, 1]).
    grey_weight : float, optional
        Weight of grey channels (transmitted light) when mixed with colour ones.

    Returns
    -------
    (Y, X, 3) ndarray of float
        In [0, 1]. Each channel is scaled to its 1st-99.8th percentile.
        A merged RGB image (channels ``red, green, blue``) is shown as is.

    Examples
    --------
    >>> rgb = composite(np.ones((4, 4, 2), np.float32), ["rfp", "gfp"])
    >>> rgb.shape
    (4, 4, 3)
    """
    if isinstance(image, Sample):
        channels = image.channels if channels is None else channels
        image = image.image
    if not isinstance(image, np.ndarray) or image.ndim != 3:
        raise ValueError(f"`image` must be a (Y, X, C) array, got shape {getattr(image, 'shape', None)}")
    n = image.shape[2]
    channels = tuple(channels) if channels is not None else tuple(f"ch{i}" for i in range(n))
    if len(channels) != n:
        raise ValueError(f"`channels` has {len(channels)} names for an image with {n} channels")
    lut = {**CHANNEL_COLORS, **(colors or {})}
    names = [c.lower() for c in channels]
    if names == ["red", "green", "blue"] and not colors:
        return np.clip(image / max(float(image.max()), 1e-6), 0, 1).astype(float)
    if n == 1:
        return np.repeat(_normalise(image[..., 0])[..., None], 3, axis=2)
    rgb = np.zeros((*image.shape[:2], 3), dtype=float)
    has_colour = any(lut.get(c, None) not in (None, _GREY) for c in names)
    k = 0
    for i, c in enumerate(names):
        col = lut.get(c)
        if col is None:
            col = _PALETTE[k % len(_PALETTE)]
            k += 1
        w = grey_weight if (col == _GREY and has_colour) else 1.0
        rgb += w * _normalise(image[..., i])[..., None] * np.asarray(col)[None, None, :]
    return np.clip(rgb, 0.0, 1.0)


def show_sample(sample: Sample, *, ax=None, title: str | None = None, colors=None):
    """Show a sample's composite with its channel colours in the title."""
    fig, ax = _subplots(ax, figsize=(5, 5))
    ax.imshow(composite(sample, colors=colors), interpolation="nearest")
    ax.set_title(title if title is not None else f"{sample.name} ({', '.join(sample.channels)})", fontsize=9)
    ax.set_axis_off()
    return fig


def match_masks(
    y_true: np.ndarray, y_pred: np.ndarray, *, iou_threshold: float = 0.5
) -> dict[str, np.ndarray]:
    """Label images of the true positives, false negatives and false positives.

    Returns
    -------
    dict
        ``tp`` (matched true objects), ``fn`` (unmatched true objects) -- both with
        the true labels -- and ``tp_pred`` / ``fp`` with the predicted labels; the
        matching is :func:`bench.metrics.matched_pairs` at `iou_threshold`.
    """
    from .metrics import matched_pairs

    t_ids, p_ids, _ = matched_pairs(y_true=y_true, y_pred=y_pred, iou_threshold=iou_threshold)
    tp_true = np.isin(y_true, t_ids) & (y_true > 0)
    tp_pred = np.isin(y_pred, p_ids) & (y_pred > 0)
    return {
        "tp": np.where(tp_true, y_true, 0),
        "fn": np.where(~tp_true & (y_true > 0), y_true, 0),
        "tp_pred": np.where(tp_pred, y_pred, 0),
        "fp": np.where(~tp_pred & (y_pred > 0), y_pred, 0),
    }


def _outline(rgb: np.ndarray, labels: np.ndarray, color, *, thick: bool) -> None:
    from skimage.segmentation import find_boundaries

    if not labels.any():
        return
    b = find_boundaries(labels, mode="thick" if thick else "inner")
    rgb[b] = color


def _yolo_corners(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """YOLO rows (class, xc, yc, w, h), normalised -> pixel corners (y0, x0, y1, x1)."""
    b = np.asarray(boxes, float).reshape(-1, 5)
    h, w = shape
    x0 = (b[:, 1] - b[:, 3] / 2) * w
    x1 = (b[:, 1] + b[:, 3] / 2) * w
    y0 = (b[:, 2] - b[:, 4] / 2) * h
    y1 = (b[:, 2] + b[:, 4] / 2) * h
    return np.column_stack([y0, x0, y1, x1])


def _draw_boxes(ax, boxes: np.ndarray, shape: tuple[int, int], color, *, lw: float = 1.0) -> None:
    from matplotlib.patches import Rectangle

    for y0, x0, y1, x1 in _yolo_corners(boxes, shape):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=color, lw=lw))


def overlay(
    sample: Sample,
    prediction: Prediction | np.ndarray,
    *,
    iou_threshold: float = 0.5,
    ax=None,
    title: str | None = None,
    colors=None,
    class_names: Sequence[str] | None = None,
):
    """Overlay a prediction on its image: TP / FN / FP in distinct colours.

    * instance truth (``sample.labels``): outlines of matched true objects (cyan),
      missed true objects (magenta) and spurious predictions (yellow);
    * box truth (``sample.boxes``, detection datasets): true boxes (magenta) and
      the predicted objects' boxes (yellow), with the box-matching counts in the
      legend;
    * semantic truth (``sample.semantic``): truth and prediction side by side.

    Parameters
    ----------
    sample : Sample
        With its ground truth.
    prediction : Prediction or (Y, X) ndarray
        The method's output for ``sample.image``.
    iou_threshold : float, optional
        Matching threshold.
    ax : matplotlib Axes, optional
        Draw there (instance / detection only).
    class_names : sequence of str, optional
        Pixel class names of a semantic dataset (legend).

    Returns
    -------
    Figure
    """
    import matplotlib.patches as mpatches

    labels = prediction.labels if isinstance(prediction, Prediction) else np.asarray(prediction)
    if labels.shape != sample.shape:
        raise ValueError(f"`prediction` (shape {labels.shape}) must have the sample's shape {sample.shape}")
    base = composite(sample, colors=colors)
    if sample.labels is None and sample.semantic is not None:
        return _semantic_overlay(sample, labels, base, title=title, class_names=class_names)
    fig, ax = _subplots(ax, figsize=(6, 6))
    counts = {}
    if sample.labels is not None:
        m = match_masks(sample.labels, labels, iou_threshold=iou_threshold)
        rgb = base.copy()
        thick = max(sample.shape) <= 1024
        _outline(rgb, m["tp"], MATCH_COLORS["tp"], thick=thick)
        _outline(rgb, m["fn"], MATCH_COLORS["fn"], thick=thick)
        _outline(rgb, m["fp"], MATCH_COLORS["fp"], thick=thick)
        ax.imshow(rgb, interpolation="nearest")
        counts = {k: int(np.unique(m[k][m[k] > 0]).size) for k in ("tp", "fn", "fp")}
    elif sample.boxes is not None:
        from . import metrics

        ax.imshow(base, interpolation="nearest")
        true_boxes = np.asarray(sample.boxes, float).copy()
        true_boxes[:, 0] = 0.0
        pred_boxes = metrics.boxes_from_labels(labels)
        r = metrics.match_boxes(true_boxes, pred_boxes, iou_threshold=iou_threshold)
        _draw_boxes(ax, true_boxes, sample.shape, BOX_COLORS["true"])
        _draw_boxes(ax, pred_boxes, sample.shape, BOX_COLORS["pred"])
        counts = {"tp": r.tp, "fn": r.fn, "fp": r.fp}
    else:
        raise ValueError(f"sample {sample.name!r} has no ground truth (labels, boxes or semantic) to overlay")
    names = {"tp": "true positive", "fn": "false negative (missed)", "fp": "false positive (spurious)"}
    if sample.labels is not None:
        handles = [mpatches.Patch(color=MATCH_COLORS[k], label=f"{names[k]}: {counts[k]}") for k in ("tp", "fn", "fp")]
    else:  # boxes: colours say truth / prediction, the legend gives the matching counts
        handles = [mpatches.Patch(color=BOX_COLORS["true"], label=f"true boxes (missed: {counts['fn']})"),
                   mpatches.Patch(color=BOX_COLORS["pred"], label=f"predicted boxes (spurious: {counts['fp']})"),
                   mpatches.Patch(color=MATCH_COLORS["tp"], label=f"matched pairs: {counts['tp']}")]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.7)
    ax.set_title(title if title is not None else f"{sample.name} (IoU >= {iou_threshold:g})", fontsize=9)
    ax.set_axis_off()
    return fig


def _semantic_overlay(sample, labels, base, *, title, class_names):
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    n = int(max(sample.semantic.max(), labels.max())) + 1
    names = list(class_names) if class_names is not None else [str(k) for k in range(n)]
    cmap = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    axes[0].imshow(base, interpolation="nearest")
    axes[0].set_title(sample.name, fontsize=9)
    for ax, arr, t in ((axes[1], sample.semantic, "truth"), (axes[2], labels, "prediction")):
        rgb = np.zeros((*arr.shape, 3))
        for k in range(1, n):
            rgb[arr == k] = cmap(k % 10)[:3]
        ax.imshow(0.5 * base + 0.5 * rgb, interpolation="nearest")
        ax.set_title(t, fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    handles = [mpatches.Patch(color=cmap(k % 10)[:3], label=names[k] if k < len(names) else str(k)) for k in range(1, n)]
    axes[2].legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _per_image_scores(rows: pd.DataFrame, *, threshold: float, by: str | None) -> pd.DataFrame:
    from .results import match_scores

    keys = [c for c in (by, "seed", "image") if c and c in rows.columns]
    if "image" not in keys:
        raise ValueError("`rows` must have an `image` column (instance or detection table)")
    return match_scores(rows, threshold=threshold, by=keys)


def score_distribution(
    rows: pd.DataFrame,
    *,
    score: str | None = None,
    threshold: float = 0.5,
    by: str | None = "method_id",
    ax=None,
):
    """Per-image scores as a strip + box plot, one per method.

    Parameters
    ----------
    rows : DataFrame
        Either ``instance`` / ``detection`` rows (with a ``threshold`` column; one
        experiment's or a whole run's), whose per-image scores are computed at
        `threshold`, or per-image scores already (e.g.
        :meth:`bench.runner.Experiment.per_image`).
    score : str, optional
        Column to plot: a :class:`bench.metrics.MatchResult` score (``f1``,
        ``precision``, ``recall``, ``ap_dsb``, ``mean_matched_iou``...) or ``miou``;
        default ``f1`` if present, else ``miou``.
    by : str or None, optional
        One strip per value of this column (``None`` or absent: a single strip).
    """
    per = _per_image_scores(rows, threshold=threshold, by=by) if "threshold" in rows.columns else rows
    if score is None:
        score = "f1" if "f1" in per.columns else "miou"
    if score not in per.columns:
        raise ValueError(f"`score` {score!r} is not a column of the per-image scores: {list(per.columns)}")
    groups = list(per.groupby(by, sort=True)) if by and by in per.columns else [("all", per)]
    fig, ax = _subplots(ax, figsize=(max(4, 0.9 * len(groups) + 2), 3.5))
    rng = np.random.default_rng(0)
    data = [g[score].to_numpy(float) for _, g in groups]
    ax.boxplot(data, widths=0.5, showfliers=False)
    for i, d in enumerate(data, 1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, d.size), d, s=12, alpha=0.7, color="k", zorder=3)
    ax.set_xticks(range(1, len(groups) + 1), [str(k[0] if isinstance(k, tuple) else k) for k, _ in groups],
                  rotation=30, ha="right", fontsize=8)
    what = f" (IoU >= {threshold:g})" if score != "miou" else ""
    ax.set_ylabel(f"{score} per image{what}")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def threshold_curve(
    rows: pd.DataFrame,
    *,
    score: str = "f1",
    by: str | None = "method_id",
    aggregate: str = "pooled",
    ax=None,
):
    """A score (pooled over images) against the IoU threshold, one line per method."""
    from .results import ap_sweep
    from .scoring import THRESHOLDS

    keys = [by] if by and by in rows.columns else []
    sweep = ap_sweep(rows, thresholds=THRESHOLDS, by=keys, aggregate=aggregate)
    fig, ax = _subplots(ax, figsize=(5, 3.5))
    for key, g in (sweep.groupby(keys, sort=True) if keys else [("all", sweep)]):
        key = key[0] if isinstance(key, tuple) else key
        ax.plot(g["threshold"], g[score], marker="o", ms=3, label=str(key))
    ax.set_xlabel("IoU threshold")
    ax.set_ylabel(f"{score} ({aggregate})")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pareto(
    board: pd.DataFrame,
    *,
    x: str = "predict_s_per_image",
    y: str = "score",
    label: str = "method_id",
    ax=None,
    logx: bool = True,
):
    """Accuracy against cost: one point per method, the Pareto front joined.

    Parameters
    ----------
    board : DataFrame
        A leaderboard (:func:`bench.leaderboard.leaderboard`), usually of one
        dataset; rows without a finite `x` and `y` (skipped, failed) are left out.
    x : str, optional
        Cost column (lower is better): ``predict_s_per_image``, ``fit_s``, ``peak_mem_mb``.
    y : str, optional
        Score column (higher is better).
    """
    fig, ax = _subplots(ax, figsize=(5.5, 4))
    d = board[[label, x, y] + (["dataset"] if "dataset" in board.columns else [])].copy()
    d[x] = pd.to_numeric(d[x], errors="coerce")
    d[y] = pd.to_numeric(d[y], errors="coerce")
    d = d[np.isfinite(d[x]) & np.isfinite(d[y]) & ((d[x] > 0) | (not logx))]
    groups = list(d.groupby("dataset", sort=True)) if "dataset" in d.columns else [("", d)]
    for ds, g in groups:
        pts = ax.scatter(g[x], g[y], s=30, label=str(ds) if len(groups) > 1 else None, zorder=3)
        for _, r in g.iterrows():
            ax.annotate(str(r[label]), (r[x], r[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        front = g.sort_values([x, y], ascending=[True, False])
        best, fx, fy = -np.inf, [], []
        for _, r in front.iterrows():
            if r[y] > best:
                best = r[y]
                fx.append(r[x])
                fy.append(r[y])
        ax.step(fx, fy, where="post", color=pts.get_facecolor()[0], alpha=0.6, lw=1)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def per_class_bars(
    df: pd.DataFrame,
    *,
    value: str | None = None,
    by: str = "method_id",
    ax=None,
):
    """Grouped bars of a per-class score: one group per class, one bar per method.

    Parameters
    ----------
    df : DataFrame
        From :func:`bench.results.semantic_scores` (``iou``) or
        :func:`bench.results.classification_scores` (``accuracy``), with a
        ``class_name`` column.
    value : str, optional
        Column to plot (default ``iou`` if present, else ``accuracy``).
    """
    if value is None:
        value = "iou" if "iou" in df.columns else "accuracy"
    if "class_name" not in df.columns or value not in df.columns:
        raise ValueError(f"`df` must have columns `class_name` and `{value}`, got {list(df.columns)}")
    classes = list(dict.fromkeys(df["class_name"]))
    methods = list(dict.fromkeys(df[by])) if by in df.columns else ["all"]
    fig, ax = _subplots(ax, figsize=(max(4, 1.2 * len(classes) * max(1, len(methods)) / 2 + 2), 3.5))
    w = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        sub = df[df[by] == m] if by in df.columns else df
        vals = [float(sub[sub["class_name"] == c][value].mean()) if (sub["class_name"] == c).any() else np.nan
                for c in classes]
        ax.bar(np.arange(len(classes)) + (i - (len(methods) - 1) / 2) * w, vals, width=w, label=str(m))
    ax.set_xticks(range(len(classes)), classes, fontsize=8)
    ax.set_ylabel(value)
    ax.set_ylim(0, 1.02)
    ax.grid(axis="y", alpha=0.3)
    if len(methods) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def show_truth(sample: Sample, *, ax=None, title: str | None = None, colors=None, class_names=None):
    """A sample's composite with its ground truth drawn on it.

    Instance outlines are coloured by class when the sample has classes (legend
    from `class_names`), else white; boxes are drawn as rectangles; semantic
    classes are tinted.
    """
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    fig, ax = _subplots(ax, figsize=(5, 5))
    rgb = composite(sample, colors=colors)
    cmap = plt.get_cmap("tab10")
    handles = []
    if sample.labels is not None:
        from skimage.segmentation import find_boundaries

        thick = max(sample.shape) <= 1024
        if sample.classes:
            for k in sorted(set(sample.classes.values())):
                ids = [i for i, c in sample.classes.items() if c == k]
                mask = np.where(np.isin(sample.labels, ids), sample.labels, 0)
                rgb[find_boundaries(mask, mode="thick" if thick else "inner")] = cmap(k % 10)[:3]
                name = class_names[k] if class_names is not None and k < len(class_names) else f"class {k}"
                handles.append(mpatches.Patch(color=cmap(k % 10)[:3], label=name))
        else:
            rgb[find_boundaries(sample.labels, mode="thick" if thick else "inner")] = (1.0, 1.0, 1.0)
        ax.imshow(rgb, interpolation="nearest")
    elif sample.semantic is not None:
        tint = np.zeros_like(rgb)
        for k in range(1, int(sample.semantic.max()) + 1):
            tint[sample.semantic == k] = cmap(k % 10)[:3]
            name = class_names[k] if class_names is not None and k < len(class_names) else f"class {k}"
            handles.append(mpatches.Patch(color=cmap(k % 10)[:3], label=name))
        ax.imshow(np.where(sample.semantic[..., None] > 0, 0.5 * rgb + 0.5 * tint, rgb), interpolation="nearest")
    else:
        ax.imshow(rgb, interpolation="nearest")
        if sample.boxes is not None:
            _draw_boxes(ax, sample.boxes, sample.shape, (1.0, 1.0, 1.0), lw=0.6)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.7)
    ax.set_title(title if title is not None else f"{sample.name} ({', '.join(sample.channels)})", fontsize=9)
    ax.set_axis_off()
    return fig


def dataset_gallery(samples: Mapping[str, Sample], *, class_names: Mapping[str, Sequence[str]] | None = None,
                    ncols: int = 4):
    """One panel per dataset: an example image with its ground truth (:func:`show_truth`).

    Parameters
    ----------
    samples : dict of str to Sample
        Dataset name -> example sample (e.g. :func:`bench.runner.catalog.examples`).
    class_names : dict, optional
        Dataset name -> class names for the legends.
    """
    import matplotlib.pyplot as plt

    if not samples:
        raise ValueError("`samples` is empty: no dataset to show")
    n = len(samples)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.8 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (name, s) in zip(axes.ravel(), samples.items()):
        names = (class_names or {}).get(name)
        show_truth(s, ax=ax, title=f"{name}\n{s.name}", class_names=names)
    fig.tight_layout()
    return fig


def error_by_size(objects: pd.DataFrame, *, bins: int = 12, ax=None):
    """Fraction of true objects found (recall) and of predictions that are right
    (precision), by object area -- from :func:`bench.scoring.object_table`."""
    fig, ax = _subplots(ax, figsize=(5.5, 3.5))
    if not len(objects):
        raise ValueError("`objects` is empty")
    areas = objects["area"].to_numpy(float)
    edges = np.unique(np.geomspace(max(1.0, areas.min()), areas.max() + 1, bins + 1))
    for side, label in (("true", "recall (true objects found)"), ("pred", "precision (predictions right)")):
        sub = objects[objects["side"] == side]
        if not len(sub):
            continue
        idx = np.clip(np.digitize(sub["area"].to_numpy(float), edges) - 1, 0, len(edges) - 2)
        frac = [sub["matched"].to_numpy()[idx == i].mean() if (idx == i).any() else np.nan
                for i in range(len(edges) - 1)]
        centres = np.sqrt(edges[:-1] * edges[1:])
        ax.plot(centres, frac, marker="o", ms=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("object area (pixels)")
    ax.set_ylabel("fraction matched")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
