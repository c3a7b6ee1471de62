"""Per-object classification (empty vs loaded, basal vs activated, ...), shared by every method.

:class:`ObjectClassifier` learns the class of an object from per-object
intensity and size features measured in the image, on the training split only.
Every ``bench`` method that produces instances on a dataset with per-object
classes (``DatasetInfo.class_names`` non-empty) can reuse it, most simply through :func:`fit_object_classifier`,
:func:`save_classifier` and :func:`load_classifier`::

    from bench.methods._shared import ObjectClassifier

    clf = ObjectClassifier(rng=rng)
    # train on the method's own predictions on training images, each matched
    # predicted object inheriting the class of its true object (IoU >= 0.5),
    # plus the true objects themselves:
    clf.fit_matched(images, y_true=true_labels, true_classes=classes, y_pred=pred_labels)
    classes = clf.predict(image, labels)   # {object id: class id}

Features (:func:`object_features`), per channel ``c``:

* ``mean``, ``p10``, ``p50``, ``p90`` of the intensity inside the object;
* ``rim``: mean intensity in a ring of `rim` px around the object (other objects
  excluded), i.e. the local background;
* ``log_contrast``: ``log((mean + eps) / (rim + eps))``;
* ``rel``: ``mean`` divided by the image's 99.5th percentile of channel ``c``
  (robust to exposure differences between images);

and for every pair of channels ``a < b`` the log ratio of their means,
``log((mean_a + eps) / (mean_b + eps))`` (what separates yellow GFP+RFP puncta
from red-only ones), plus ``log(area)``. ``eps`` is 1e-3 of the image's 99.5th
percentile of the channel. The classifier is a random forest (Breiman 2001)
with class-balanced sub-samples, deterministic given `rng`.
"""

from __future__ import annotations

import logging
from itertools import combinations
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
from ...metrics import matched_pairs

__all__ = ["ObjectClassifier", "object_features", "object_feature_names", "matched_classes", "CLASSIFIER_FILE",
           "fit_object_classifier", "save_classifier", "load_classifier"]

logger = logging.getLogger(__name__)

_PER_CHANNEL = ("mean", "p10", "p50", "p90", "rim", "log_contrast", "rel")


def object_feature_names(channels: Sequence[str]) -> list[str]:
    """Names of the columns of :func:`object_features`.

    >>> object_feature_names(["gfp", "rfp"])[:2], object_feature_names(["gfp", "rfp"])[-2:]
    (['gfp:mean', 'gfp:p10'], ['log_ratio:gfp/rfp', 'log_area'])
    """
    names = [f"{c}:{f}" for c in channels for f in _PER_CHANNEL]
    names += [f"log_ratio:{a}/{b}" for a, b in combinations(channels, 2)]
    return names + ["log_area"]


