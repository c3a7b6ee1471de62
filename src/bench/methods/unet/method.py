"""The ``unet`` method: a PyTorch U-Net for instances (with object classes) or pixel classes.

torch is imported inside functions only, so importing this module (and
:mod:`bench.methods`) stays cheap.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from ...data.sample import DatasetInfo, Sample
from .._shared import NORM_PERCENTILES, fit_mode, normalize, percentile_range, resize_image, resize_nearest
from .._shared.box_supervision import box_labels_hint, box_supervised_samples, box_supervision_skip
from ...curves import CurveRecorder, checkpoint_fractions, checkpoint_steps
from ..base import Method, MissingDependencyError, image_digest
from ._postprocess import (
    CI_FG_GRID,
    CI_SEED_GRID,
    FG_GRID,
    SEED_GRID,
    Thresholds,
    instances_from_probs,
    object_classes,
    object_scores,
    tune_thresholds,
)
from ._targets import FIRST_OBJECT_CLASS, instance_targets
from ._weak import parse_labels_spec, weak_training_samples
from ...metrics import match_dataset

__all__ = ["UNetMethod", "UNetParams", "parse_labels_spec", "TARGET_DIAMETER"]

logger = logging.getLogger(__name__)

#: With ``scale=None`` images are shrunk so that the median training object is
#: about this many pixels across (never enlarged).
TARGET_DIAMETER = 32.0
#: Smallest automatic scale.
MIN_SCALE = 0.25
#: Candidate smallest object sizes, times the 5th percentile of the training object areas.
MIN_SIZE_FACTORS = (0.25, 0.5, 1.0)
#: Validation images evaluated at each learning-curve checkpoint (the first ones);
#: the ``ci`` profile (a test budget) evaluates :data:`CI_CURVE_VAL_IMAGES`.
CURVE_VAL_IMAGES = 4
CI_CURVE_VAL_IMAGES = 2

@dataclass(frozen=True)
class UNetParams:
    """Hyperparameters of :class:`UNetMethod`.

    Attributes
    ----------
    depth : int
        Resolution levels (4 poolings for 5 levels).
    features : int
        Feature channels of the first level; level ``l`` has ``features * 2**l``.
    loss : {"ce", "gdice", "ce+gdice"}
        Class-weighted cross-entropy (median-frequency weights), generalised
        Dice (Sudre et al. 2017), or their sum.
    labels : str
        Source of the training labels: ``"truth"`` (MDL: the training split's
        ground truth), ``"weak:<method-id>"`` or ``"weak-untuned:<method-id>"``
        (CDL: a conventional method's output on the training images; see
        :class:`UNetMethod`), or ``"boxes:<maker>"`` (masks made from the
        samples' boxes by ``ellipse``, ``box`` or ``threshold``: runs on a
        detection dataset; :mod:`bench.methods._shared.box_supervision`).
    profile : {"ci", "quick", "full"}
        Training budget: seconds (tests), about half a minute on 2 CPU cores for
        the default architecture, or the papers' budgets (for a GPU).
    recipe : {"lysoquant", "cdl"}
        Which paper's optimiser schedule the ``full`` profile uses; in the
        ``quick`` profile (Adam for a fixed number of steps) it sets the
        number of steps, equal within each paper's comparison (ignored by ``ci``).
    iterations : int or None
        Override the profile's number of steps (0: an untrained network, the
        baseline a trained one must beat).
    scale : float or None
        Working scale (images are resized by it before the network); ``None``:
        ``min(1, 32 px / median training object diameter)``, at least 0.25.
    normalize : {"image", "dataset"}
        Per-channel 1st-99.8th percentile normalisation
        (:func:`bench.methods._shared.normalize`), with percentiles from each
        image (the default: survives a change of bit depth or offset between
        training and new images) or from the training images (kept with the
        model; a new image whose range does not match theirs gets a warning).
    augment : bool
        Flips, 90-degree rotations, elastic deformation, gamma / contrast curves.
    classes : bool
        Learn the data's object classes (one interior class each) when it has
        them; ``False``: one interior class, the classes ignored, as with
        box-made masks, which carry none (the like-for-like mask-trained
        baseline of box supervision: background / boundary / interior either way).
    tile, overlap : int
        Tiled inference: tile side and minimal overlap (working-scale pixels).
    """

    depth: int = 5
    features: int = 16
    loss: Literal["ce", "gdice", "ce+gdice"] = "ce"
    labels: str = "truth"
    profile: Literal["ci", "quick", "full"] = "quick"
    recipe: Literal["lysoquant", "cdl"] = "lysoquant"
    iterations: int | None = None
    scale: float | None = None
    normalize: Literal["image", "dataset"] = "image"
    augment: bool = True
    classes: bool = True
    tile: int = 1024
    overlap: int = 64

    def validate(self) -> None:
        if not 2 <= self.depth <= 8:
            raise ValueError(f"parameter `depth` must be in 2..8, got {self.depth}")
        if not 1 <= self.features <= 256:
            raise ValueError(f"parameter `features` must be in 1..256, got {self.features}")
        parse_labels_spec(self.labels)
        if self.iterations is not None and self.iterations < 0:
            raise ValueError(f"parameter `iterations` must be >= 0 or None, got {self.iterations}")
        if self.scale is not None and not 0.05 <= self.scale <= 4.0:
            raise ValueError(f"parameter `scale` must be in [0.05, 4] or None, got {self.scale}")
        multiple = 2 ** (self.depth - 1)
        if self.tile < multiple or self.tile % multiple:
            raise ValueError(
                f"parameter `tile` ({self.tile}) must be a positive multiple of 2**(depth-1) = {multiple}"
            )
        if not 0 <= self.overlap < self.tile // 2:
            raise ValueError(f"parameter `overlap` must be in [0, tile/2), got {self.overlap}")


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("the unet method needs torch: pip install 'bench[torch]'") from exc
    return torch


def _device():
    torch = _torch()
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _object_diameters(labels_list: Sequence[np.ndarray]) -> np.ndarray:
    out = []
    for lab in labels_list:
        area = np.bincount(lab.ravel())[1:]
        out.append(2.0 * np.sqrt(area[area > 0] / np.pi))
    return np.concatenate(out) if out else np.zeros(0)


class UNetMethod(Method):
    """U-Net (Ronneberger et al. 2015) trained from scratch; instances via a boundary class.

    **Network.** ``depth`` resolution levels, ``features * 2**l`` channels at
    level ``l`` (two 3x3 convolutions + batch norm + ReLU per level, 2x2 max
    pooling, 2x2 transposed convolutions, skip connections, 'same' padding).
    The presets ``unet5x64`` (5 levels, 64 features: the original U-Net) and
    ``unet7x16`` (7 levels, 16 features) are the two architectures LysoQuant
    compared (Morone et al. 2020). Input channels are the dataset's channels,
    each normalised to its 1st-99.8th percentiles.

    **Outputs and instances.** For instance datasets the softmax has ``2 + K``
    classes: background, *boundary*, and the interior of each of the K object
    classes (``info.class_names``; K = 1 without classes). Boundary pixels are
    the contact pixels of touching objects plus the inner rim of objects large
    enough to keep half of their pixels as interior (see
    :func:`bench.methods.unet._targets.boundary_mask`). Instances: threshold
    the foreground probability ``1 - p(bg)`` at ``fg``, seed objects at
    connected components of ``p(interior) > seed``, grow the seeds by a
    watershed of ``-p(interior)`` within the foreground, drop objects below
    ``min_size``. On the **validation** split, ``fg`` and ``seed`` (over a
    grid), then ``min_size`` (0.25, 0.5 or 1 times the 5th percentile of the
    training object areas) are chosen by the pooled F1 at IoU 0.5
    (:func:`bench.metrics.match_instances`), at the working scale, and saved
    with the model. Per-object classes (``predict_classes``) are the object
    class with the highest mean probability inside each instance; scores
    (``predict_scores``) are the mean foreground probability. For a semantic
    dataset (synth-rosella) the softmax has one class per pixel class and
    ``predict`` returns its arg-max.

    **Training.** Random square patches (half of them centred on an object),
    augmented on the fly by flips, 90-degree rotations, an elastic deformation
    and random gamma / contrast / brightness curves, all drawn from the fit's
    ``rng``; loss ``ce`` (median-frequency class weights), ``gdice`` or both.
    Profiles: ``ci`` (6 Adam steps on 2x64 px patches and a 2x2 threshold
    grid: for tests only), ``quick`` (Adam on 4x128 px patches, learning
    rate 2e-3, x0.2 for the last quarter: 64 steps with
    ``recipe="lysoquant"``, the same for both of LysoQuant's architectures,
    so the wider network costs more time; 128 steps with ``recipe="cdl"``,
    the same for MDL and CDL), ``full`` with ``recipe="lysoquant"``
    (300,000 Adam steps, one 512 px patch, learning rate 1e-4 then 5e-5 from step 150,000) or
    ``recipe="cdl"`` (15 epochs of SGD, momentum 0.9, L2 1e-3, batch 8 x 256
    px, learning rate 1e-3 multiplied by 0.8 every 3 epochs; an epoch is as
    many patches as it takes to tile the training images once). Images whose
    median object is larger than 32 px are shrunk (``scale``) for speed;
    probabilities are resized back before the instances are formed. Inference
    runs tile by tile (``tile``, blended over ``overlap`` px), so 2048x2048
    fields fit in memory. The device is CUDA when present, else the CPU; torch
    and numpy are seeded from the fit's ``rng`` so a run repeats.

    **Training labels: MDL vs CDL** (the seed paper's question). With
    ``labels="truth"`` (MDL, preset ``unet_mdl``) the targets are the training
    split's ground truth. With ``labels="weak:<method-id>"`` (CDL, preset
    ``unet_cdl``) they are produced by a conventional ``bench`` method: it is
    fitted exactly as it is in the benchmark, ``fit(train, val)`` -- so it may
    use the train / validation truth to choose its few parameters (smoothing,
    seed distance, minimum area, object classifier), as a person sets up a
    pipeline on a few checked images -- and then its ``predict`` (and
    ``predict_classes``) output on the *training images* become the U-Net's
    targets. The truth label images of the training split are never copied
    into the targets, and the CDL U-Net is compared with exactly the pipeline
    that labelled its data. The U-Net's thresholds are still chosen on the
    validation truth, as for every method of the benchmark. With
    ``labels="weak-untuned:<method-id>"`` (pure CDL) no ground truth is used at
    all: the conventional method's ``fit`` receives the samples stripped of
    truth (:meth:`Sample.image_only`), so it runs with the parameters given
    in its id or its defaults (a method whose fit needs truth raises), and
    the U-Net's thresholds are chosen against the weak labels of the
    validation images.

    **Box supervision.** With ``labels="boxes:<maker>"`` the training and
    validation truth are masks made from the samples' boxes
    (:mod:`bench.methods._shared.box_supervision`; the masks' boxes on a
    dataset with masks), so the U-Net runs on a detection dataset; its
    thresholds are chosen against the validation box masks, and its
    instances are scored by box IoU there. The targets keep the same three
    classes (background, boundary, interior) as with ``labels="truth"``.

    References: Ronneberger et al. 2015, doi:10.1007/978-3-319-24574-4_28;
    Morone et al. 2020 (LysoQuant), Mol Biol Cell 31(14):1512,
    doi:10.1091/mbc.E20-04-0269; Sudre et al. 2017 (generalised Dice),
    doi:10.1007/978-3-319-67558-9_28.
    """

    name = "unet"
    Params = UNetParams
    tasks = ("instance", "classification", "semantic")
    requires = ("torch",)
    extra = "torch"
    presets = {
        "unet5x64": {"depth": 5, "features": 64},
        "unet7x16": {"depth": 7, "features": 16},
        "unet_mdl": {"labels": "truth", "recipe": "cdl"},
        "unet_cdl": {"labels": "weak:isodata_watershed", "recipe": "cdl"},
    }
    reference = (
        "Ronneberger et al. 2015 (U-Net, doi:10.1007/978-3-319-24574-4_28); "
        "LysoQuant, Morone et al. 2020 (doi:10.1091/mbc.E20-04-0269)"
    )

    def __init__(self, params: Any | None = None, **kwargs):
        super().__init__(params, **kwargs)
        self.model = None
        self._inference_model = None
        self.config: dict[str, Any] = {}
        self.thresholds: Thresholds | None = None
        self.history: dict[str, Any] = {}
        self._cache: tuple[bytes, np.ndarray] | None = None

    # ------------------------------------------------------------ availability
    def skip(self, info: DatasetInfo) -> str | None:
        kind, weak_id = parse_labels_spec(self.params.labels)
        if kind == "boxes":
            return self.dependency_reason() or box_supervision_skip(weak_id, info, self.tasks)
        reason = box_labels_hint(super().skip(info), info)
        if reason is not None:
            return reason
        if kind != "truth":
            from ..registry import get_method  # cycle: the registry imports this module

            try:
                weak = get_method(weak_id)
            except (KeyError, ValueError) as exc:
                return f"weak-label method {weak_id!r} is not available: {exc}"
            weak_reason = weak.skip(info)
            if weak_reason is not None:
                return f"weak-label method {weak.id}: {weak_reason}"
            if "semantic" in info.tasks and "instance" not in info.tasks and "semantic" not in weak.tasks:
                return f"weak-label method {weak.id} does not produce pixel classes"
        return None

    @property
    def multiple(self) -> int:
        return 2 ** (self.params.depth - 1)

    # ---------------------------------------------------------------- training
    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "UNetMethod":
        """Train the network on `train` and choose the thresholds on `val`.

        Parameters
        ----------
        train, val : sequence of Sample
            Samples with ground truth (instance labels, optionally classes, or
            semantic labels).
        rng : None, int or numpy Generator
            Seeds numpy (patches, augmentation) and torch (initial weights).
        """
        torch = _torch()
        from ._augment import Augmentation  # lazy: pulls torch
        from ._model import UNet  # lazy: pulls torch
        from ._training import PatchSampler, budget_for, class_weights, train_loop  # lazy: pulls torch

        self._check_fit_data(train, val)
        rng = np.random.default_rng(rng)
        p = self.params
        self.fitted = False
        self._cache = None
        kind, weak_id = parse_labels_spec(p.labels)
        weak_info: dict[str, Any] = {}
        tune_val = list(val)
        if kind == "truth":
            fit_train = list(train)
        elif kind == "boxes":
            fit_train, tune_val, weak_info = box_supervised_samples(train, val, weak_id)
            weak_info = {"kind": "boxes", **weak_info}
        else:
            fit_train, tune_weak, weak_info = weak_training_samples(
                kind, weak_id, train, val, rng=int(rng.integers(2**31))
            )
            if kind == "weak-untuned":
                tune_val = tune_weak
        mode = fit_mode(fit_train)
        if mode not in ("instance", "semantic"):
            raise ValueError(
                f"unet: every training sample needs instance labels (or every one semantic labels); got {mode} truth"
            )
        cfg: dict[str, Any] = {"mode": mode, "in_channels": len(self.channels), "labels": weak_info or "truth"}

        # normalisation and working scale
        if p.normalize == "dataset":
            lo, hi = _dataset_percentiles([s.image for s in fit_train])
            # each training image's normalised range, to tell new images that do not fit
            cfg["norm"] = {"lo": lo.tolist(), "hi": hi.tolist()}
        if mode == "instance":
            n_cls = _n_object_classes(fit_train + ([] if kind != "truth" else list(val))) if p.classes else 1
            cfg["n_object_classes"] = n_cls
            cfg["n_outputs"] = FIRST_OBJECT_CLASS + n_cls
            diam = _object_diameters([s.labels for s in fit_train])
            if p.scale is not None:
                scale = p.scale
            elif diam.size:
                scale = float(np.clip(round(TARGET_DIAMETER / float(np.median(diam)), 2), MIN_SCALE, 1.0))
            else:
                scale = 1.0
        else:
            n_sem = max(int(s.semantic.max()) for s in [*fit_train, *tune_val] if s.semantic is not None) + 1
            cfg["n_outputs"] = max(2, n_sem)
            scale = p.scale if p.scale is not None else 1.0
        cfg["scale"] = scale
        self.config = cfg

        # training arrays at the working scale
        images, targets, areas = [], [], []
        for s in fit_train:
            x = self._work_image(s.image)
            t = self._work_target(s, x.shape[1:])
            images.append(x)
            targets.append(t)
            if mode == "instance":
                lab = resize_nearest(s.labels, x.shape[1:])
                a = np.bincount(lab.ravel())[1:]
                areas.append(a[a > 0])
        all_areas = np.concatenate(areas) if areas else np.zeros(0)
        p05 = float(np.percentile(all_areas, 5)) if all_areas.size else 4.0
        min_sizes = [int(max(1, math.floor(f * p05))) for f in MIN_SIZE_FACTORS]

        per_epoch = sum(math.ceil(x.shape[1] / 256) * math.ceil(x.shape[2] / 256) for x in images)
        budget = budget_for(p.profile, p.recipe, iterations=p.iterations, patches_per_epoch=per_epoch)
        patch = max(self.multiple, math.ceil(budget.patch / self.multiple) * self.multiple)
        budget = dataclasses.replace(budget, patch=patch)
        cfg["budget"] = dataclasses.asdict(budget)
        weights = class_weights(targets, cfg["n_outputs"])
        cfg["class_weights"] = [round(float(v), 6) for v in weights]

        device = _device()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**31)))
            model = UNet(cfg["in_channels"], cfg["n_outputs"], depth=p.depth, features=p.features)
        model.to(device)
        sampler = PatchSampler(images, targets, patch)
        curve_val = tune_val if tune_val else fit_train
        recorder, on_checkpoint = self._curve_recorder(
            model, curve_val, budget.iterations, loss=p.loss, weights=weights, min_size=min_sizes[1], device=device,
        )
        hist = train_loop(
            model, sampler, budget, loss=p.loss, weights=weights,
            augmentation=Augmentation() if p.augment else None, rng=rng, device=device,
            desc=f"{self.label} train", checkpoints=checkpoint_steps(budget.iterations, checkpoint_fractions(p.profile)),
            on_checkpoint=on_checkpoint,
        )
        recorder.overhead_s = hist["checkpoint_seconds"]
        self.learning_curve = recorder
        model.eval()
        self.model = model
        self._inference_model = None
        hist.update(device=str(device), threads=torch.get_num_threads(), iterations=budget.iterations)
        self.history = hist
        logger.info("%s: trained %d steps in %.1f s on %s", self.id, budget.iterations, hist["train_seconds"], device)

        # thresholds on the validation split (working scale)
        if mode == "instance":
            self.thresholds = self._tune(tune_val if tune_val else fit_train, min_sizes)
            if not tune_val:
                logger.warning("%s: no validation samples; thresholds chosen on the training images", self.id)
        else:
            self.thresholds = None
        self.fitted = True
        return self

    def _curve_recorder(self, model, samples: Sequence[Sample], total: int, *, loss: str, weights: np.ndarray,
                        min_size: int, device):
        """A :class:`~bench.curves.CurveRecorder` and the checkpoint callback of :func:`train_loop`.

        At each checkpoint the network predicts the first :data:`CURVE_VAL_IMAGES`
        (``ci``: :data:`CI_CURVE_VAL_IMAGES`) validation images (working scale): the validation loss is the training loss
        on them, the validation F1 (instance datasets) is the pooled F1 at IoU 0.5
        with fixed post-processing (fg 0.5, seed 0.5), not the tuned thresholds.
        """
        import torch
        import torch.nn.functional as F

        from ._tiling import predict_tiled  # lazy: pulls torch
        from ._training import generalised_dice_loss  # lazy: pulls torch

        recorder = CurveRecorder(total=total, unit="step")
        val = list(samples)[:CI_CURVE_VAL_IMAGES if self.params.profile == "ci" else CURVE_VAL_IMAGES]
        xs = [self._work_image(s.image) for s in val]
        ts = [self._work_target(s, x.shape[1:]) for s, x in zip(val, xs)]
        labs = ([resize_nearest(s.labels, x.shape[1:]) for s, x in zip(val, xs)]
                if self.config["mode"] == "instance" else None)
        w = torch.as_tensor(weights, dtype=torch.float32)

        def on_checkpoint(step: int, train_loss: float) -> None:
            losses, preds = [], []
            for x, t in zip(xs, ts):
                probs = predict_tiled(model, x, n_classes=self.config["n_outputs"], multiple=self.multiple,
                                      tile=self.params.tile, overlap=self.params.overlap, device=device)
                logits = torch.log(torch.from_numpy(probs).clamp_min(1e-8))[None]
                yt = torch.from_numpy(t)[None]
                value = 0.0
                if "ce" in loss.split("+"):
                    value += float(F.nll_loss(logits, yt, weight=w))
                if "gdice" in loss.split("+"):
                    value += float(generalised_dice_loss(logits, yt))
                losses.append(value)
                if labs is not None:
                    preds.append(instances_from_probs(probs, fg=0.5, seed=0.5, min_size=min_size))
            f1 = (float(match_dataset(labs, preds, iou_threshold=0.5).f1) if labs is not None and preds
                  else float("nan"))
            recorder.add(step, train_loss=train_loss, val_loss=float(np.mean(losses)) if losses else float("nan"),
                         val_f1=f1)

        return recorder, on_checkpoint

    def _tune(self, samples: Sequence[Sample], min_sizes: Sequence[int]) -> Thresholds:
        probs, truth = [], []
        for s in samples:
            if s.labels is None:
                raise ValueError(f"{self.name}: validation sample {s.name!r} has no instance labels")
            p = self._work_probs(s.image)
            probs.append(p)
            truth.append(resize_nearest(s.labels, p.shape[1:]))
        ci = self.params.profile == "ci"
        th = tune_thresholds(
            probs, truth, min_sizes=min_sizes[:2] if ci else min_sizes,
            fg_grid=CI_FG_GRID if ci else FG_GRID, seed_grid=CI_SEED_GRID if ci else SEED_GRID,
        )
        logger.info(
            "%s: thresholds fg=%.2f seed=%.2f min_size=%d (validation F1 %.3f)",
            self.id, th.fg, th.seed, th.min_size, th.val_f1,
        )
        return th

    # -------------------------------------------------------------- arrays
    def _normalise(self, image: np.ndarray) -> np.ndarray:
        """(Y, X, C) -> (C, Y, X) float32, percentiles mapped to 0 / 1."""
        if self.params.normalize == "image":
            return np.ascontiguousarray(np.moveaxis(normalize(image), 2, 0))
        lo = np.asarray(self.config["norm"]["lo"], np.float32)
        hi = np.asarray(self.config["norm"]["hi"], np.float32)
        _warn_outside_training_range(image, lo, hi, who=self.label)
        x = np.moveaxis(np.asarray(image, np.float32), 2, 0)
        return (x - lo[:, None, None]) / np.maximum(hi - lo, 1e-6)[:, None, None]

    def _work_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        s = self.config["scale"]
        return (max(1, int(round(shape[0] * s))), max(1, int(round(shape[1] * s))))

    def _work_image(self, image: np.ndarray) -> np.ndarray:
        x = self._normalise(image)
        return resize_image(x, self._work_shape(image.shape[:2]))

    def _work_target(self, s: Sample, shape: tuple[int, int]) -> np.ndarray:
        if self.config["mode"] == "semantic":
            return resize_nearest(s.semantic, shape).astype(np.int64)
        lab = resize_nearest(s.labels, shape)
        k = self.config["n_object_classes"]
        return instance_targets(lab, dict(s.classes) if (k > 1 and s.classes is not None) else None, k)

    def _work_probs(self, image: np.ndarray) -> np.ndarray:
        from ._model import fused_for_inference  # lazy: pulls torch
        from ._tiling import predict_tiled  # lazy: pulls torch

        if self._inference_model is None:
            self._inference_model = fused_for_inference(self.model, channels_last=_device().type == "cpu")
        x = self._work_image(image)
        return predict_tiled(
            self._inference_model, x, n_classes=self.config["n_outputs"], multiple=self.multiple,
            tile=self.params.tile, overlap=self.params.overlap, device=_device(),
        )

    def predict_probs(self, image: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``(n_outputs, Y, X)`` at the image's resolution.

        The last result is kept (keyed by a hash of the image) so that
        :meth:`predict`, :meth:`predict_classes` and :meth:`predict_scores` on
        the same image run the network once.
        """
        self._require_fitted()
        image = np.asarray(image, np.float32)
        if image.ndim != 3 or image.shape[2] != self.config["in_channels"]:
            raise ValueError(
                f"{self.name}: `image` must be (Y, X, {self.config['in_channels']}), got shape {image.shape}"
            )
        key = image_digest(image)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        p = self._work_probs(image)
        if p.shape[1:] != image.shape[:2]:
            p = resize_image(p, image.shape[:2])
        self._cache = (key, p)
        return p

    def _require_fitted(self) -> None:
        if not self.fitted or self.model is None:
            raise RuntimeError(f"{self.id}: call fit() (or load a fitted method) before predicting")

    # --------------------------------------------------------------- predict
    def predict(self, image: np.ndarray) -> np.ndarray:
        """Instance labels (or pixel classes for a semantic dataset) of a ``(Y, X, C)`` image."""
        probs = self.predict_probs(image)
        if self.config["mode"] == "semantic":
            return probs.argmax(axis=0).astype(np.int32)
        th = self.thresholds
        min_size = max(1, int(round(th.min_size / self.config["scale"] ** 2)))
        return instances_from_probs(probs, fg=th.fg, seed=th.seed, min_size=min_size)

    def predict_classes(self, image: np.ndarray, labels: np.ndarray) -> dict[int, int] | None:
        """Class of each object (highest mean class probability), or None without classes."""
        if self.config.get("mode") != "instance" or self.config.get("n_object_classes", 1) < 2:
            return None
        return object_classes(self.predict_probs(image), labels)

    def predict_scores(self, image: np.ndarray, labels: np.ndarray) -> dict[int, float] | None:
        """Mean foreground probability of each object (None for semantic outputs)."""
        if self.config.get("mode") != "instance":
            return None
        return object_scores(self.predict_probs(image), labels)

    # ----------------------------------------------------------- persistence
    def _save_state(self, path: Path) -> None:
        torch = _torch()
        if self.model is None:
            raise RuntimeError(f"{self.id}: nothing to save; call fit() first")
        torch.save(self.model.state_dict(), path / "weights.pt")
        state = {
            "config": self.config,
            "thresholds": None if self.thresholds is None else dataclasses.asdict(self.thresholds),
            "torch": torch.__version__,
        }
        (path / "unet.json").write_text(json.dumps(state, indent=2))
        (path / "history.json").write_text(json.dumps(self.history))

    def _load_state(self, path: Path) -> None:
        torch = _torch()
        from ._model import UNet  # lazy: pulls torch

        try:
            state = json.loads((path / "unet.json").read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: no unet.json; not a fitted unet") from None
        self.config = state["config"]
        self.thresholds = None if state["thresholds"] is None else Thresholds(**state["thresholds"])
        hist = path / "history.json"
        self.history = json.loads(hist.read_text()) if hist.is_file() else {}
        model = UNet(
            self.config["in_channels"], self.config["n_outputs"],
            depth=self.params.depth, features=self.params.features,
        )
        weights = path / "weights.pt"
        if not weights.is_file():
            raise ValueError(f"{path}: no weights.pt")
        model.load_state_dict(torch.load(weights, map_location=_device(), weights_only=True))
        self.model = model.to(_device()).eval()
        self._inference_model = None
        self._cache = None


# ------------------------------------------------------------------- helpers
def _n_object_classes(samples: Sequence[Sample]) -> int:
    ks = [max(s.classes.values()) for s in samples if s.classes]
    return int(max(ks)) + 1 if ks else 1


def _dataset_percentiles(images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel percentiles (:data:`~bench.methods._shared.NORM_PERCENTILES`) over
    images (each subsampled to ~512x512)."""
    sub = np.concatenate([_subsample(im) for im in images], axis=0).astype(np.float64)
    lo, hi = np.percentile(sub, NORM_PERCENTILES, axis=0)
    return lo, hi


def _subsample(im: np.ndarray) -> np.ndarray:
    sy, sx = max(1, im.shape[0] // 512), max(1, im.shape[1] // 512)
    return im[::sy, ::sx].reshape(-1, im.shape[2])


def _warn_outside_training_range(image: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, who: str) -> None:
    """Warn when `image`'s own percentile range, in the training range's units, is far
    from [0, 1]: a new bit depth, offset or gain that the dataset normalisation maps
    to a near-constant or saturated field."""
    ilo, ihi = percentile_range(image)
    span = np.maximum(hi - lo, 1e-6)
    nlo, nhi = (ilo - lo) / span, (ihi - lo) / span
    bad = (nhi < 0.0) | (nlo > 1.0) | (nhi - nlo < 0.1) | (nhi - nlo > 10.0)
    if np.any(bad):
        warnings.warn(
            f"{who}: image intensities do not match the training images' range (channel ranges "
            f"{[f'[{a:.3g}, {b:.3g}]' for a, b in zip(ilo, ihi)]} vs training "
            f"{[f'[{a:.3g}, {b:.3g}]' for a, b in zip(lo, hi)]}); with normalize='dataset' the network "
            "sees them as [{:.2f}, {:.2f}] instead of [0, 1]: use normalize='image'".format(float(nlo.min()), float(nhi.max())),
            stacklevel=3,
        )
