"""Metrics of the benchmark: one name per formula, checked against the references.

Everything here depends only on numpy and scipy.

Instance segmentation
    :func:`match_instances`, :func:`match_dataset`, :class:`MatchResult`,
    :func:`matched_pairs`, :func:`pool_results`, :func:`average_results` --
    one-to-one matching by IoU / IoT / IoP, identical in counts and scores to
    ``stardist.matching``, with sparse overlaps.
Average precision (two different things)
    :func:`ap_dsb_sweep` -- ``TP / (TP + FP + FN)`` over IoU 0.50:0.05:0.95 (Cellpose's
    "average precision", StarDist's "accuracy");
    :func:`coco_average_precision` -- COCO AP from scored detections.
Cell Tracking Challenge
    :func:`ctc_seg`.
Detection against boxes
    :func:`boxes_from_labels`, :func:`match_boxes`, :func:`detection_metrics`.
Semantic segmentation
    :func:`semantic_metrics`.
Pixel scores as the papers report them
    :func:`pixel_counts`, :class:`PixelCounts` (binary foreground IoU / Dice, global /
    mean / weighted IoU, MATLAB's mean BF score), :func:`bf_tolerance`,
    :func:`cellular_scores`.
Per-object classification
    :func:`classification_metrics` on objects paired by :func:`matched_pairs`.
Biological readouts
    :func:`readouts`, :func:`object_features`.
Uncertainty
    :func:`bootstrap_ci`; of a ranking: :func:`rank_bootstrap` (rank distributions over
    resampled images), :func:`significance_map` (paired one-sided Wilcoxon tests,
    :func:`holm`-corrected).

Empty images
------------
One convention, applied everywhere a score is a ratio of counts: when truth and
prediction both hold nothing to score (no objects in either), the score is **1.0**
-- an empty field predicted empty is a perfect result. When there is something to
score, a ratio with a zero denominator is **0.0** (precision with no prediction,
recall with no true object). StarDist scores the empty-empty case 0.0.

Pooled or per image
-------------------
``aggregate="pooled"`` sums ``n_true``, ``n_pred``, ``tp`` and ``sum_matched_iou``
over images and computes every ratio once from the sums (each object weighs the
same); ``aggregate="per_image"`` averages the per-image ratios (each image weighs
the same). A runner that stores those four numbers per image and threshold can
re-create any pooled result later with :meth:`MatchResult.from_counts` and
:func:`pool_results`.
"""

from .average_precision import (
    COCO_THRESHOLDS,
    DSB_THRESHOLDS,
    APSweep,
    CocoAP,
    ap_dsb_sweep,
    coco_average_precision,
)
from .bootstrap import BootstrapCI, bootstrap_ci
from .classification import ClassificationResult, classification_metrics
from .ctc import ctc_seg
from .detection import DetectionResult, boxes_from_labels, detection_metrics, match_boxes
from .matching import (
    AGGREGATES,
    MatchResult,
    average_results,
    match_dataset,
    match_instances,
    matched_pairs,
    pool_results,
)
from .pixel import BF_TOLERANCE_FRACTION, PixelCounts, bf_tolerance, cellular_scores, pixel_counts
from .ranking import RankBootstrap, SignificanceMap, holm, rank_bootstrap, rank_scores, significance_map
from .readouts import ObjectFeatures, ReadoutComparison, object_features, readouts
from .semantic import PER_CLASS_METRICS, SemanticResult, semantic_metrics

__all__ = [
    "AGGREGATES",
    "APSweep",
    "BF_TOLERANCE_FRACTION",
    "BootstrapCI",
    "COCO_THRESHOLDS",
    "ClassificationResult",
    "CocoAP",
    "DSB_THRESHOLDS",
    "DetectionResult",
    "MatchResult",
    "ObjectFeatures",
    "PER_CLASS_METRICS",
    "PixelCounts",
    "RankBootstrap",
    "ReadoutComparison",
    "SemanticResult",
    "SignificanceMap",
    "ap_dsb_sweep",
    "average_results",
    "bf_tolerance",
    "bootstrap_ci",
    "boxes_from_labels",
    "cellular_scores",
    "classification_metrics",
    "coco_average_precision",
    "ctc_seg",
    "detection_metrics",
    "holm",
    "match_boxes",
    "match_dataset",
    "match_instances",
    "matched_pairs",
    "object_features",
    "pixel_counts",
    "pool_results",
    "rank_bootstrap",
    "rank_scores",
    "readouts",
    "semantic_metrics",
    "significance_map",
]
