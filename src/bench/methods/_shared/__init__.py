"""Parts several method families use (and no family's own logic).

* :mod:`.normalize` -- :func:`normalize`, per-image percentile normalisation
  (:data:`NORM_PERCENTILES`), the one every family uses;
* :mod:`.resize` -- zooming and integer rescaling of images and label images;
* :mod:`.classifier` -- :class:`ObjectClassifier` (the class of each object) with
  :func:`fit_object_classifier`, :func:`save_classifier`, :func:`load_classifier`;
* :mod:`.stats` -- :class:`ObjectStats`, object sizes of a training split;
* :mod:`.fit` -- :func:`fit_mode`, the kind of truth training samples carry.
"""

from .classifier import (
    CLASSIFIER_FILE,
    ObjectClassifier,
    fit_object_classifier,
    load_classifier,
    matched_classes,
    object_feature_names,
    object_features,
    save_classifier,
)
from .fit import fit_mode
from .normalize import NORM_PERCENTILES, normalize, percentile_range
from .resize import (
    downscale_image,
    downscale_labels,
    resize_image,
    resize_nearest,
    upscale_labels,
    zoom_image,
    zoom_labels,
)
from .stats import ObjectStats

__all__ = [
    "CLASSIFIER_FILE", "ObjectClassifier", "fit_object_classifier", "load_classifier", "matched_classes",
    "object_feature_names", "object_features", "save_classifier", "fit_mode", "NORM_PERCENTILES", "normalize",
    "percentile_range", "downscale_image", "downscale_labels", "resize_image", "resize_nearest", "upscale_labels",
    "zoom_image", "zoom_labels", "ObjectStats",
]
