"""What every classical method shares: parameters, working scale, channel choice, tuning, state.

A classical method (:class:`ClassicalMethod`) runs in four steps, the same for
all six methods:

1. **Object sizes** (:class:`~bench.methods.classical.postprocess.ObjectStats`)
   from the training split's ground truth: instance masks, or boxes for a
   detection dataset (area of the inscribed ellipse).
2. **Working scale.** Images are block-averaged by an integer factor ``k`` so
   that the median object diameter is close to ``working_diameter`` px (never
   upsampled; ``working_diameter=0`` disables it). Big objects (cells, nuclei,
   2048x2048 CELLULAR fields) are thus segmented on a 2-4x smaller grid, which
   keeps prediction of a 2048x2048 field within about a second; labels are
   brought back to full resolution by nearest-neighbour upsampling.
3. **Channel.** Each channel is normalised per image (1st-99.8th percentile to
   0-1). Threshold-type methods work on one plane: ``channel`` names a
   channel, ``"sum"`` (mean of the normalised channels), ``"max"``, a name
   prefixed with ``-`` (inverted, for objects darker than background) or with
   ``std:`` (local standard deviation: texture, for transmitted light), or
   ``"max+std"`` (maximum of all those planes). With
   ``channel="auto"`` the plane is chosen on the training images as the one
   whose (lightly smoothed) intensity best separates object pixels from
   background pixels by a single threshold, measured by Youden's J (the
   largest true-positive rate minus false-positive rate over thresholds) on a
   pixel sample of the training images, plus a greedy pixel-wise maximum
   ``max(a,b,...)`` of planes (each added while it raises J by >= 0.005). J
   ranks planes by pixel separability, which is not what a per-image automatic
   threshold needs (dim objects beside bright ones rank well yet are missed),
   so the four best planes and the combination are then segmented by a fixed
   reference pipeline (IsoData, holes filled, distance watershed); among those
   within 0.02 of the best training F1, the plane with the largest J is used. Typical choices: synth-lyso combines
   lamp1 with its texture; nuclei use their only channel; transmitted-light
   cells combine the texture of the transmitted channel with GFP.
   Pixel classifiers (``random_forest``, ``svm``) use every channel.
4. **Tuning** of the method's free parameters by a grid search that maximises
   the pooled F1 at IoU 0.5 (ties: mean matched IoU), computed with
   :func:`bench.metrics.match_instances` on training images (pixel classifiers:
   on validation images, the classifier being trained on training pixels).
   For a **detection** dataset (boxes, no masks) the same search maximises the
   box F1 at box-IoU 0.5 of the boxes of the predicted instances against the
   true boxes (:func:`bench.metrics.match_boxes`); object sizes and the channel
   come from the boxes (inner half of each box = object, outside every box =
   background).

Where the training samples carry per-object classes, an
:class:`~bench.methods.classical.objects.ObjectClassifier` is fitted on the
method's own predictions on the tuning images (matched objects inherit the true
class) plus the true objects of those images, and
:meth:`ClassicalMethod.predict_classes` applies it. The tuning images are
training images for the threshold-type methods and validation images for the
pixel classifiers, whose predictions on their own training pixels would be
unrealistically clean. Test labels never reach a method: it only gets the splits that
:func:`bench.splits.load_fit_data` returns.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, Mapping, Sequence

import numpy as np
from scipy import ndimage as ndi

from ...data.sample import Sample
from ..base import Method
from .objects import ObjectClassifier
from .postprocess import ObjectStats, downscale_image, downscale_labels, upscale_labels

__all__ = [
    "ClassicalParams",
    "ClassicalMethod",
    "WorkSample",
    "normalize_channels",
    "channel_plane",
    "channel_candidates",
    "fit_mode",
    "TuneScore",
]

logger = logging.getLogger(__name__)

#: Per-image normalisation percentiles.
NORM_PERCENTILES = (1.0, 99.8)


#: Training budgets (the runner passes its profile as the ``profile`` parameter).
PROFILES = ("ci", "quick", "full")
#: Images used for tuning, per profile (parameter ``max_fit_images``).
FIT_IMAGES = {"ci": 2, "quick": 4, "full": 8}


@dataclass(frozen=True)
class ClassicalParams:
    """Parameters shared by every classical method.

    Attributes
    ----------
    channel : str
        ``"auto"`` (chosen on training data), a channel name, ``"sum"``,
        ``"max"``, ``"max+std"``, ``"-<name>"`` (inverted) or ``"std:<name>"``
        (texture). Ignored by pixel classifiers, which use all channels.
    working_diameter : float
        Target median object diameter (px) at the working scale; images are
        downscaled by the integer factor ``floor(median diameter /
        working_diameter)`` (at least 1). 0 disables rescaling.
    profile : {"ci", "quick", "full"}
        Budget of the fit: how many images are used for tuning and how fine the
        grids are ("ci": seconds, for tests; "quick": the benchmark's quick run;
        "full": the published protocols, e.g. LysoQuant's complete 0.1-step
        Hough grid and ilastik's 100 trees).
    max_fit_images : int or None
        Training (and validation) images used for tuning, chosen at random
        with the fit's `rng` when there are more; None: 2 / 4 / 8 for the
        ci / quick / full profiles.
    """

    channel: str = "auto"
    working_diameter: float = 24.0
    profile: Literal["ci", "quick", "full"] = "quick"
    max_fit_images: int | None = None

    def validate(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            raise ValueError(f"parameter `channel` must be a non-empty string, got {self.channel!r}")
        if self.working_diameter < 0:
            raise ValueError(f"parameter `working_diameter` must be >= 0, got {self.working_diameter}")
        if self.max_fit_images is not None and self.max_fit_images < 1:
            raise ValueError(f"parameter `max_fit_images` must be >= 1 or None, got {self.max_fit_images}")

    def budget(self, name: str, table: Mapping[str, Any]) -> Any:
        """Parameter `name` if set, else its value for this profile in `table`."""
        value = getattr(self, name)
        return table[self.profile] if value is None else value


@dataclass(frozen=True, eq=False)
class WorkSample:
    """A training sample at the working scale.

    Attributes
    ----------
    image : (M', N') or (M', N', C) ndarray of float32
        Working image (one plane, or every normalised channel).
    labels : (M', N') ndarray of int32 or None
        Truth instance labels at the working scale.
    semantic : (M', N') ndarray of int32 or None
        Truth pixel classes at the working scale.
    boxes : (K, 4) ndarray of float or None
        Truth boxes ``(y0, x0, y1, x1)`` in full-resolution pixels.
    sample : Sample
        The original sample.
    """

    image: np.ndarray
    labels: np.ndarray | None
    semantic: np.ndarray | None
    boxes: np.ndarray | None
    sample: Sample


@dataclass(frozen=True, order=True)
class TuneScore:
    """Pooled F1 at IoU 0.5 and mean matched IoU of one parameter setting (compare by F1 first)."""

    f1: float
    mean_iou: float
    tp: int = field(default=0, compare=False)
    n_true: int = field(default=0, compare=False)
    n_pred: int = field(default=0, compare=False)


def fit_mode(samples: Sequence[Sample]) -> str:
    """``"instance"``, ``"semantic"`` or ``"detection"``: what truth the training samples carry.

    Raises
    ------
    ValueError
        If the samples mix kinds of truth or carry none.
    """
    kinds = set()
    for s in samples:
        if s.labels is not None:
            kinds.add("instance")
        elif s.semantic is not None:
            kinds.add("semantic")
        elif s.boxes is not None:
            kinds.add("detection")
        else:
            kinds.add("none")
    if kinds == {"instance"} or kinds == {"semantic"} or kinds == {"detection"}:
        return kinds.pop()
    raise ValueError(
        f"training samples must all carry instance labels, semantic labels or boxes; got {sorted(kinds)}"
    )


def normalize_channels(image: np.ndarray) -> np.ndarray:
    """Each channel mapped so that its 1st / 99.8th percentiles become 0 / 1 (float32).

    Percentiles are taken on a regular sub-grid of at most ~512x512 pixels.

    Examples
    --------
    >>> img = np.linspace(0, 10, 1000, dtype=np.float32).reshape(10, 100, 1)
    >>> out = normalize_channels(img)
    >>> round(float(np.percentile(out, 1)), 3) + 0.0, round(float(np.percentile(out, 99.8)), 3)
    (0.0, 1.0)
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"`image` must be (M, N, C), got shape {image.shape}")
    sy, sx = max(1, image.shape[0] // 512), max(1, image.shape[1] // 512)
    sub = image[::sy, ::sx].reshape(-1, image.shape[2])
    lo, hi = np.percentile(sub, NORM_PERCENTILES, axis=0)
    scale = np.where(hi - lo > 1e-12, hi - lo, 1.0).astype(np.float32)
    return (image - lo.astype(np.float32)) / scale


def channel_candidates(channels: Sequence[str]) -> list[str]:
    """Planes ``channel="auto"`` chooses from.

    >>> channel_candidates(["gfp", "rfp"])
    ['gfp', 'rfp', '-gfp', '-rfp', 'std:gfp', 'std:rfp', 'sum', 'max', 'max+std']
    """
    cands = list(channels) + [f"-{c}" for c in channels] + [f"std:{c}" for c in channels]
    if len(channels) > 1:
        cands += ["sum", "max", "max+std"]
    return cands


#: Gaussian scale (working px) of the local standard deviation of ``std:`` planes.
STD_SIGMA = 2.0


def _unit(plane: np.ndarray) -> np.ndarray:
    """`plane` mapped so that its 1st / 99.8th percentiles become 0 / 1."""
    sy, sx = max(1, plane.shape[0] // 512), max(1, plane.shape[1] // 512)
    lo, hi = np.percentile(plane[::sy, ::sx], NORM_PERCENTILES)
    return ((plane - lo) / (hi - lo if hi - lo > 1e-12 else 1.0)).astype(np.float32)


def local_std(plane: np.ndarray, sigma: float = STD_SIGMA) -> np.ndarray:
    """Gaussian-weighted local standard deviation (texture), normalised to 0-1 percentiles.

    Transmitted-light cells differ from the background by texture more than by
    intensity; this plane makes them thresholdable.

    Examples
    --------
    >>> x = np.zeros((16, 16), np.float32); x[4:12, 4:12:2] = 1.0
    >>> s = local_std(x, 1.0)
    >>> bool(s[8, 8] > s[0, 15])
    True
    """
    x = np.asarray(plane, np.float32)
    m = ndi.gaussian_filter(x, sigma)
    v = ndi.gaussian_filter(x * x, sigma) - m * m
    return _unit(np.sqrt(np.maximum(v, 0.0)))


def channel_plane(normalized: np.ndarray, channels: Sequence[str], spec: str) -> np.ndarray:
    """The plane named by `spec` from a normalised ``(M, N, C)`` image.

    ``spec`` is a channel name, ``-<name>`` (inverted), ``std:<name>`` (local
    standard deviation, :func:`local_std`), ``sum`` (mean of the channels),
    ``max`` (their maximum), ``max+std`` (maximum of the channels and of their
    ``std:`` planes) or ``max(<spec>,<spec>,...)`` (maximum of those planes).

    Examples
    --------
    >>> x = np.stack([np.zeros((2, 2)), np.ones((2, 2))], -1).astype(np.float32)
    >>> channel_plane(x, ["a", "b"], "sum")[0, 0], channel_plane(x, ["a", "b"], "-b")[0, 0]
    (np.float32(0.5), np.float32(0.0))
    """
    channels = list(channels)
    if spec.startswith("max(") and spec.endswith(")"):
        parts = [p for p in spec[4:-1].split(",") if p]
        if not parts:
            raise ValueError(f"parameter `channel`={spec!r}: empty combination")
        return np.max([channel_plane(normalized, channels, p) for p in parts], axis=0)
    if spec == "sum":
        return normalized.mean(axis=2, dtype=np.float32)
    if spec == "max":
        return normalized.max(axis=2)
    if spec == "max+std":
        planes = [normalized[..., c] for c in range(normalized.shape[2])]
        planes += [local_std(p) for p in planes]
        return np.max(planes, axis=0)
    kind, name = "raw", spec
    if spec.startswith("-"):
        kind, name = "invert", spec[1:]
    elif spec.startswith("std:"):
        kind, name = "std", spec[4:]
    if name not in channels:
        raise ValueError(
            f"parameter `channel`={spec!r} names no channel of the data; channels are "
            f"{tuple(channels)} (or use 'auto', 'sum', 'max', 'max+std', '-<name>', 'std:<name>')"
        )
    plane = normalized[..., channels.index(name)]
    if kind == "invert":
        return 1.0 - plane
    if kind == "std":
        return local_std(plane)
    return plane


#: Planes (by Youden's J) tried with the reference pipeline when ``channel="auto"``.
SHORTLIST = 4


def _reference_segmentation(plane: np.ndarray, stats: ObjectStats) -> np.ndarray:
    """IsoData threshold of the smoothed plane, holes filled, distance watershed, small objects removed."""
    from skimage.filters import threshold_isodata

    from .postprocess import fill_small_holes, remove_small_objects, split_touching

    x = ndi.gaussian_filter(plane, 1.0)
    if float(x.max()) == float(x.min()):
        return np.zeros(x.shape, np.int32)
    mask = fill_small_holes(x > threshold_isodata(x), 1.5 * stats.area_p95)
    labels = split_touching(mask, min_distance=max(1.0, stats.radius_median))
    return remove_small_objects(labels, 0.5 * stats.area_p05)


def _full_resolution_boxes(boxes: np.ndarray, work_shape, factor: int, shape) -> np.ndarray:
    """YOLO boxes of working-scale labels -> those of the labels upscaled by `factor` and cropped to `shape`.

    Equal to ``boxes_from_labels(upscale_labels(labels, factor, shape))`` without
    building the full-resolution image (the working shape is ``ceil(shape /
    factor)``, so every working pixel keeps at least one full-resolution pixel).

    Examples
    --------
    >>> from bench.metrics import boxes_from_labels
    >>> lab = np.zeros((3, 3), np.int32); lab[1:, 1:] = 1
    >>> b = _full_resolution_boxes(boxes_from_labels(lab), lab.shape, 2, (5, 6))
    >>> bool(np.allclose(b, boxes_from_labels(upscale_labels(lab, 2, (5, 6)))))
    True
    """
    b = np.asarray(boxes, float).reshape(-1, 5)
    if b.shape[0] == 0:
        return b
    hw, ww = work_shape
    h, w = shape
    x0 = np.minimum((b[:, 1] - b[:, 3] / 2) * ww * factor, w)
    x1 = np.minimum((b[:, 1] + b[:, 3] / 2) * ww * factor, w)
    y0 = np.minimum((b[:, 2] - b[:, 4] / 2) * hw * factor, h)
    y1 = np.minimum((b[:, 2] + b[:, 4] / 2) * hw * factor, h)
    x0, x1, y0, y1 = np.rint(x0), np.rint(x1), np.rint(y0), np.rint(y1)
    return np.column_stack([b[:, 0], (x0 + x1) / (2 * w), (y0 + y1) / (2 * h), (x1 - x0) / w, (y1 - y0) / h])


def _box_corners(sample: Sample) -> np.ndarray:
    h, w = sample.shape
    b = np.asarray(sample.boxes, float).reshape(-1, 5)
    xc, yc, bw, bh = b[:, 1] * w, b[:, 2] * h, b[:, 3] * w, b[:, 4] * h
    return np.stack([yc - bh / 2, xc - bw / 2, yc + bh / 2, xc + bw / 2], axis=1)


def box_masks(shape: tuple[int, int], boxes: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel truth implied by boxes at the working scale: (object, background) masks.

    Object: inside the ellipse inscribed in the inner half (half width, half
    height) of a box; background: outside every box. Pixels in between are
    unknown (in neither mask).
    """
    obj = np.zeros(shape, bool)
    inside_any = np.zeros(shape, bool)
    for y0, x0, y1, x1 in np.asarray(boxes, float) / factor:
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        ry, rx = max((y1 - y0) / 2, 0.5), max((x1 - x0) / 2, 0.5)
        a0, a1 = max(int(math.floor(y0)), 0), min(int(math.ceil(y1)) + 1, shape[0])
        b0, b1 = max(int(math.floor(x0)), 0), min(int(math.ceil(x1)) + 1, shape[1])
        if a0 >= a1 or b0 >= b1:
            continue
        inside_any[a0:a1, b0:b1] = True
        yy, xx = np.ogrid[a0:a1, b0:b1]
        ell = ((yy + 0.5 - cy) / (0.5 * ry)) ** 2 + ((xx + 0.5 - cx) / (0.5 * rx)) ** 2 <= 1.0
        obj[a0:a1, b0:b1] |= ell
    return obj, ~inside_any


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


class ClassicalMethod(Method):
    """Base class of the classical methods (see the module docstring for the protocol).

    Subclasses set ``name``, ``Params`` (a frozen dataclass derived from
    :class:`ClassicalParams`), ``reference`` and implement :meth:`_tune` and
    :meth:`_segment`. Pixel classifiers set ``uses_all_channels = True``.
    """

    Params: ClassVar[type] = ClassicalParams
    tasks: ClassVar[tuple[str, ...]] = ("instance", "classification", "detection")
    uses_all_channels: ClassVar[bool] = False
    #: ``max_fit_images`` per profile when the parameter is None.
    fit_images: ClassVar[Mapping[str, int]] = FIT_IMAGES

    def __init__(self, params: Any | None = None, **kwargs):
        super().__init__(params, **kwargs)
        self.state: dict[str, Any] = {}
        self.object_classifier: ObjectClassifier | None = None
        self._cache: dict[str, Any] = {}  # fit-time intermediate results, emptied when fit ends

    # ----------------------------------------------------------------- helpers
    @property
    def factor(self) -> int:
        return int(self.state.get("factor", 1))

    @property
    def stats(self) -> ObjectStats | None:
        d = self.state.get("stats")
        return None if d is None else ObjectStats(**d)

    @property
    def tuned(self) -> dict[str, Any]:
        """The parameters chosen in :meth:`fit` (empty before fitting)."""
        return dict(self.state.get("tuned", {}))

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise RuntimeError(f"{self.id}: call fit() (or load a fitted method) before predict()")

    def _choose_factor(self, stats: ObjectStats | None) -> int:
        wd = self.params.working_diameter
        if stats is None or wd <= 0:
            return 1
        diameter = 2.0 * stats.radius_median
        return max(1, int(math.floor(diameter / wd)))

    def work_image(self, image: np.ndarray) -> np.ndarray:
        """The working-scale input of :meth:`_segment` for a ``(M, N, C)`` image."""
        # block-mean first: normalising the smaller image is cheaper
        work = normalize_channels(downscale_image(image, self.factor))
        if not self.uses_all_channels:
            work = channel_plane(work, self.channels, self.state["channel"])
        return work

    def _work_sample(self, s: Sample) -> WorkSample:
        k = self.factor
        return WorkSample(
            image=self.work_image(s.image),
            labels=None if s.labels is None else downscale_labels(s.labels, k),
            semantic=None if s.semantic is None else downscale_labels(s.semantic, k),
            boxes=None if s.boxes is None else _box_corners(s),
            sample=s,
        )

    def _subsample(self, samples: Sequence[Sample], rng: np.random.Generator) -> list[Sample]:
        n = self.params.budget("max_fit_images", self.fit_images)
        if len(samples) <= n:
            return list(samples)
        idx = np.sort(rng.choice(len(samples), size=n, replace=False))
        return [samples[i] for i in idx]

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
                boxes=None if s.boxes is None else _box_corners(s),
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
                preds.append(_reference_segmentation(channel_plane(norm, self.channels, c), stats))
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

    # ------------------------------------------------------------------ scoring
    def _score(self, preds: Sequence[np.ndarray], samples: Sequence[WorkSample]) -> TuneScore:
        """Pooled F1 (IoU 0.5) of working-scale predictions against the working-scale truth."""
        from ...metrics import match_instances

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
        from ...metrics import boxes_from_labels, match_boxes

        pred = _full_resolution_boxes(boxes_from_labels(pred_ws), pred_ws.shape, self.factor, ws.sample.shape)
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

    # ------------------------------------------------------------------ fitting
    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "ClassicalMethod":
        """Learn object sizes, the working scale, the channel and the tuned parameters.

        Parameters
        ----------
        train, val : sequence of Sample
            Training and validation samples with ground truth (instance labels,
            semantic labels or boxes).
        rng : None, int or numpy Generator
            Seed of every random choice (image and pixel subsamples, forests).
        """
        self._check_fit_data(train, val)
        rng = np.random.default_rng(rng)
        mode = fit_mode(list(train) + list(val))
        if mode == "semantic" and "semantic" not in self.tasks:
            raise ValueError(f"{self.name} does not solve the semantic task (pixel classes)")
        self.fitted = False
        self.object_classifier = None
        self.state = {"mode": mode, "budget": {"max_fit_images": self.params.budget("max_fit_images", self.fit_images)}}
        stats = None if mode == "semantic" else ObjectStats.from_samples(train)
        self.state["stats"] = None if stats is None else stats.to_dict()
        self.state["factor"] = self._choose_factor(stats)
        fit_train = self._subsample(train, rng)
        fit_val = self._subsample(val, rng) if len(val) else []
        if self.uses_all_channels:
            self.state["channel"] = "all"
        else:
            self.state["channel"], self.state["channel_separation"] = self._choose_channel(fit_train, rng)
        tr = [self._work_sample(s) for s in fit_train]
        va = [self._work_sample(s) for s in fit_val]
        tuned, score = self._tune(tr, va, rng)
        self.state["tuned"] = tuned
        if score is not None:
            self.state["tune_score"] = {"f1": score.f1, "mean_iou": score.mean_iou}
        self.fitted = True
        if mode == "instance" and any(s.classes for s in [*fit_train, *fit_val]):
            pairs = [(s, p) for s, p in self._classifier_examples(fit_train, fit_val) if s.classes]
            if pairs:
                self.object_classifier = ObjectClassifier(rng=rng).fit_matched(
                    [s.image for s, _ in pairs],
                    y_true=[s.labels for s, _ in pairs],
                    true_classes=[s.classes for s, _ in pairs],
                    y_pred=[p for _, p in pairs],
                )
        self._cache = {}
        return self

    def _classifier_examples(self, train: Sequence[Sample], val: Sequence[Sample]) -> list[tuple[Sample, np.ndarray]]:
        """(sample, predicted labels) pairs the object classifier learns from: the training images."""
        return [(s, self.predict(s.image)) for s in train if s.classes]

    def _tune(
        self, train: Sequence[WorkSample], val: Sequence[WorkSample], rng: np.random.Generator
    ) -> tuple[dict[str, Any], TuneScore | None]:
        """Choose the free parameters; return them (JSON-able) and their score."""
        raise NotImplementedError

    def _segment(self, work: np.ndarray, tuned: dict[str, Any]) -> np.ndarray:
        """Working image -> working-scale int32 labels with parameters `tuned`."""
        raise NotImplementedError

    # --------------------------------------------------------------- inference
    def predict(self, image: np.ndarray) -> np.ndarray:
        """Instance labels (or pixel classes for a semantic fit) of a ``(M, N, C)`` image."""
        self._require_fitted()
        image = np.asarray(image)
        if image.ndim != 3:
            raise ValueError(f"{self.name}: `image` must be (Y, X, C), got shape {image.shape}")
        if self.channels is not None and image.shape[2] != len(self.channels):
            raise ValueError(
                f"{self.name}: fitted on {len(self.channels)} channel(s) {self.channels}, "
                f"got an image with {image.shape[2]}"
            )
        labels = self._segment(self.work_image(image), self.tuned)
        return upscale_labels(labels, self.factor, image.shape[:2])

    def predict_classes(self, image: np.ndarray, labels: np.ndarray) -> dict[int, int] | None:
        """Class of each object by the fitted :class:`ObjectClassifier` (None without classes)."""
        if self.object_classifier is None:
            return None
        return self.object_classifier.predict(image, labels)

    # ------------------------------------------------------------- persistence
    def _save_state(self, path: Path) -> None:
        (path / "state.json").write_text(json.dumps(_jsonable(self.state), indent=2))
        if self.object_classifier is not None:
            self.object_classifier.save(path / "object_classifier.joblib")
        self._save_extra(path)

    def _load_state(self, path: Path) -> None:
        try:
            self.state = json.loads((path / "state.json").read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: no state.json; the method was saved before fitting") from None
        clf = path / "object_classifier.joblib"
        self.object_classifier = ObjectClassifier.load(clf) if clf.is_file() else None
        self._load_extra(path)

    def _save_extra(self, path: Path) -> None:
        """Subclasses write models that do not fit in ``state.json``."""

    def _load_extra(self, path: Path) -> None:
        """Read what :meth:`_save_extra` wrote."""


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj
