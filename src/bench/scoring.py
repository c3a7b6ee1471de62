"""The objective: how predictions are scored against the truth of a split.

This module owns the scoring protocol (benchopt's *objective*): which IoU
thresholds, which tables, which raw counts. Methods never see it; the
metrics themselves live in :mod:`bench.metrics` and are only *called* here.

Scoring produces **tidy tables of raw counts**, one row per image (and per
threshold, class or matched object), so that any aggregation -- pooled over
objects, averaged per image, bootstrapped over images, pooled over seeds --
can be recomputed later without re-running a method (see :mod:`bench.results`).

Tables (columns beyond ``image``, the sample name):

``instance`` -- datasets with the ``instance`` task, one row per image and threshold
    ``threshold, criterion, n_true, n_pred, tp, fp, fn, sum_matched_iou``
    (criterion ``"iou"``, thresholds :data:`THRESHOLDS`).
``detection`` -- datasets with the ``detection`` task (truth = boxes), same columns,
    criterion ``"box_iou"``: predicted instances are turned into their bounding
    boxes (:func:`bench.metrics.boxes_from_labels`) and matched one to one to the
    true boxes (:func:`bench.metrics.match_boxes`), class-agnostic.
``semantic`` -- datasets with the ``semantic`` task, one row per image and
    (true class, predicted class) pair: the pixel confusion matrix
    ``true_class, pred_class, n_pixels`` (all ``K x K`` entries, zeros included).
``classification`` -- datasets with the ``classification`` task and a method that
    classifies: one row per true object matched at IoU >= :data:`CLASSIFICATION_IOU`,
    ``true_label, pred_label, iou, true_class, pred_class`` (class ids index
    ``DatasetInfo.class_names``).
``readouts`` -- biological readouts per image, ``readout, true, pred``
    (:func:`bench.metrics.readouts`): object counts (``count``, ``count:<class>``),
    where the dataset has an ``empty``/``loaded`` class pair (LysoQuant) the
    ``occupancy`` (fraction of organelles loaded with cargo), and the 1-d
    Wasserstein distances between the true and predicted distributions of object
    area (``area_w1``, pixels) and circularity (``circularity_w1``), stored as
    ``true = 0``, ``pred = distance`` so that ``|pred - true|`` is the error of
    every readout.
``pixels`` -- datasets with the ``instance`` or ``semantic`` task, one row per image
    and pixel class: ``class_id, tp, fp, fn, tn`` (one-vs-rest pixel counts) and
    ``bf_pred_matched, bf_pred, bf_true_matched, bf_true, bf_tolerance`` (boundary
    pixels matched within MATLAB ``bfscore``'s default tolerance, 0.75 % of the image
    diagonal): the papers' pixel scores (:mod:`bench.metrics.pixel`,
    :func:`bench.pixel_scores.pixel_scores`). Classes are the dataset's pixel classes
    for a semantic dataset, background (0) and foreground (1, any object) otherwise.
``images`` -- one row per image: ``height, width, n_true, n_pred`` (the caller adds
    ``predict_s``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import metrics
from .data.sample import DatasetInfo, Sample
from .methods.base import Prediction
from .metrics.pixel import bf_tolerance, pixel_counts
from .protocol import AP_THRESHOLDS, CLASSIFICATION_IOU, F1_THRESHOLDS, TABLE_COLUMNS, TABLES, THRESHOLDS
from .aggregate import summarize_tables

__all__ = [
    "THRESHOLDS",
    "AP_THRESHOLDS",
    "F1_THRESHOLDS",
    "CLASSIFICATION_IOU",
    "TABLES",
    "TABLE_COLUMNS",
    "Scores",
    "score_image",
    "score_predictions",
    "tasks_scored",
    "object_table",
]

logger = logging.getLogger(__name__)

def _empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in ("image", *TABLE_COLUMNS[name])})


@dataclass(frozen=True)
class Scores:
    """The tables produced by scoring one method on one split.

    Attributes
    ----------
    tables : dict of str to DataFrame
        One DataFrame per name in :data:`TABLES` (empty when not applicable),
        columns ``image`` + :data:`TABLE_COLUMNS` ``[name]``.
    """

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables are {TABLES}")
        return self.tables.get(name, _empty_table(name))

    def summary(self) -> pd.DataFrame:
        """A one-line-per-task overview (pooled over images), for notebooks.

        See :func:`bench.aggregate.summarize_tables` for the definitions.
        """
        return summarize_tables(self.tables)


def tasks_scored(info: DatasetInfo) -> tuple[str, ...]:
    """Which tables scoring produces for a dataset (``images`` always)."""
    out = []
    if "instance" in info.tasks:
        out.append("instance")
        out.append("readouts")
    if "detection" in info.tasks:
        out.append("detection")
        out.append("readouts")
    if "semantic" in info.tasks:
        out.append("semantic")
    if "semantic" in info.tasks or "instance" in info.tasks:
        out.append("pixels")
    if "classification" in info.tasks:
        out.append("classification")
    out.append("images")
    return tuple(t for t in TABLES if t in out)


def _check_pair(truth: Sample, prediction: Prediction) -> np.ndarray:
    if not isinstance(truth, Sample):
        raise TypeError(f"`truth` must be a Sample, got {type(truth).__name__}")
    if not isinstance(prediction, Prediction):
        raise TypeError(f"`prediction` must be a bench.methods.Prediction, got {type(prediction).__name__}")
    labels = prediction.labels
    if not isinstance(labels, np.ndarray) or labels.shape != truth.shape:
        raise ValueError(
            f"image {truth.name!r}: `prediction.labels` (shape {getattr(labels, 'shape', None)}) "
            f"must have the image's shape {truth.shape}"
        )
    return labels


def _match_rows(results, criterion: str) -> list[dict]:
    return [
        {
            "threshold": float(r.threshold),
            "criterion": criterion,
            "n_true": int(r.n_true),
            "n_pred": int(r.n_pred),
            "tp": int(r.tp),
            "fp": int(r.fp),
            "fn": int(r.fn),
            "sum_matched_iou": float(r.sum_matched_iou),
        }
        for r in results
    ]


def score_image(
    truth: Sample,
    prediction: Prediction,
    *,
    info: DatasetInfo,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict[str, list[dict]]:
    """Score one prediction against one annotated sample.

    Parameters
    ----------
    truth : Sample
        A test (or validation) sample *with* its ground truth.
    prediction : Prediction
        What the method returned for ``truth.image``.
    info : DatasetInfo
        The dataset's card: decides which tables are produced.
    thresholds : sequence of float, optional
        IoU thresholds of the ``instance`` and ``detection`` tables.

    Returns
    -------
    dict of str to list of dict
        Rows of each table in :func:`tasks_scored` ``(info)``, without the
        ``image`` column.
    """
    labels = _check_pair(truth, prediction)
    tables: dict[str, list[dict]] = {t: [] for t in tasks_scored(info)}
    thresholds = [float(t) for t in thresholds]
    n_true = n_pred = 0

    if "instance" in tables:
        if truth.labels is None:
            raise ValueError(f"image {truth.name!r}: dataset {info.name!r} has the instance task but no labels")
        res = metrics.match_instances(y_true=truth.labels, y_pred=labels, iou_threshold=thresholds)
        tables["instance"] = _match_rows(res, "iou")
        n_true, n_pred = res[0].n_true, res[0].n_pred
        tables["readouts"] += _readouts(truth, prediction, info)
        if "classification" in tables:
            tables["classification"] = _classification_rows(truth, prediction)

    if "detection" in tables:
        if truth.boxes is None:
            raise ValueError(f"image {truth.name!r}: dataset {info.name!r} has the detection task but no boxes")
        res = _match_boxes(truth, labels, thresholds)
        tables["detection"] = _match_rows(res, "box_iou")
        n_true, n_pred = res[0].n_true, res[0].n_pred
        if not tables["readouts"]:
            tables["readouts"] = [{"readout": "count", "true": float(n_true), "pred": float(n_pred)}]

    if "semantic" in tables:
        if truth.semantic is None:
            raise ValueError(f"image {truth.name!r}: dataset {info.name!r} has the semantic task but no pixel classes")
        tables["semantic"] = _semantic_rows(truth.semantic, labels, info)
        n_true = int(np.count_nonzero(truth.semantic))
        n_pred = int(np.count_nonzero(labels))

    if "pixels" in tables:
        tables["pixels"] = _pixel_rows(truth, labels, info)

    tables["images"] = [
        {"height": int(truth.shape[0]), "width": int(truth.shape[1]), "n_true": int(n_true), "n_pred": int(n_pred)}
    ]
    return tables


def _match_boxes(truth: Sample, labels: np.ndarray, thresholds: list[float]):
    """Class-agnostic box matching: predicted instances' boxes against the true boxes."""
    true_boxes = np.asarray(truth.boxes, dtype=float).copy()
    true_boxes[:, 0] = 0.0
    pred_boxes = metrics.boxes_from_labels(labels, class_id=0)
    return metrics.match_boxes(true_boxes, pred_boxes, iou_threshold=thresholds)