def _check_pair(image, labels) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"`image` must be (M, N) or (M, N, C), got shape {image.shape}")
    labels = np.asarray(labels)
    if labels.shape != image.shape[:2]:
        raise ValueError(
            f"`labels` (shape {labels.shape}) must have the same shape as `image[..., 0]` "
            f"(shape {image.shape[:2]})"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"`labels` must be an integer array, got {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"`labels` must be >= 0, got min {labels.min()}")
    return image.astype(np.float32, copy=False), labels


def _label_percentiles(values: np.ndarray, labels: np.ndarray, ids: np.ndarray, qs) -> np.ndarray:
    """Percentiles (nearest rank) of `values` within each label of `ids`: (len(ids), len(qs))."""
    fg = labels > 0
    lab = labels[fg]
    val = values[fg]
    order = np.lexsort((val, lab))
    lab, val = lab[order], val[order]
    starts = np.searchsorted(lab, ids, side="left")
    ends = np.searchsorted(lab, ids, side="right")
    counts = ends - starts
    out = np.empty((ids.size, len(qs)), np.float32)
    for j, q in enumerate(qs):
        idx = starts + np.floor(q * (counts - 1)).astype(np.int64)
        out[:, j] = val[idx]
    return out


def object_features(image: np.ndarray, labels: np.ndarray, *, rim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Per-object features (see the module docstring) of every object in `labels`.

    Parameters
    ----------
    image : (M, N[, C]) ndarray
        Raw intensities (not normalised per image: absolute brightness carries
        the class, e.g. cargo in a lumen).
    labels : (M, N) ndarray of int
        Instance labels, 0 = background.
    rim : int, optional
        Width (px) of the ring measured around each object.

    Returns
    -------
    ids : (K,) ndarray of int64
        Object labels, ascending.
    X : (K, F) ndarray of float32
        One row per object, columns named by :func:`object_feature_names`.

    Examples
    --------
    >>> img = np.zeros((6, 6, 1), np.float32); img[1:3, 1:3] = 1.0
    >>> lab = np.zeros((6, 6), np.int32); lab[1:3, 1:3] = 4
    >>> ids, X = object_features(img, lab, rim=1)
    >>> ids.tolist(), X[0, :5].tolist()  # mean, p10, p50, p90, rim
    ([4], [1.0, 1.0, 1.0, 1.0, 0.0])
    """
    from skimage.segmentation import expand_labels

    image, labels = _check_pair(image, labels)
    if rim < 1:
        raise ValueError(f"`rim` must be >= 1, got {rim}")
    ids = np.unique(labels)
    ids = ids[ids > 0].astype(np.int64)
    n_channels = image.shape[2]
    n_feat = len(object_feature_names([str(c) for c in range(n_channels)]))
    if ids.size == 0:
        return ids, np.zeros((0, n_feat), np.float32)
    flat = labels.ravel()
    nmax = int(labels.max()) + 1
    area = np.bincount(flat, minlength=nmax)[ids].astype(np.float64)
    ring = expand_labels(labels, distance=rim)
    ring[labels > 0] = 0
    ring_flat = ring.ravel()
    ring_area = np.bincount(ring_flat, minlength=nmax)[ids].astype(np.float64)
    cols = []
    means = []
    for c in range(n_channels):
        v = image[..., c]
        scale = float(np.percentile(v[:: max(1, v.shape[0] // 256), :: max(1, v.shape[1] // 256)], 99.5))
        scale = scale if scale > 0 else 1.0
        eps = 1e-3 * scale
        vflat = v.ravel().astype(np.float64)
        mean = np.bincount(flat, weights=vflat, minlength=nmax)[ids] / area
        rim_sum = np.bincount(ring_flat, weights=vflat, minlength=nmax)[ids]
        # objects with no free ring (fully enclosed) use their own mean as background
        rim_mean = np.where(ring_area > 0, rim_sum / np.maximum(ring_area, 1), mean)
        pct = _label_percentiles(v, labels, ids, (0.1, 0.5, 0.9))
        cols += [mean, pct[:, 0], pct[:, 1], pct[:, 2], rim_mean,
                 np.log((mean + eps) / (rim_mean + eps)), mean / scale]
        means.append((mean, eps))
    for (ma, ea), (mb, eb) in combinations(means, 2):
        cols.append(np.log((ma + ea) / (mb + eb)))
    cols.append(np.log(area))
    X = np.stack(cols, axis=1).astype(np.float32)
    return ids, X


def matched_classes(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    true_classes: Mapping[int, int],
    *,
    iou_threshold: float = 0.5,
) -> dict[int, int]:
    """Class of each predicted object matched (one to one, IoU >= threshold) to a true object.

    Parameters
    ----------
    y_true, y_pred : (M, N) ndarray of int
        True and predicted instance labels.
    true_classes : dict of int to int
        Class of each true object.
    iou_threshold : float, optional

    Returns
    -------
    dict of int to int
        ``{predicted id: class of its matched true object}``; unmatched
        predictions are absent.

    Examples
    --------
    >>> t = np.array([[1, 1, 0, 2, 2]]); p = np.array([[5, 5, 0, 0, 6]])
    >>> matched_classes(t, p, {1: 0, 2: 1})
    {5: 0, 6: 1}
    """
    t_ids, p_ids, _ = matched_pairs(y_true=y_true, y_pred=y_pred, iou_threshold=iou_threshold)
    out = {}
    for t, p in zip(t_ids.tolist(), p_ids.tolist()):
        if t in true_classes:
            out[int(p)] = int(true_classes[t])
    return out


class ObjectClassifier:
    """Learns each object's class from per-object intensity and size features.

    Parameters
    ----------
    rim : int, optional
        Width (px) of the ring around each object used as its local background.
    n_estimators : int, optional
        Trees of the random forest.
    iou_threshold : float, optional
        Minimum IoU for a predicted object to inherit a true object's class in
        :meth:`fit_matched`.
    rng : None, int or numpy Generator, optional
        Seed of the forest (``np.random.default_rng(rng)``).

    Attributes
    ----------
    classes_ : (n_classes,) ndarray of int
        Classes seen in training (sorted).
    n_train_ : int
        Number of training objects.

    Notes
    -----
    The forest uses ``class_weight="balanced_subsample"`` so that a rare class
    (e.g. few loaded lysosomes) is not ignored, and ``min_samples_leaf=2``. With a
    single class in the training data every object gets that class. Training
    must only ever see training (or validation) images; the classifier never
    looks at test labels because a method only receives those splits.

    Examples
    --------
    Six square objects; those with signal in the second channel are class 1:

    >>> img = np.zeros((8, 48, 2), np.float32); lab = np.zeros((8, 48), np.int32)
    >>> for k in range(6):
    ...     lab[2:6, 8 * k + 2:8 * k + 6] = k + 1
    ...     img[2:6, 8 * k + 2:8 * k + 6] = (1.0, k % 2)
    >>> truth = {k + 1: k % 2 for k in range(6)}
    >>> clf = ObjectClassifier(rng=0).fit([img], [lab], [truth])
    >>> clf.predict(img, lab) == truth
    True
    """

    def __init__(self, *, rim: int = 2, n_estimators: int = 100, iou_threshold: float = 0.5, rng=None):
        if rim < 1:
            raise ValueError(f"`rim` must be >= 1, got {rim}")
        if n_estimators < 1:
            raise ValueError(f"`n_estimators` must be >= 1, got {n_estimators}")
        if not 0 < iou_threshold <= 1:
            raise ValueError(f"`iou_threshold` must be in (0, 1], got {iou_threshold}")
        self.rim = int(rim)
        self.n_estimators = int(n_estimators)
        self.iou_threshold = float(iou_threshold)
        self._seed = int(np.random.default_rng(rng).integers(2**31 - 1))
        self._model = None
        self.classes_ = np.zeros(0, np.int64)
        self.n_train_ = 0
        self.n_features_ = None

    @property
    def fitted(self) -> bool:
        return self._model is not None

    # ---------------------------------------------------------------- training
    def _table(self, images, labels, classes) -> tuple[np.ndarray, np.ndarray]:
        if not (len(images) == len(labels) == len(classes)):
            raise ValueError(
                f"`images`, `labels` and `classes` must have the same length, got "
                f"{len(images)}, {len(labels)}, {len(classes)}"
            )
        Xs, ys = [], []
        for img, lab, cls in zip(images, labels, classes):
            ids, X = object_features(img, lab, rim=self.rim)
            keep = np.array([int(i) in cls for i in ids], dtype=bool)
            if keep.any():
                Xs.append(X[keep])
                ys.append(np.array([int(cls[int(i)]) for i in ids[keep]], np.int64))
        if not Xs:
            raise ValueError("no object with a class in the training data: cannot fit an ObjectClassifier")
        return np.concatenate(Xs), np.concatenate(ys)

    def fit(
        self,
        images: Sequence[np.ndarray],
        labels: Sequence[np.ndarray],
        classes: Sequence[Mapping[int, int]],
    ) -> "ObjectClassifier":
        """Fit on objects with known classes.

        Parameters
        ----------
        images : sequence of (M, N[, C]) ndarray
        labels : sequence of (M, N) ndarray of int
        classes : sequence of dict of int to int
            Class of each object id; objects without a class are ignored.

        Returns
        -------
        self
        """
        X, y = self._table(images, labels, classes)
        return self._fit_table(X, y)

    def _fit_table(self, X, y) -> "ObjectClassifier":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(
            n_estimators=self.n_estimators,
            min_samples_leaf=2,
            class_weight="balanced_subsample",
            random_state=self._seed,
            n_jobs=1,
        )
        model.fit(X, y)
        self._model = model
        self.classes_ = model.classes_.astype(np.int64)
        self.n_train_ = int(y.size)
        self.n_features_ = int(X.shape[1])
        logger.info("object classifier: %d training objects, classes %s", y.size, self.classes_.tolist())
        return self

    def fit_matched(
        self,
        images: Sequence[np.ndarray],
        *,
        y_true: Sequence[np.ndarray],
        true_classes: Sequence[Mapping[int, int]],
        y_pred: Sequence[np.ndarray],
        include_truth: bool = True,
    ) -> "ObjectClassifier":
        """Fit on a method's own predicted objects, labelled by matching to the truth.

        Each predicted object matched one to one to a true object with IoU >=
        :attr:`iou_threshold` inherits that object's class, so the classifier
        sees objects as the method segments them. With `include_truth` the true
        objects are added too (more examples, and a fallback when few
        predictions match).

        Parameters
        ----------
        images : sequence of (M, N[, C]) ndarray
        y_true : sequence of (M, N) ndarray of int
            True instance labels of the (training) images.
        true_classes : sequence of dict of int to int
        y_pred : sequence of (M, N) ndarray of int
            The method's predictions on the same images.
        include_truth : bool, optional

        Returns
        -------
        self
        """
        if not (len(images) == len(y_true) == len(true_classes) == len(y_pred)):
            raise ValueError(
                f"`images`, `y_true`, `true_classes` and `y_pred` must have the same length, got "
                f"{len(images)}, {len(y_true)}, {len(true_classes)}, {len(y_pred)}"
            )
        imgs, labs, clss = [], [], []
        for img, t, tc, p in zip(images, y_true, true_classes, y_pred):
            pc = matched_classes(t, p, tc, iou_threshold=self.iou_threshold)
            if pc:
                imgs.append(img)
                labs.append(p)
                clss.append(pc)
            if include_truth:
                imgs.append(img)
                labs.append(t)
                clss.append(tc)
        return self.fit(imgs, labs, clss)

    # --------------------------------------------------------------- inference
    def _require_fitted(self):
        if self._model is None:
            raise RuntimeError("ObjectClassifier is not fitted: call fit() or fit_matched() first")

    def predict_proba(self, image: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities of every object.

        Returns
        -------
        ids : (K,) ndarray of int64
        proba : (K, n_classes) ndarray of float64
            Columns follow :attr:`classes_`.
        """
        self._require_fitted()
        ids, X = object_features(image, labels, rim=self.rim)
        if X.shape[1] != self.n_features_:
            raise ValueError(
                f"`image` gives {X.shape[1]} object features, the classifier was fitted on "
                f"{self.n_features_} (a different number of channels)"
            )
        if ids.size == 0:
            return ids, np.zeros((0, self.classes_.size))
        return ids, self._model.predict_proba(X)

    def predict(self, image: np.ndarray, labels: np.ndarray) -> dict[int, int]:
        """``{object id: class}`` for every object in `labels`."""
        ids, proba = self.predict_proba(image, labels)
        if ids.size == 0:
            return {}
        cls = self.classes_[np.argmax(proba, axis=1)]
        return {int(i): int(c) for i, c in zip(ids, cls)}

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted classifier to file `path` (joblib)."""
        import joblib

        self._require_fitted()
        path = Path(path)
        joblib.dump(
            {
                "rim": self.rim,
                "n_estimators": self.n_estimators,
                "iou_threshold": self.iou_threshold,
                "seed": self._seed,
                "model": self._model,
                "n_train": self.n_train_,
                "n_features": self.n_features_,
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ObjectClassifier":
        """Read a classifier written by :meth:`save`."""
        import joblib

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no saved ObjectClassifier there")
        d = joblib.load(path)
        obj = cls(rim=d["rim"], n_estimators=d["n_estimators"], iou_threshold=d["iou_threshold"])
        obj._seed = d["seed"]
        obj._model = d["model"]
        obj.classes_ = obj._model.classes_.astype(np.int64)
        obj.n_train_ = d["n_train"]
        obj.n_features_ = d["n_features"]
        return obj


# ------------------------------------------------------- a method's classifier
#: File name of a method's object classifier inside its saved state folder.
CLASSIFIER_FILE = "classifier.joblib"


def fit_object_classifier(
    samples: Sequence,
    predictions: Callable[[np.ndarray], np.ndarray] | Sequence[np.ndarray] | None,
    *,
    rng=None,
) -> ObjectClassifier | None:
    """A method's object classifier, or ``None`` when no sample has object classes.

    Parameters
    ----------
    samples : sequence of Sample
        Training samples; those with instance labels and object classes are used.
    predictions : callable, sequence of (M, N) ndarray, or None
        The fitted method's ``predict``, or its label images of `samples` (one
        per sample): the classifier then learns from the method's own objects on
        those images, each matched one inheriting the class of its true object
        (:meth:`ObjectClassifier.fit_matched`), plus the true objects. ``None``:
        from the true objects only (for a method too slow to run on its
        training images).
    rng : int or Generator, optional
    """
    if predictions is not None and not callable(predictions) and len(predictions) != len(samples):
        raise ValueError(
            f"`predictions` must be a callable or one label image per sample; got {len(predictions)} "
            f"for {len(samples)} samples"
        )
    keep = [i for i, s in enumerate(samples) if s.labels is not None and s.classes]
    if not keep:
        return None
    images = [samples[i].image for i in keep]
    truth = [samples[i].labels for i in keep]
    classes = [dict(samples[i].classes) for i in keep]
    if predictions is None:
        return ObjectClassifier(rng=rng).fit(images, truth, classes)
    preds = [predictions(im) for im in images] if callable(predictions) else [predictions[i] for i in keep]
    return ObjectClassifier(rng=rng).fit_matched(images, y_true=truth, true_classes=classes, y_pred=preds)


def save_classifier(classifier: ObjectClassifier | None, folder: str | Path) -> None:
    """Write `classifier` as :data:`CLASSIFIER_FILE` in `folder` (nothing for ``None``)."""
    if classifier is not None:
        classifier.save(Path(folder) / CLASSIFIER_FILE)


def load_classifier(folder: str | Path) -> ObjectClassifier | None:
    """The classifier :func:`save_classifier` wrote in `folder`, or ``None`` if it wrote none."""
    f = Path(folder) / CLASSIFIER_FILE
    return ObjectClassifier.load(f) if f.is_file() else None
