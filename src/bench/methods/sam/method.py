"""``sam``: Segment Anything automatic mask generation, zero-shot.

Kirillov A. et al., "Segment Anything", ICCV 2023, doi:10.48550/arXiv.2304.02643.

The image is turned into the 8-bit RGB picture SAM expects (each channel
scaled from its 1st to 99.8th percentile; one channel is repeated three times,
two channels fill red and green, more than three keep the first three), SAM's
``SamAutomaticMaskGenerator`` proposes overlapping masks from a grid of point
prompts, and :mod:`bench.methods.sam.masks` filters them and resolves the
overlaps into one label image (see there for the rules).

``fit`` trains no network. With ``size_filter="train"`` it sets the area
filter from the training objects (masks, or boxes for a detection dataset):
masks smaller than a quarter of the 5th percentile or larger than four times
the 95th percentile of the true object areas are dropped. Where the training
objects carry classes, an
:class:`~bench.methods._shared.ObjectClassifier` is fitted on the
true training objects (SAM itself is not run on the training images) and
classifies SAM's objects. ``max_area_fraction`` always drops masks covering more than
that fraction of the image (SAM's frequent "background" proposal).

Weights are never downloaded unless ``download=true`` (see
:mod:`bench.methods.sam.weights`), and only the registered checkpoints are
used: a file with another SHA-256 is refused, unless its hash is passed as
``allow_unregistered_sha256`` (the end-to-end test's randomly initialised
ViT-B; the hash then shows in the method id, so such results are never taken
for SAM's). Without ``segment_anything``, with a torch/torchvision pair that
does not match (:mod:`bench.methods.sam.deps`), or without the checkpoint,
:meth:`Method.skip` returns the reason and the runner records the method as
skipped.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..base import Method, MissingDependencyError, RemembersScoredObjects
from .._shared import NORM_PERCENTILES, ObjectClassifier, ObjectStats, fit_object_classifier, load_classifier, normalize, save_classifier
from .deps import sam_dependency_reason
from .masks import ORDERS, SCORES, records_to_labels
from .weights import CHECKPOINTS, fetch_checkpoint
from .weights import weights_reason as _weights_reason

__all__ = ["SAMParams", "SAMMethod", "to_rgb_uint8"]

logger = logging.getLogger(__name__)

def to_rgb_uint8(image: np.ndarray, *, percentiles: tuple[float, float] = NORM_PERCENTILES) -> np.ndarray:
    """The ``(Y, X, 3)`` uint8 picture SAM is given for a ``(Y, X, C)`` image.

    Examples
    --------
    >>> img = np.zeros((2, 2, 1), np.float32); img[0, 0, 0] = 1.0
    >>> to_rgb_uint8(img, percentiles=(0, 100))[..., 0].tolist()
    [[255, 0], [0, 0]]
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] < 1:
        raise ValueError(f"`image` must be a (Y, X, C) array, got shape {getattr(image, 'shape', None)}")
    planes = []
    for c in range(min(3, image.shape[2])):
        planes.append(np.clip(normalize(image[..., c], percentiles), 0, 1))
    if len(planes) == 1:
        planes = planes * 3
    elif len(planes) == 2:
        planes.append(np.zeros_like(planes[0]))
    return np.round(np.stack(planes, axis=-1) * 255).astype(np.uint8)