def _semantic_rows(y_true: np.ndarray, y_pred: np.ndarray, info: DatasetInfo) -> list[dict]:
    n_classes = len(info.semantic_names)
    if y_pred.size and int(y_pred.max()) >= n_classes:
        raise ValueError(
            f"`prediction.labels` holds pixel class {int(y_pred.max())} but dataset {info.name!r} "
            f"has {n_classes} classes {info.semantic_names}"
        )
    cm = metrics.semantic_metrics(y_true=y_true, y_pred=y_pred, n_classes=n_classes).confusion
    return [
        {"true_class": int(i), "pred_class": int(j), "n_pixels": int(cm[i, j])}
        for i in range(n_classes)
        for j in range(n_classes)
    ]


def _pixel_rows(truth: Sample, labels: np.ndarray, info: DatasetInfo) -> list[dict]:
    tol = bf_tolerance(truth.shape[:2])
    if "semantic" in info.tasks:
        c = pixel_counts(truth.semantic, labels, n_classes=len(info.semantic_names), boundary_tolerance=tol)
    else:
        c = pixel_counts(truth.labels, labels, binary=True, boundary_tolerance=tol)
    names = TABLE_COLUMNS["pixels"][1:-1]
    return [
        {"class_id": k, **{n: int(v) for n, v in zip(names, row)}, "bf_tolerance": float(tol)}
        for k, row in enumerate(c.counts[0].tolist())
    ]


