"""The classical methods' base class (:class:`ClassicalMethod`): the protocol every one follows.

Its parts live by job: :mod:`.params` (parameters), :mod:`.planes` (image planes),
:mod:`.channels` (``channel="auto"``), :mod:`.boxes` (boxes at the working scale),
:mod:`.tuning` (grid search), :mod:`.postprocess` (masks to instances); what the
deep families use too is in :mod:`bench.methods._shared`.

A classical method (:class:`ClassicalMethod`) runs in four steps, the same for
all six methods:

1. **Object sizes** (:class:`~bench.methods._shared.ObjectStats`)
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
   :func:`bench.metrics.match_instances` on the **training** images for the
   threshold-type methods (``isodata_watershed``, ``auto_threshold``,
   ``hough``, ``log_spots``) and on the **validation** images for the pixel
   classifiers (``random_forest``, ``svm``), which are trained on training
   pixels. See *Why the threshold-type methods tune on training images*.
   For a **detection** dataset (boxes, no masks) the same search maximises the
   box F1 at box-IoU 0.5 of the boxes of the predicted instances against the
   true boxes (:func:`bench.metrics.match_boxes`); object sizes and the channel
   come from the boxes (inner half of each box = object, outside every box =
   background).

Where the training samples carry per-object classes, an
:class:`~bench.methods._shared.ObjectClassifier` is fitted on the
method's own predictions (matched objects inherit the true class) plus the
true objects of those images, and :meth:`ClassicalMethod.predict_classes`
applies it: on the training images for the threshold-type methods, on the
validation images for the pixel classifiers, whose predictions on their own
training pixels would be unrealistically clean. Test labels never reach a method: it only gets the splits that
:func:`bench.splits.load_fit_data` returns.

**Why the threshold-type methods tune on training images** (an exception to
STYLE.md's "tuning on validation data only"). Validation data exist so that a
choice made after training is not judged on the images the model was fitted
to, where it looks better than it is. A threshold-type method fits nothing
else: its free parameters (a handful of smoothing, threshold and size values)
*are* its training, and the object sizes and channel it also reads from the
training images are statistics, not weights that could overfit them. Tuning
on the training images is then training on the training images; it also uses
the larger split (NIH3T3: 10 training vs 3 validation images), and gives the
baselines their best settings, the conservative side when deep methods are
compared against them. Measured on NIH3T3 (profile quick, seed 0, test F1 at
IoU 0.5), tuning on the validation images instead: ``auto_threshold`` 0.758 ->
0.585, ``log_spots`` 0.670 -> 0.362, ``isodata_watershed`` 0.410 -> 0.380,
``hough`` 0.151 -> 0.143. The pixel classifiers learn a model from training
pixels, so their post-processing is tuned on validation images, as STYLE.md
asks.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ...data.sample import Sample
from .._shared import (
    ObjectClassifier,
    ObjectStats,
    downscale_image,
    downscale_labels,
    fit_mode,
    fit_object_classifier,
    load_classifier,
    save_classifier,
    upscale_labels,
)
from ..base import Method
from .boxes import box_corners
from .channels import ChannelChoice
from .params import FIT_IMAGES, PROFILES, ClassicalParams, TuneScore, WorkSample
from .planes import channel_plane, normalize_channels
from .tuning import GridTuning

__all__ = ["ClassicalMethod", "ClassicalParams", "WorkSample", "TuneScore", "PROFILES", "FIT_IMAGES"]

logger = logging.getLogger(__name__)


class ClassicalMethod(ChannelChoice, GridTuning, Method):
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
            boxes=None if s.boxes is None else box_corners(s),
            sample=s,
        )

    def _subsample(self, samples: Sequence[Sample], rng: np.random.Generator) -> list[Sample]:
        n = self.params.budget("max_fit_images", self.fit_images)
        if len(samples) <= n:
            return list(samples)
        idx = np.sort(rng.choice(len(samples), size=n, replace=False))
        return [samples[i] for i in idx]

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
            pairs = self._classifier_examples(fit_train, fit_val)
            self.object_classifier = fit_object_classifier(
                [s for s, _ in pairs], [p for _, p in pairs], rng=rng
            )
        self._cache = {}
        return self

    def _tuning_images(self, train: Sequence[WorkSample], val: Sequence[WorkSample]) -> Sequence[WorkSample]:
        """The images the threshold-type methods tune their free parameters on: the
        training images (the exception to STYLE.md argued in the module docstring)."""
        return train

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
        save_classifier(self.object_classifier, path)
        self._save_extra(path)

    def _load_state(self, path: Path) -> None:
        try:
            self.state = json.loads((path / "state.json").read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: no state.json; the method was saved before fitting") from None
        self.object_classifier = load_classifier(path)
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