@dataclass(frozen=True)
class SAMParams:
    """Parameters of :class:`SAMMethod`.

    Attributes
    ----------
    model : {"vit_b", "vit_l", "vit_h"}
        Checkpoint (see :data:`bench.methods.sam.weights.CHECKPOINTS`).
    weights_dir : str
        Folder holding the checkpoint; empty: ``$BENCH_SAM_WEIGHTS``, else
        ``<bench cache>/weights/sam``.
    download : bool
        Allow downloading the checkpoint (with pooch, hash-checked).
    points_per_side, pred_iou_thresh, stability_score_thresh, crop_n_layers
        ``SamAutomaticMaskGenerator`` settings (its defaults: 32, 0.88, 0.95, 0).
    size_filter : {"train", "none"}
        Area filter from the training objects (see the module docstring), or none.
    max_area_fraction : float
        Drop masks larger than this fraction of the image.
    order, min_visible_fraction, score
        Overlap resolution (:func:`bench.methods.sam.masks.resolve_overlaps`).
    allow_unregistered_sha256 : str
        SHA-256 (hex) of one checkpoint accepted although it is not in
        :data:`~bench.methods.sam.weights.CHECKPOINTS`; for tests with random
        weights only. Empty (the default): only registered checkpoints.
    """

    model: Literal["vit_b", "vit_l", "vit_h"] = "vit_b"
    weights_dir: str = ""
    download: bool = False
    points_per_side: int = 32
    pred_iou_thresh: float = 0.88
    stability_score_thresh: float = 0.95
    crop_n_layers: int = 0
    size_filter: Literal["train", "none"] = "train"
    max_area_fraction: float = 0.5
    order: Literal["predicted_iou", "stability_score", "smaller_on_top"] = "predicted_iou"
    min_visible_fraction: float = 0.5
    score: Literal["predicted_iou", "stability_score", "product"] = "predicted_iou"
    allow_unregistered_sha256: str = ""

    def validate(self) -> None:
        if self.model not in CHECKPOINTS:
            raise ValueError(f"sam: `model` must be one of {sorted(CHECKPOINTS)}, got {self.model!r}")
        if self.points_per_side < 1:
            raise ValueError(f"sam: `points_per_side` must be >= 1, got {self.points_per_side}")
        for name in ("pred_iou_thresh", "stability_score_thresh", "min_visible_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"sam: `{name}` must be in [0, 1], got {v}")
        if not 0.0 < self.max_area_fraction <= 1.0:
            raise ValueError(f"sam: `max_area_fraction` must be in (0, 1], got {self.max_area_fraction}")
        if self.crop_n_layers < 0:
            raise ValueError(f"sam: `crop_n_layers` must be >= 0, got {self.crop_n_layers}")
        if self.order not in ORDERS or self.score not in SCORES:
            raise ValueError(f"sam: `order` must be in {ORDERS} and `score` in {SCORES}")
        if self.allow_unregistered_sha256 and not re.fullmatch(r"[0-9a-f]{64}", self.allow_unregistered_sha256):
            raise ValueError(
                "sam: `allow_unregistered_sha256` must be empty or 64 lowercase hex digits, "
                f"got {self.allow_unregistered_sha256!r}"
            )


class SAMMethod(RemembersScoredObjects, Method):
    """Segment Anything (automatic mask generation), zero-shot.

    A grid of point prompts over the percentile-scaled 8-bit RGB image gives
    SAM's overlapping mask proposals; proposals are filtered by predicted IoU,
    stability and area (the area range taken from the training objects when
    ``size_filter="train"``) and resolved into one int32 label image by
    :mod:`bench.methods.sam.masks`. Nothing is trained. Skipped, with the
    reason, where segment_anything or the checkpoint is missing or torch and
    torchvision are not a matching pair.
    """

    name = "sam"
    Params = SAMParams
    requires = ("torch", "torchvision", "segment_anything")
    extra = "sam"
    presets = {"sam_vit_b": {"model": "vit_b"}, "sam_vit_h": {"model": "vit_h"}}
    reference = "Kirillov et al., Segment Anything, ICCV 2023, doi:10.48550/arXiv.2304.02643"

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.min_area = 0
        self.max_area_train: int | None = None
        self._generator = None
        self.classifier: ObjectClassifier | None = None

    @classmethod
    def dependency_reason(cls, *, probe: bool = False) -> str | None:
        """What is missing or mismatched among torch, torchvision and segment_anything, and the fix.

        See :func:`bench.methods.sam.deps.sam_dependency_reason`; torchvision is
        never imported here.
        """
        return sam_dependency_reason(probe=probe)

    def weights_reason(self) -> str | None:
        p = self.params
        return _weights_reason(p.model, p.weights_dir or None, download=p.download)

    # ---------------------------------------------------------------- fitting
    def fit(self, train, val, *, rng=None) -> "SAMMethod":
        self._check_fit_data(train, val)
        if self.params.size_filter == "train":
            stats = ObjectStats.from_samples(train)  # masks, else boxes
            self.min_area = int(np.floor(stats.area_p05 / 4))
            self.max_area_train = int(np.ceil(stats.area_p95 * 4))
            logger.info("sam: area filter [%d, %d] px from %d training objects", self.min_area, self.max_area_train, stats.n_objects)
        # SAM is not run on the training images (minutes per image on a CPU): the
        # classifier learns from the true objects only
        self.classifier = fit_object_classifier(train, None, rng=rng)
        self.fitted = True
        return self

    # ------------------------------------------------------------- inference
    def _mask_generator(self):
        if self._generator is None:
            # a mismatched torchvision can crash the interpreter on import: unless this process
            # has imported it already, import it in a subprocess first
            reason = sam_dependency_reason(probe="torchvision" not in sys.modules)
            if reason is not None:
                raise MissingDependencyError(f"sam: {reason}")
            import torch
            from segment_anything import SamAutomaticMaskGenerator, sam_model_registry

            p = self.params
            ckpt = fetch_checkpoint(
                p.model, p.weights_dir or None, download=p.download, allow_sha256=p.allow_unregistered_sha256
            )
            device = "cuda" if torch.cuda.is_available() else "cpu"
            sam = sam_model_registry[p.model](checkpoint=str(ckpt)).to(device)
            self._generator = SamAutomaticMaskGenerator(
                sam,
                points_per_side=p.points_per_side,
                pred_iou_thresh=p.pred_iou_thresh,
                stability_score_thresh=p.stability_score_thresh,
                crop_n_layers=p.crop_n_layers,
                output_mode="binary_mask",
            )
        return self._generator

    def _max_area(self, shape) -> int:
        cap = int(self.params.max_area_fraction * shape[0] * shape[1])
        return cap if self.max_area_train is None else min(cap, self.max_area_train)

    def labels_from_records(self, records, shape) -> tuple[np.ndarray, dict[int, float]]:
        """The label image and scores this method makes of SAM's records (no model needed)."""
        p = self.params
        return records_to_labels(
            records,
            shape=tuple(shape),
            min_area=self.min_area,
            max_area=self._max_area(shape),
            order=p.order,
            min_visible_fraction=p.min_visible_fraction,
            score=p.score,
        )

    def predict(self, image: np.ndarray) -> np.ndarray:
        records = self._mask_generator().generate(to_rgb_uint8(image))
        labels, scores = self.labels_from_records(records, image.shape[:2])
        self._remember(image, labels, scores)
        return labels

    # ------------------------------------------------------------ persistence
    def _save_state(self, path: Path) -> None:
        import json

        (path / "state.json").write_text(json.dumps({"min_area": self.min_area, "max_area_train": self.max_area_train}))
        save_classifier(self.classifier, path)

    def _load_state(self, path: Path) -> None:
        import json

        state_file = path / "state.json"
        if not state_file.is_file():
            raise ValueError(f"{path}: no state.json; not a saved sam method")
        d = json.loads(state_file.read_text())
        self.min_area = int(d["min_area"])
        self.max_area_train = None if d["max_area_train"] is None else int(d["max_area_train"])
        self.classifier = load_classifier(path)