def _classification_rows(truth: Sample, prediction: Prediction) -> list[dict]:
    if prediction.classes is None or truth.classes is None:
        return []
    t_ids, p_ids, ious = metrics.matched_pairs(
        y_true=truth.labels, y_pred=prediction.labels, iou_threshold=CLASSIFICATION_IOU
    )
    rows = []
    for t, p, s in zip(t_ids.tolist(), p_ids.tolist(), ious.tolist()):
        if t not in truth.classes:
            raise ValueError(f"image {truth.name!r}: true object {t} has no class in `truth.classes`")
        pc = prediction.classes.get(p)
        rows.append(
            {
                "true_label": int(t),
                "pred_label": int(p),
                "iou": float(s),
                "true_class": int(truth.classes[t]),
                "pred_class": -1 if pc is None else int(pc),
            }
        )
    return rows


def _readouts(truth: Sample, prediction: Prediction, info: DatasetInfo) -> list[dict]:
    loaded_true = loaded_pred = None
    names = info.class_names
    has_occupancy = {"empty", "loaded"} <= set(names)
    pred_classes = None
    if prediction.classes is not None:
        present = set(np.unique(prediction.labels[prediction.labels > 0]).tolist())
        pred_classes = {int(k): int(c) for k, c in prediction.classes.items() if int(k) in present}
    if has_occupancy and truth.classes is not None:
        k_loaded = names.index("loaded")
        loaded_true = [int(k) for k, c in truth.classes.items() if c == k_loaded]
        if pred_classes is not None:
            loaded_pred = [k for k, c in pred_classes.items() if c == k_loaded]
    r = metrics.readouts(y_true=truth.labels, y_pred=prediction.labels, loaded_true=loaded_true,
                         loaded_pred=loaded_pred)
    rows = [
        {"readout": "count", "true": float(r.count_true), "pred": float(r.count_pred)},
        {"readout": "area_w1", "true": 0.0, "pred": float(r.area_wasserstein)},
        {"readout": "circularity_w1", "true": 0.0, "pred": float(r.circularity_wasserstein)},
    ]
    if names and truth.classes is not None:
        true_counts = np.bincount(np.asarray(list(truth.classes.values()), dtype=np.int64), minlength=len(names))
        pred_counts = (np.bincount(np.asarray(list(pred_classes.values()), dtype=np.int64), minlength=len(names))
                       if pred_classes is not None else None)
        for k, name in enumerate(names):
            rows.append({"readout": f"count:{name}", "true": float(true_counts[k]),
                         "pred": float(pred_counts[k]) if pred_counts is not None else float("nan")})
        if has_occupancy:
            rows.append({"readout": "occupancy", "true": float(r.occupancy_true), "pred": float(r.occupancy_pred)})
    return rows


