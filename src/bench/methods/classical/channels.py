"""``channel="auto"``: which plane a threshold-type classical method segments.

Planes (:func:`~bench.methods.classical.planes.channel_candidates`) are ranked by
Youden's J of object vs background pixels of the training images, and the best
few are segmented by a fixed reference pipeline (:func:`reference_segmentation`);
see :mod:`bench.methods.classical.method` for the protocol.
"""

from __future__ import annotations

from typing import Sequence

import logging

import numpy as np
from scipy import ndimage as ndi

from ...data.sample import Sample
from .._shared import ObjectStats, downscale_image, downscale_labels
from .boxes import box_corners, box_masks
from .params import WorkSample
from .planes import channel_candidates, channel_plane, normalize_channels
from .postprocess import fill_small_holes, remove_small_objects, split_touching

__all__ = ["SHORTLIST", "reference_segmentation", "youden_j", "ChannelChoice"]

logger = logging.getLogger("bench.methods.classical.method")

#: Planes (by Youden's J) tried with the reference pipeline when ``channel="auto"``.
SHORTLIST = 4


def reference_segmentation(plane: np.ndarray, stats: ObjectStats) -> np.ndarray:
    """IsoData threshold of the smoothed plane, holes filled, distance watershed, small objects removed."""
    from skimage.filters import threshold_isodata

    x = ndi.gaussian_filter(plane, 1.0)
    if float(x.max()) == float(x.min()):
        return np.zeros(x.shape, np.int32)
    mask = fill_small_holes(x > threshold_isodata(x), 1.5 * stats.area_p95)
    labels = split_touching(mask, min_distance=max(1.0, stats.radius_median))
    return remove_small_objects(labels, 0.5 * stats.area_p05)


def youden_j(pos: np.ndarray, neg: np.ndarray) -> float:
    """Best separation of `pos` from `neg` by one threshold: max over t of TPR(t) - FPR(t).

    Youden's J (the Kolmogorov-Smirnov distance between the two samples); 1 when
    a single threshold separates them perfectly, 0 when it cannot help.

    Examples
    --------
    >>> youden_j(np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    1.0
    >>> youden_j(np.array([1.0, 3.0]), np.array([0.0, 2.0]))
    0.5
    """
    pos = np.sort(np.asarray(pos, float))
    neg = np.sort(np.asarray(neg, float))
    t = np.concatenate([pos, neg])
    # fraction of each sample strictly above every candidate threshold
    tpr = 1.0 - np.searchsorted(pos, t, side="right") / pos.size
    fpr = 1.0 - np.searchsorted(neg, t, side="right") / neg.size
    return float(max(0.0, np.max(tpr - fpr)))



class ChannelChoice:
    """The channel-choice part of :class:`~bench.methods.classical.method.ClassicalMethod`."""

    # ------------------------------------------------------------------ channel
    def _fg_bg(self, ws: WorkSample) -> tuple[np.ndarray, np.ndarray]:
        shape = ws.image.shape[:2]
        if ws.labels is not None:
            fg = ws.labels > 0
            return fg, ~ndi.binary_dilation(fg, iterations=1)
        return box_masks(shape, ws.boxes, self.factor)

    def _choose_channel(self, samples: Sequence[Sample], rng: np.random.Generator) -> tuple[str, dict]:
        """``channel="auto"``: shortlist planes by Youden's J, keep the one a reference pipeline segments best."""
        spec = self.params.channel
        if spec != "auto":
            channel_plane(np.zeros((1, 1, len(self.channels)), np.float32), self.channels, spec)
            return spec, {}
        cands = channel_candidates(self.channels)
        k = self.factor
        per_image = max(200, 20000 // max(len(samples), 1))
        norms, pos, neg = [], {c: [] for c in cands}, {c: [] for c in cands}
        for s in samples:
            norm = normalize_channels(downscale_image(s.image, k))
            ws = WorkSample(
                image=norm[..., 0],
                labels=None if s.labels is None else downscale_labels(s.labels, k),
                semantic=None,
                boxes=None if s.boxes is None else box_corners(s),
                sample=s,
            )
            norms.append((norm, ws))
            fg, bg = self._fg_bg(ws)
            fi, bi = np.flatnonzero(fg), np.flatnonzero(bg)
            if fi.size == 0 or bi.size == 0:
                continue
            fi = rng.choice(fi, size=min(per_image, fi.size), replace=False)
            bi = rng.choice(bi, size=min(per_image, bi.size), replace=False)
            for c in cands:
                plane = ndi.gaussian_filter(channel_plane(norm, self.channels, c), 1.0)
                pos[c].append(plane.ravel()[fi])
                neg[c].append(plane.ravel()[bi])
        if not pos[cands[0]]:
            raise ValueError(f"{self.name}: no training image has both object and background pixels")
        P = {c: np.concatenate(pos[c]) for c in cands}
        N = {c: np.concatenate(neg[c]) for c in cands}
        sep = {c: youden_j(P[c], N[c]) for c in cands}
        ranked = sorted(cands, key=lambda c: (-round(sep[c], 4), cands.index(c)))
        # greedy forward selection of a max-combination of single planes
        singles = [c for c in ranked if c not in ("sum", "max", "max+std")]
        combo, combo_sep = [singles[0]], sep[singles[0]]
        cur_p, cur_n = P[singles[0]], N[singles[0]]
        while True:
            trials = {c: youden_j(np.maximum(cur_p, P[c]), np.maximum(cur_n, N[c]))
                      for c in singles if c not in combo and sep[c] > 0.1}
            if not trials:
                break
            c = max(trials, key=lambda c: (round(trials[c], 4), -singles.index(c)))
            if trials[c] < combo_sep + 0.005:
                break
            combo.append(c)
            combo_sep = trials[c]
            cur_p, cur_n = np.maximum(cur_p, P[c]), np.maximum(cur_n, N[c])
        shortlist = list(dict.fromkeys(ranked[:SHORTLIST]))
        if len(combo) > 1:
            name = "max(" + ",".join(combo) + ")"
            sep[name] = combo_sep
            shortlist.insert(0, name)
        # the shortlisted plane a reference pipeline (IsoData, holes filled, watershed) segments best
        stats = self.stats.scaled(k)
        scores = {}
        for c in shortlist:
            preds, wss = [], []
            for norm, ws in norms:
                preds.append(reference_segmentation(channel_plane(norm, self.channels, c), stats))
                wss.append(ws)
            scores[c] = self._score(preds, wss)
        # within 0.02 of the best reference F1, the better-separating plane wins
        top = max(scores[c].f1 for c in shortlist)
        chosen = max((c for c in shortlist if scores[c].f1 >= top - 0.02), key=lambda c: round(sep[c], 4))
        logger.info(
            "%s: channel shortlist %s -> %s", self.name,
            {c: (round(sep[c], 3), scores[c].f1) for c in shortlist}, chosen,
        )
        report = {c: {"youden_j": round(sep[c], 4), **({"reference_f1": scores[c].f1} if c in scores else {})}
                  for c in sep}
        return chosen, report
