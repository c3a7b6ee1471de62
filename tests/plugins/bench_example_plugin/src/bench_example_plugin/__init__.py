"""An example ``bench`` plugin: a global Otsu threshold and connected components.

The method has one tunable choice, the image channel, picked on the training
images (the one whose Otsu threshold separates the objects best, by F1 at
IoU 0.5); the threshold itself is computed per image, so it survives a change
of intensity range between training and new images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import gaussian, threshold_otsu
from skimage.segmentation import relabel_sequential

from bench.data import Sample
from bench.methods import Method
from bench.metrics import match_instances

__all__ = ["OtsuComponents", "OtsuComponentsParams"]
__version__ = "0.1.0"


@dataclass(frozen=True)
class OtsuComponentsParams:
    """Hyperparameters of :class:`OtsuComponents`.

    Attributes
    ----------
    sigma : float
        Gaussian smoothing (pixels) before thresholding; 0 = none.
    min_size : int
        Objects of fewer pixels are dropped.
    profile : str
        Training budget (``"ci"``, ``"quick"``, ``"full"``); unused, accepted
        because the runner passes it to every method.
    """

    sigma: float = 1.0
    min_size: int = 4
    profile: str = "quick"


class OtsuComponents(Method):
    """Global Otsu threshold of one channel, then 8-connected components."""

    name = "otsu_components"
    Params = OtsuComponentsParams
    tasks = ("instance", "detection")
    reference = "Otsu N. (1979), doi:10.1109/TSMC.1979.4310076"

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.channel = 0

    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "OtsuComponents":
        self._check_fit_data(train, val)
        scored = [s for s in train if s.labels is not None]
        best, best_f1 = 0, -1.0
        for c in range(train[0].image.shape[2]):
            res = [match_instances(y_true=s.labels, y_pred=self._segment(s.image, c), iou_threshold=0.5)
                   for s in scored]
            tp = sum(r.tp for r in res)
            fp = sum(r.fp for r in res)
            fn = sum(r.fn for r in res)
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
            if f1 > best_f1:
                best, best_f1 = c, f1
        self.channel = best
        self.fitted = True
        return self

    def _segment(self, image: np.ndarray, channel: int) -> np.ndarray:
        plane = image[..., channel].astype(np.float32)
        if self.params.sigma > 0:
            plane = gaussian(plane, sigma=self.params.sigma, preserve_range=True)
        if plane.max() <= plane.min():  # a constant image has no objects
            return np.zeros(plane.shape, np.int32)
        labels, _ = ndi.label(plane > threshold_otsu(plane), structure=np.ones((3, 3), bool))
        if self.params.min_size > 1:
            sizes = np.bincount(labels.ravel())
            small = sizes < self.params.min_size
            small[0] = False
            labels[small[labels]] = 0
            labels = relabel_sequential(labels)[0]
        return labels.astype(np.int32)

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self._segment(image, min(self.channel, image.shape[2] - 1))