def score_predictions(
    truth: Sequence[Sample],
    predictions: Sequence[Prediction],
    *,
    info: DatasetInfo,
    thresholds: Sequence[float] = THRESHOLDS,
) -> Scores:
    """Score a method's predictions on a split: the tidy tables of raw counts.

    Parameters
    ----------
    truth : sequence of Sample
        Annotated samples (:func:`bench.splits.load_test_truth`), in the order of
        `predictions`.
    predictions : sequence of Prediction
        One per sample.
    info : DatasetInfo
        The dataset's card.
    thresholds : sequence of float, optional
        IoU thresholds (default :data:`THRESHOLDS`).

    Returns
    -------
    Scores
        Tables keyed by name (see the module docstring), each with an ``image``
        column.

    Raises
    ------
    ValueError
        If the two sequences differ in length, or a prediction's shape differs
        from its image's.
    """
    if len(truth) != len(predictions):
        raise ValueError(
            f"`truth` ({len(truth)} samples) and `predictions` ({len(predictions)}) must have the same length"
        )
    if len(truth) == 0:
        raise ValueError("`truth` must hold at least one sample, got none")
    rows: dict[str, list[dict]] = {t: [] for t in tasks_scored(info)}
    for sample, pred in zip(truth, predictions):
        for name, table_rows in score_image(sample, pred, info=info, thresholds=thresholds).items():
            rows[name] += [{"image": sample.name, **r} for r in table_rows]
    tables = {}
    for name in TABLES:
        if name in rows:
            tables[name] = (
                pd.DataFrame(rows[name], columns=["image", *TABLE_COLUMNS[name]])
                if rows[name]
                else _empty_table(name)
            )
    return Scores(tables=tables)


def object_table(
    truth: Sequence[Sample],
    predictions: Sequence[Prediction],
    *,
    iou_threshold: float = 0.5,
) -> pd.DataFrame:
    """One row per true and per predicted object: its size and whether it was matched.

    For error analysis (which objects are missed or spurious: small ones, large
    ones?). Matching is :func:`bench.metrics.matched_pairs` at `iou_threshold`.

    Returns
    -------
    DataFrame
        ``image, side ("true" | "pred"), label, area (pixels), matched (bool),
        iou`` (of the matched pair, NaN if unmatched).
    """
    if len(truth) != len(predictions):
        raise ValueError(
            f"`truth` ({len(truth)} samples) and `predictions` ({len(predictions)}) must have the same length"
        )
    rows = []
    for sample, pred in zip(truth, predictions):
        labels = _check_pair(sample, pred)
        if sample.labels is None:
            raise ValueError(f"image {sample.name!r}: `object_table` needs instance labels in the truth")
        t_ids, p_ids, ious = metrics.matched_pairs(y_true=sample.labels, y_pred=labels, iou_threshold=iou_threshold)
        for side, lab, ids in (("true", sample.labels, t_ids), ("pred", labels, p_ids)):
            area = np.bincount(lab.ravel())
            iou_of = dict(zip(ids.tolist(), ious.tolist()))
            for k in np.flatnonzero(area[1:]) + 1:
                rows.append({"image": sample.name, "side": side, "label": int(k), "area": int(area[k]),
                             "matched": int(k) in iou_of, "iou": iou_of.get(int(k), float("nan"))})
    return pd.DataFrame(rows, columns=["image", "side", "label", "area", "matched", "iou"])
