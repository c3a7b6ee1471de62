"""Images: channel composites, ground truth and TP / FN / FP overlays.

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
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch
from skimage.segmentation import find_boundaries

from ..data.sample import Sample
from ..methods.base import Prediction
from ..metrics import boxes_from_labels, match_boxes, matched_pairs
from ._axes import subplots

__all__ = ["CHANNEL_COLORS", "MATCH_COLORS", "BOX_COLORS", "composite", "show_sample", "match_masks", "overlay",
           "show_truth", "dataset_gallery"]

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
    fig, ax = subplots(ax, figsize=(5, 5))
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
    """Outline every box, as one collection: a field holds hundreds of boxes, and one
    Rectangle patch each took about a second per figure."""
    c = _yolo_corners(boxes, shape) - 0.5  # pixel centres -> pixel edges, as imshow draws them
    y0, x0, y1, x1 = c.T
    outlines = np.stack([np.column_stack(v) for v in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)
    ax.add_collection(PolyCollection(outlines, closed=True, facecolors="none", edgecolors=[color], linewidths=lw))


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
    labels = prediction.labels if isinstance(prediction, Prediction) else np.asarray(prediction)
    if labels.shape != sample.shape:
        raise ValueError(f"`prediction` (shape {labels.shape}) must have the sample's shape {sample.shape}")
    base = composite(sample, colors=colors)
    if sample.labels is None and sample.semantic is not None:
        return _semantic_overlay(sample, labels, base, title=title, class_names=class_names)
    fig, ax = subplots(ax, figsize=(6, 6))
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
        ax.imshow(base, interpolation="nearest")
        true_boxes = np.asarray(sample.boxes, float).copy()
        true_boxes[:, 0] = 0.0
        pred_boxes = boxes_from_labels(labels)
        r = match_boxes(true_boxes, pred_boxes, iou_threshold=iou_threshold)
        _draw_boxes(ax, true_boxes, sample.shape, BOX_COLORS["true"])
        _draw_boxes(ax, pred_boxes, sample.shape, BOX_COLORS["pred"])
        counts = {"tp": r.tp, "fn": r.fn, "fp": r.fp}
    else:
        raise ValueError(f"sample {sample.name!r} has no ground truth (labels, boxes or semantic) to overlay")
    names = {"tp": "true positive", "fn": "false negative (missed)", "fp": "false positive (spurious)"}
    if sample.labels is not None:
        handles = [Patch(color=MATCH_COLORS[k], label=f"{names[k]}: {counts[k]}") for k in ("tp", "fn", "fp")]
    else:  # boxes: colours say truth / prediction, the legend gives the matching counts
        handles = [Patch(color=BOX_COLORS["true"], label=f"true boxes (missed: {counts['fn']})"),
                   Patch(color=BOX_COLORS["pred"], label=f"predicted boxes (spurious: {counts['fp']})"),
                   Patch(color=MATCH_COLORS["tp"], label=f"matched pairs: {counts['tp']}")]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.7)
    ax.set_title(title if title is not None else f"{sample.name} (IoU >= {iou_threshold:g})", fontsize=9)
    ax.set_axis_off()
    return fig


def _semantic_overlay(sample, labels, base, *, title, class_names):
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

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
    handles = [Patch(color=cmap(k % 10)[:3], label=names[k] if k < len(names) else str(k)) for k in range(1, n)]
    axes[2].legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_truth(sample: Sample, *, ax=None, title: str | None = None, colors=None, class_names=None):
    """A sample's composite with its ground truth drawn on it.

    Instance outlines are coloured by class when the sample has classes (legend
    from `class_names`), else white; boxes are drawn as rectangles; semantic
    classes are tinted.
    """
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

    fig, ax = subplots(ax, figsize=(5, 5))
    rgb = composite(sample, colors=colors)
    cmap = plt.get_cmap("tab10")
    handles = []
    if sample.labels is not None:
        thick = max(sample.shape) <= 1024
        if sample.classes:
            for k in sorted(set(sample.classes.values())):
                ids = [i for i, c in sample.classes.items() if c == k]
                mask = np.where(np.isin(sample.labels, ids), sample.labels, 0)
                rgb[find_boundaries(mask, mode="thick" if thick else "inner")] = cmap(k % 10)[:3]
                name = class_names[k] if class_names is not None and k < len(class_names) else f"class {k}"
                handles.append(Patch(color=cmap(k % 10)[:3], label=name))
        else:
            rgb[find_boundaries(sample.labels, mode="thick" if thick else "inner")] = (1.0, 1.0, 1.0)
        ax.imshow(rgb, interpolation="nearest")
    elif sample.semantic is not None:
        tint = np.zeros_like(rgb)
        for k in range(1, int(sample.semantic.max()) + 1):
            tint[sample.semantic == k] = cmap(k % 10)[:3]
            name = class_names[k] if class_names is not None and k < len(class_names) else f"class {k}"
            handles.append(Patch(color=cmap(k % 10)[:3], label=name))
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
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

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

