"""The scoring protocol's constants: IoU thresholds and the tables' names and columns.

The lowest layer of scoring: :mod:`bench.scoring` produces the tables,
:mod:`bench.results` reads and aggregates them, and both take these
definitions from here (see :mod:`bench.scoring` for what each table holds).
"""

from __future__ import annotations

__all__ = ["THRESHOLDS", "AP_THRESHOLDS", "F1_THRESHOLDS", "CLASSIFICATION_IOU", "TABLES", "TABLE_COLUMNS"]

#: Thresholds of the F1 / precision / recall curves: 0.1, 0.2, ..., 0.9.
F1_THRESHOLDS: tuple[float, ...] = tuple(round(0.1 * k, 2) for k in range(1, 10))
#: Thresholds of the AP sweep of the Data Science Bowl / COCO: 0.50:0.05:0.95.
AP_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))
#: Every threshold at which instances and boxes are matched (the union, sorted).
THRESHOLDS: tuple[float, ...] = tuple(sorted(set(F1_THRESHOLDS) | set(AP_THRESHOLDS)))
#: Matched objects (at this IoU) are compared for the ``classification`` table.
CLASSIFICATION_IOU = 0.5

#: Names of the tables produced by scoring, in a fixed order.
TABLES = ("instance", "detection", "semantic", "classification", "readouts", "pixels", "images")

_MATCH_COLUMNS = ("threshold", "criterion", "n_true", "n_pred", "tp", "fp", "fn", "sum_matched_iou")
#: Columns of each table (after ``image``).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "instance": _MATCH_COLUMNS,
    "detection": _MATCH_COLUMNS,
    "semantic": ("true_class", "pred_class", "n_pixels"),
    "classification": ("true_label", "pred_label", "iou", "true_class", "pred_class"),
    "readouts": ("readout", "true", "pred"),
    "pixels": ("class_id", "tp", "fp", "fn", "tn", "bf_pred_matched", "bf_pred", "bf_true_matched", "bf_true",
               "bf_tolerance"),
    "images": ("height", "width", "n_true", "n_pred"),
}
