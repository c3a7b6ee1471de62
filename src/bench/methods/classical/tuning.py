"""Tuning of a classical method's free parameters: a grid search scored by the pooled
F1 at IoU 0.5 (ties: mean matched IoU) of working-scale predictions (box F1 for a
detection dataset)."""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import numpy as np

from .boxes import full_resolution_boxes
from .params import TuneScore, WorkSample
from ...metrics import boxes_from_labels, match_boxes, match_instances

__all__ = ["GridTuning"]

logger = logging.getLogger("bench.methods.classical.method")


class GridTuning:
    """The scoring and grid-search part of :class:`~bench.methods.classical.method.ClassicalMethod`."""

    # ------------------------------------------------------------------ scoring
    def _score(self, preds: Sequence[np.ndarray], samples: Sequence[WorkSample]) -> TuneScore:
        """Pooled F1 (IoU 0.5) of working-scale predictions against the working-scale truth."""
        tp = nt = npred = 0
        siou = 0.0
        for p, ws in zip(preds, samples):
            if ws.labels is not None:
                r = match_instances(y_true=ws.labels, y_pred=p, iou_threshold=0.5)
            else:
                r = self._match_boxes(p, ws)
            tp += r.tp
            nt += r.n_true
            npred += r.n_pred
            siou += r.sum_matched_iou
        f1 = 1.0 if nt + npred == 0 else 2 * tp / (nt + npred)
        miou = siou / tp if tp else 0.0
        return TuneScore(round(f1, 6), round(miou, 6), tp, nt, npred)

    def _match_boxes(self, pred_ws: np.ndarray, ws: WorkSample):
        pred = full_resolution_boxes(boxes_from_labels(pred_ws), pred_ws.shape, self.factor, ws.sample.shape)
        return match_boxes(true_boxes=ws.sample.boxes, pred_boxes=pred, iou_threshold=0.5)

    def _grid_search(
        self,
        grid: Sequence[dict[str, Any]],
        segment: Callable[[WorkSample, dict[str, Any]], np.ndarray],
        samples: Sequence[WorkSample],
    ) -> tuple[dict[str, Any], TuneScore]:
        """Best setting of `grid` (first wins ties) by :class:`TuneScore` on `samples`."""
        if not grid:
            raise ValueError(f"{self.name}: empty tuning grid")
        best, best_score = None, None
        for setting in grid:
            preds = [segment(ws, setting) for ws in samples]
            score = self._score(preds, samples)
            logger.debug("%s: %s -> %s", self.name, setting, score)
            if best_score is None or score > best_score:
                best, best_score = setting, score
        logger.info("%s: tuned %s (F1 %.3f, mean IoU %.3f)", self.name, best, best_score.f1, best_score.mean_iou)
        return dict(best), best_score
