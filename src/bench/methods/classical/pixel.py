"""Shared machinery of the ilastik-like pixel classifiers (``random_forest``, ``svm``).

Training targets (at the working scale):

* instance datasets: background (0), object interior (1) and, with
  ``boundary=True``, object border (2: object pixels with a 4-neighbour outside
  the object), so that touching objects are separated by a predicted border;
* semantic datasets: the pixel classes;
* detection datasets (boxes only): object = the ellipse inscribed in the inner
  half of each box, background = outside every box, other pixels unused.

Pixels are sampled class-balanced (as a user labels a few strokes of each class
in ilastik) from the training images, features are
:func:`~bench.methods.classical.features.pixel_features`, and the classifier's
probability map is turned into instances by
:func:`~bench.methods.classical.postprocess.instances_from_probability`, whose
thresholds are tuned on the validation images by F1 at IoU 0.5. For semantic
datasets each pixel gets its most probable class after multiplying the
probabilities by ``prior ** w`` (``prior``: the class frequencies of the
training pixels; balanced sampling leaves them out, so rare classes would be
over-predicted), ``w`` in 0..1 chosen on the validation images by the mean
per-class IoU (:func:`bench.metrics.semantic_metrics`).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np

from .._shared import upscale_labels
from .boxes import box_masks
from .features import FEATURES, ILASTIK_SIGMAS, pixel_features
from .method import ClassicalMethod, ClassicalParams
from .postprocess import instances_from_probability
from ...metrics import semantic_metrics

__all__ = ["PixelParams", "PixelClassifierMethod", "pixel_targets"]

logger = logging.getLogger(__name__)

THRESHOLD_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CORE_GRID = (0.3, 0.5, 0.7)
MIN_DISTANCE_GRID = (0.5, 0.75, 1.0)  # times the median object radius
_CHUNK = 1 << 16  # pixels per classifier call
#: Strengths of the class-prior correction tried for semantic datasets (0: none, 1: Bayes).
PRIOR_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class PixelParams(ClassicalParams):
    """Parameters shared by the pixel classifiers (``None``: tuned in ``fit``).

    Attributes
    ----------
    max_fit_images : int or None
        Training images the pixels are sampled from (and validation images
        used for tuning); None: 2 / 3 / 8 for the ci / quick / full profiles
        (an ilastik user annotates a few images).
    sigmas : tuple of float
        Feature scales (working px); ilastik's defaults.
    features : tuple of str
        Feature families (:data:`~bench.methods.classical.features.FEATURES`).
    n_pixels : int or None
        Training pixels, split equally between the classes; None: the
        classifier's default for the profile.
    boundary : bool
        Learn an object-border class for instance datasets (splits touching
        objects).
    threshold : float or None
        Object probability threshold; tuned over 0.3..0.9.
    min_area : float or None
        Smallest object kept (working px^2); default a quarter of the
        5th-percentile training object area.
    tile : int
        Tile size (working px) for prediction, bounding feature memory.
    """

    max_fit_images: int | None = None
    sigmas: tuple[float, ...] = ILASTIK_SIGMAS
    features: tuple[str, ...] = FEATURES
    n_pixels: int | None = None
    boundary: bool = True
    threshold: float | None = None
    min_area: float | None = None
    tile: int = 512

    def validate(self) -> None:
        super().validate()
        if not self.sigmas or any(s <= 0 for s in self.sigmas):
            raise ValueError(f"parameter `sigmas` must be positive scales, got {self.sigmas}")
        bad = [f for f in self.features if f not in FEATURES]
        if bad or not self.features:
            raise ValueError(f"parameter `features` must be a non-empty subset of {FEATURES}, got {self.features}")
        if self.n_pixels is not None and self.n_pixels < 10:
            raise ValueError(f"parameter `n_pixels` must be >= 10, got {self.n_pixels}")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ValueError(f"parameter `threshold` must be in (0, 1) or None, got {self.threshold}")
        if self.min_area is not None and self.min_area < 0:
            raise ValueError(f"parameter `min_area` must be >= 0 or None, got {self.min_area}")
        if self.tile < 64:
            raise ValueError(f"parameter `tile` must be >= 64, got {self.tile}")


def pixel_targets(labels: np.ndarray, *, boundary: bool) -> np.ndarray:
    """Per-pixel training classes from instance labels: 0 background, 1 interior, 2 border.

    The image edge is not a border (objects cut by it continue outside).

    Examples
    --------
    >>> lab = np.zeros((5, 6), np.int32); lab[1:4, 0:3] = 1; lab[1:4, 3:6] = 2
    >>> pixel_targets(lab, boundary=True)[2].tolist()
    [1, 1, 2, 2, 1, 1]
    """
    from skimage.segmentation import find_boundaries

    t = (labels > 0).astype(np.int8)
    if boundary:
        border = find_boundaries(labels, connectivity=1, mode="inner") & (labels > 0)
        t[border] = 2
    return t


class PixelClassifierMethod(ClassicalMethod):
    """Base of ``random_forest`` and ``svm``: sample, train, predict probabilities, post-process."""

    Params: ClassVar[type] = PixelParams
    tasks: ClassVar[tuple[str, ...]] = ("instance", "classification", "semantic", "detection")
    uses_all_channels: ClassVar[bool] = True
    fit_images: ClassVar[Mapping[str, int]] = {"ci": 2, "quick": 3, "full": 8}
    #: ``n_pixels`` per profile when the parameter is None.
    n_pixels: ClassVar[Mapping[str, int]] = {"ci": 3000, "quick": 10000, "full": 40000}

    def __init__(self, params: Any | None = None, **kwargs):
        super().__init__(params, **kwargs)
        self.model = None

    # ----------------------------------------------------------------- hooks
    def _make_model(self, seed: int, n_features: int):
        """A scikit-learn classifier with ``fit`` and ``predict_proba``."""
        raise NotImplementedError

    # --------------------------------------------------------------- features
    def _features(self, work: np.ndarray) -> np.ndarray:
        return pixel_features(work, sigmas=self.params.sigmas, features=self.params.features)

    def _halo(self) -> int:
        return int(math.ceil(3 * max(self.params.sigmas))) + 2

    def _proba(self, work: np.ndarray) -> np.ndarray:
        """Class probabilities ``(M', N', n_classes)`` of a working image, tile by tile."""
        h, w = work.shape[:2]
        t = self.params.tile
        n_cls = len(self.model.classes_)
        out = np.empty((h, w, n_cls), np.float32)
        halo = self._halo()
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                a0, a1 = max(y0 - halo, 0), min(y1 + halo, h)
                b0, b1 = max(x0 - halo, 0), min(x1 + halo, w)
                f = self._features(work[a0:a1, b0:b1])
                f = f[y0 - a0 : y0 - a0 + (y1 - y0), x0 - b0 : x0 - b0 + (x1 - x0)]
                f = f.reshape(-1, f.shape[-1])
                p = np.concatenate([self.model.predict_proba(f[i : i + _CHUNK]) for i in range(0, f.shape[0], _CHUNK)])
                out[y0:y1, x0:x1] = p.reshape(y1 - y0, x1 - x0, n_cls)
        # the model's classes are sorted ints; expand to 0..max if one was absent in training
        classes = np.asarray(self.model.classes_)
        if not np.array_equal(classes, np.arange(classes.size)):
            full = np.zeros((h, w, int(classes.max()) + 1), np.float32)
            full[..., classes] = out
            out = full
        return out

    # ---------------------------------------------------------------- targets
    def _targets(self, ws) -> np.ndarray:
        mode = self.state["mode"]
        if mode == "semantic":
            return ws.semantic.astype(np.int16)
        if mode == "instance":
            return pixel_targets(ws.labels, boundary=self.params.boundary).astype(np.int16)
        obj, bg = box_masks(ws.image.shape[:2], ws.boxes, self.factor)
        t = np.full(obj.shape, -1, np.int16)
        t[bg] = 0
        t[obj] = 1
        return t

    def _training_table(self, samples, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        targets = [self._targets(ws) for ws in samples]
        classes = np.unique(np.concatenate([np.unique(t) for t in targets]))
        classes = classes[classes >= 0]
        if classes.size < 2:
            raise ValueError(f"{self.name}: the training images hold a single pixel class {classes.tolist()}")
        counts = np.array([[int((t == c).sum()) for c in classes] for t in targets])  # (images, classes)
        self._cache["class_pixels"] = {int(c): int(n) for c, n in zip(classes, counts.sum(axis=0))}
        n_pixels = self.params.budget("n_pixels", self.n_pixels)
        self.state["budget"]["n_pixels"] = n_pixels
        per_class = n_pixels // classes.size
        Xs, ys = [], []
        for i, (ws, t) in enumerate(zip(samples, targets)):
            picks = []
            for j, c in enumerate(classes):
                total = counts[:, j].sum()
                quota = int(round(min(per_class, total) * counts[i, j] / max(total, 1)))
                if quota == 0:
                    continue
                idx = np.flatnonzero(t.ravel() == c)
                picks.append(rng.choice(idx, size=min(quota, idx.size), replace=False))
            if not picks:
                continue
            sel = np.concatenate(picks)
            f = self._features(ws.image)
            Xs.append(f.reshape(-1, f.shape[-1])[sel])
            ys.append(t.ravel()[sel].astype(np.int64))
        X, y = np.concatenate(Xs), np.concatenate(ys)
        logger.info("%s: %d training pixels, classes %s", self.name, y.size,
                    {int(c): int((y == c).sum()) for c in classes})
        return X, y

    # ---------------------------------------------------------------- fitting
    def _tune(self, train, val, rng):
        X, y = self._training_table(train, rng)
        seed = int(rng.integers(2**31 - 1))
        self.model = self._make_model(seed, X.shape[1])
        self.model.fit(X, y)
        mode = self.state["mode"]
        if mode == "semantic":
            return self._tune_semantic(train, val, int(np.max(y)) + 1)
        tuning = list(val) if val else list(train)
        probas = {id(ws): self._proba(ws.image) for ws in tuning}
        p = self.params
        st = self.stats.scaled(self.factor)
        th = [p.threshold] if p.threshold is not None else list(THRESHOLD_GRID)
        fixed = {
            "min_area": round(p.min_area if p.min_area is not None else 0.25 * st.area_p05, 2),
            "max_hole": round(1.5 * st.area_p95, 2),
        }
        use_core = mode == "instance" and p.boundary
        if use_core:
            grid = [{"threshold": t, "core_threshold": c, "min_distance": 0.0, **fixed}
                    for t, c in itertools.product(th, CORE_GRID)]
        else:
            md = [round(max(1.0, f * st.radius_median), 2) for f in MIN_DISTANCE_GRID]
            grid = [{"threshold": t, "core_threshold": 0.0, "min_distance": d, **fixed}
                    for t, d in itertools.product(th, md)]

        def segment(ws, t):
            return self._instances(probas[id(ws)], t)

        best, score = self._grid_search(grid, segment, tuning)
        # the object classifier learns from these predictions (see _classifier_examples)
        self._cache["examples"] = [
            (ws.sample, upscale_labels(segment(ws, best), self.factor, ws.sample.shape)) for ws in tuning
        ]
        return best, score

    def _classifier_examples(self, train, val):
        """Predictions on the tuning (validation) images, already computed while tuning."""
        return self._cache.get("examples", [])

    def _tune_semantic(self, train, val, n_classes: int):
        """Prior correction of the class-balanced classifier, its strength chosen by mean IoU."""
        counts = self._cache["class_pixels"]
        freq = np.array([counts.get(c, 0) for c in range(n_classes)], float)
        log_prior = np.log(np.maximum(freq, 1.0) / freq.sum()).tolist()
        tuning = list(val) if val else list(train)
        probas = [self._proba(ws.image) for ws in tuning]
        truth = [ws.semantic for ws in tuning]
        best, best_iou = None, -1.0
        for alpha in PRIOR_GRID:
            t = {"n_classes": n_classes, "log_prior": log_prior, "prior_weight": alpha}
            r = semantic_metrics(y_true=truth, y_pred=[self._classes(p, t) for p in probas], n_classes=n_classes)
            miou = float(np.mean(r.iou[r.present])) if r.present.any() else 0.0
            logger.debug("%s: prior weight %s -> mean IoU %.4f", self.name, alpha, miou)
            if miou > best_iou + 1e-9:
                best, best_iou = t, miou
        logger.info("%s: prior weight %s (mean IoU %.3f)", self.name, best["prior_weight"], best_iou)
        self.state["tune_semantic"] = {"mean_iou": round(best_iou, 6)}
        return best, None

    @staticmethod
    def _classes(proba: np.ndarray, t: dict[str, Any]) -> np.ndarray:
        """Most probable class after re-weighting by ``prior ** prior_weight``."""
        logp = np.log(np.maximum(proba[..., : t["n_classes"]], 1e-9))
        logp = logp + t["prior_weight"] * np.asarray(t["log_prior"], np.float32)
        return np.argmax(logp, axis=-1).astype(np.int32)

    @staticmethod
    def _instances(proba: np.ndarray, t: dict[str, Any]) -> np.ndarray:
        fg = 1.0 - proba[..., 0]
        core = proba[..., 1] if t["core_threshold"] > 0 else None
        return instances_from_probability(
            fg, threshold=t["threshold"], min_area=t["min_area"], core=core,
            core_threshold=t["core_threshold"], max_hole=t["max_hole"], min_distance=max(t["min_distance"], 1.0),
        )

    def _segment(self, work, tuned):
        if self.model is None:
            raise RuntimeError(f"{self.id}: no trained pixel classifier")
        proba = self._proba(work)
        if self.state["mode"] == "semantic":
            return self._classes(proba, tuned)
        return self._instances(proba, tuned)

    # ------------------------------------------------------------ persistence
    def _save_extra(self, path: Path) -> None:
        import joblib

        if self.model is not None:
            joblib.dump(self.model, path / "pixel_classifier.joblib")

    def _load_extra(self, path: Path) -> None:
        import joblib

        f = path / "pixel_classifier.joblib"
        if not f.is_file():
            raise ValueError(f"{path}: no pixel_classifier.joblib; the method was saved before fitting")
        self.model = joblib.load(f)
