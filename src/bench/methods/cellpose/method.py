"""``cellpose``: Cellpose 3 trained from scratch on the split, or pretrained (zero-shot / fine-tuned).

Stringer C., Wang T., Michaelos M., Pachitariu M., "Cellpose: a generalist
algorithm for cellular segmentation", Nat Methods 18, 100-106 (2021),
doi:10.1038/s41592-020-01018-x; Cellpose 3: Stringer & Pachitariu, Nat
Methods (2025), doi:10.1038/s41592-025-02595-5. The CELLULAR protocol
(fine-tuning ``cyto2`` for 500 epochs, learning rate 0.2, batch 8): Al Outa
et al., Sci Data 10 (2023), doi:10.1038/s41597-023-02687-x.

Cellpose predicts, per pixel, a cell probability and a flow field pointing to
the object centre; following the flows groups pixels into objects.

Variants (``init`` x ``train``):

* ``init="scratch"`` (always ``train=true``): a fresh ``CellposeModel(
  pretrained_model=False, nchan=2)`` trained with ``cellpose.train.train_seg``
  on the training split;
* ``init="cyto" | "cyto2" | "cyto3" | "nuclei"`` with ``train=false``: the
  pretrained model, zero-shot; with ``train=true``: fine-tuned on the split.
  Pretrained weights are read from disk only (:mod:`.weights`); without them
  :meth:`weights_reason` says so and the runner records the method as skipped.
  Cellpose is never asked to download anything.

What ``fit`` does:

1. **Diameter**: the median equivalent-disk diameter ``d`` of the training
   objects. Objects are rescaled by ``diam_mean / d`` for the network, where
   ``diam_mean`` is the model's object size: the pretrained model's (30 px;
   17 for ``nuclei``), or for ``scratch`` ``d`` clipped to [17, 30] px (small
   puncta are enlarged at most to 17 px, big nuclei shrunk to 30 px).
2. **Channels**: Cellpose takes two planes, (object, optional nucleus). With
   ``channels=()`` they are chosen from the channel names
   (:func:`choose_channels`): a single channel is the object plane; a
   transmitted-light channel (``transmitted``, ``brightfield``, ``phase``,
   ``dic``; ``blue`` in CELLULAR's merged colour JPEGs, where grey transmitted
   light is the only signal in blue) is the object plane when present, with
   ``rfp``/``red`` as second plane for training (the reporter, present in
   every cell or punctum); otherwise the first two channels. A pretrained
   model gets only a nuclear stain (``hoechst``, ``dapi``...) as second
   plane, never another cytoplasmic signal. ``channels=(a;b)`` overrides it.
   Each plane is scaled per image from its 1st to 99.8th percentile
   (:func:`bench.methods._shared.normalize`, the one every family uses;
   Cellpose's own default is 1st-99th), done here so that Cellpose's
   module-level defaults are never mutated.
3. **Training** (``train=true``) with ``train_seg`` for the profile's fixed
   number of epochs (table below; seeds fixed: torch, numpy, Python), then
   the network is reloaded from the saved file into a fresh ``CellposeModel``.
4. **Thresholds**: ``flow_threshold`` and ``cellprob_threshold`` are chosen
   on the *validation* split from the profile's grid, maximising the pooled F1
   at IoU 0.5 (ties: mean matched IoU), the network being run once per image.
5. **Classes**: as for every instance method here, an
   :class:`~bench.methods._shared.ObjectClassifier` fitted on the
   model's predictions on training images when the data carry classes.

``predict_scores`` gives each object the mean cell probability (sigmoid of
Cellpose's cellprob output) over its pixels.

Profiles:

=========  ======  =====  =====  ========  ===========  =========  ==================
profile    epochs  batch  crop   images/   optimiser    threshold  CPnet width
                                 epoch                  grid       (scratch only)
=========  ======  =====  =====  ========  ===========  =========  ==================
``ci``     4       2      64     2         AdamW 5e-3   1 x 1      8-16-32-256
``quick``  100     4      128    4         AdamW 5e-3   3 x 3      16-32-64-256
``full``   500     8      224    all       SGD 0.2      4 x 5      32-64-128-256
=========  ======  =====  =====  ========  ===========  =========  ==================

``full`` is the Cellpose paper's budget (SGD, momentum 0.9, weight decay
1e-5, learning rate 0.2, batch 8, 500 epochs) with Cellpose's own network,
which is also the CELLULAR fine-tuning protocol. ``train_seg`` warms the
learning rate up linearly over the first 10 epochs and (beyond 300 epochs)
halves it over the last 100. On CPU one training step of the standard
network on four 128 x 128 crops takes seconds, so ``quick`` and ``ci``
train a narrower CPnet (same architecture, a half / a quarter of the
feature maps in the first three levels; the last level keeps 256 because
Cellpose's inference code assumes a 256-long style vector); pretrained
variants always use Cellpose's width.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ...data.sample import DatasetInfo, Sample
from ...curves import CurveRecorder
from ..base import Method, RemembersScoredObjects
from .._shared.box_supervision import (
    box_labels_hint,
    box_supervised_samples,
    box_supervision_skip,
    parse_box_labels,
)
from .._shared import (
    ObjectClassifier,
    ObjectStats,
    fit_object_classifier,
    load_classifier,
    normalize,
    save_classifier,
    zoom_image,
    zoom_labels,
)
from ._library import MAX_SIZE_FRACTION, MIN_SIZE, _known_warnings, import_cellpose, masks_for_thresholds
from .weights import (
    PRETRAINED_DIAM_MEAN,
    PRETRAINED_FILES,
    find_pretrained,
    weights_reason as _weights_reason,
)
from ...metrics import match_instances
from ...metrics.matching import pool_results

__all__ = ["CellposeParams", "CellposeMethod", "Budget", "PROFILES", "choose_channels", "to_cellpose_planes",
           "masks_for_thresholds"]

logger = logging.getLogger(__name__)

#: Scratch models see objects at a diameter clipped to this range (px).
SCRATCH_DIAM_RANGE = (17.0, 30.0)

_TRANSMITTED = ("transmitted", "brightfield", "bf", "phase", "dic", "trans")
_NUCLEAR = ("hoechst", "dapi", "draq5", "nuclei", "nucleus", "h2b")
_REPORTER = ("rfp", "red", "mrfp")


@dataclass(frozen=True)
class Budget:
    """Training budget and threshold grid of one profile (module docstring)."""

    epochs: int
    batch_size: int
    bsize: int
    nimg_per_epoch: int | None  # None: every training image each epoch
    learning_rate: float
    sgd: bool
    weight_decay: float
    flow_thresholds: tuple[float, ...]
    cellprob_thresholds: tuple[float, ...]
    nbase: tuple[int, ...]  # CPnet feature maps per level (scratch models only)
    resample: bool  # flow dynamics at the image's size (True) or the network's scale (False)


#: Cellpose's own network width (every pretrained model has it).
CELLPOSE_NBASE = (32, 64, 128, 256)

PROFILES: dict[str, Budget] = {
    "ci": Budget(4, 2, 64, 2, 5e-3, False, 1e-5, (0.4,), (0.0,), (8, 16, 32, 256), False),
    "quick": Budget(100, 4, 128, 4, 5e-3, False, 1e-5, (0.4, 0.6, 0.8), (-1.0, 0.0, 1.0), (16, 32, 64, 256), False),
    "full": Budget(500, 8, 224, None, 0.2, True, 1e-5, (0.2, 0.4, 0.6, 0.8), (-2.0, -1.0, 0.0, 1.0, 2.0), CELLPOSE_NBASE, True),
}


def choose_channels(channels: Sequence[str], *, pretrained: bool) -> tuple[int, int | None]:
    """Indices of the (object, second) planes given to Cellpose (module docstring, step 2).

    Examples
    --------
    >>> choose_channels(("hoechst",), pretrained=False)
    (0, None)
    >>> choose_channels(("gfp", "rfp", "transmitted"), pretrained=False)
    (2, 1)
    >>> choose_channels(("gfp", "rfp", "transmitted"), pretrained=True)
    (2, None)
    >>> choose_channels(("lamp1", "cargo"), pretrained=False)
    (0, 1)
    >>> choose_channels(("red", "green", "blue"), pretrained=False)
    (2, 0)
    """
    names = [c.lower() for c in channels]
    if not names:
        raise ValueError("`channels` is empty")
    if len(names) == 1:
        return 0, None
    transmitted = [i for i, c in enumerate(names) if c in _TRANSMITTED]
    if not transmitted and names == ["red", "green", "blue"]:
        transmitted = [2]
    nuclear = [i for i, c in enumerate(names) if c in _NUCLEAR]
    if transmitted:
        obj = transmitted[0]
        if pretrained:
            return obj, (nuclear[0] if nuclear else None)
        reporter = [i for i, c in enumerate(names) if c in _REPORTER and i != obj]
        others = [i for i in range(len(names)) if i != obj]
        return obj, (reporter or others)[0]
    if nuclear and len(names) > 1:
        others = [i for i in range(len(names)) if i not in nuclear]
        if others:
            return others[0], nuclear[0]
    return 0, (None if pretrained else 1)


def to_cellpose_planes(image: np.ndarray, planes: tuple[int, int | None]) -> np.ndarray:
    """``(2, Y, X)`` float32: the chosen planes, each scaled 1st-99th percentile (zeros if absent or flat).

    Examples
    --------
    >>> img = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    >>> to_cellpose_planes(img, (1, None)).shape
    (2, 2, 2)
    """
    out = np.zeros((2, *image.shape[:2]), np.float32)
    for k, c in enumerate(planes):
        if c is None:
            continue
        out[k] = normalize(image[..., c])
    return out


@dataclass(frozen=True)
class CellposeParams:
    """Parameters of :class:`CellposeMethod`.

    Attributes
    ----------
    profile : {"ci", "quick", "full"}
        Training budget and threshold grid (module docstring).
    init : {"scratch", "cyto", "cyto2", "cyto3", "nuclei"}
        Start from random weights or from a pretrained Cellpose model.
    train : bool
        Train (scratch) / fine-tune (pretrained) on the split; ``false`` with
        a pretrained ``init`` is zero-shot.
    weights_dir : str
        Folder holding pretrained weight files (see :mod:`.weights`); empty:
        ``$CELLPOSE_LOCAL_MODELS_PATH``, then ``~/.cellpose/models``.
    channels : tuple of str
        ``(object_channel;second_channel)`` names, or one name; empty: automatic.
    epochs : int or None
        Override the profile's number of epochs.
    tune : bool
        Tune flow and cellprob thresholds on validation (else Cellpose's
        defaults 0.4 and 0.0).
    labels : str
        ``"truth"`` (the instance masks) or ``"boxes:<maker>"``: masks made
        from the samples' boxes (``ellipse``, ``box`` or ``threshold``), for
        detection datasets (:mod:`bench.methods._shared.box_supervision`).
    threads : int
        ``torch.set_num_threads`` for this process; 0 (default): torch's own
        choice, which follows ``OMP_NUM_THREADS`` -- the runner sets it to its
        cores divided by its parallel jobs, so cells never oversubscribe the
        machine. (Oversubscribed, torch's spinning OpenMP threads made a
        ``quick`` training step 5 times slower: 9.5 s vs 1.8 s; on a quiet
        2-core machine 2 threads take 0.69 s per step, 1 thread 1.15 s.)
    """

    profile: Literal["ci", "quick", "full"] = "quick"
    init: Literal["scratch", "cyto", "cyto2", "cyto3", "nuclei"] = "scratch"
    train: bool = True
    weights_dir: str = ""
    channels: tuple[str, ...] = ()
    epochs: int | None = None
    tune: bool = True
    threads: int = 0
    labels: str = "truth"

    def validate(self) -> None:
        parse_box_labels(self.labels, who="cellpose")
        if self.init == "scratch" and not self.train:
            raise ValueError("cellpose: init='scratch' needs train=true (an untrained network segments nothing)")
        if self.init != "scratch" and self.init not in PRETRAINED_FILES:
            raise ValueError(f"cellpose: `init` must be 'scratch' or one of {sorted(PRETRAINED_FILES)}, got {self.init!r}")
        if len(self.channels) > 2:
            raise ValueError(f"cellpose: `channels` names at most 2 channels, got {self.channels}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"cellpose: `epochs` must be >= 1, got {self.epochs}")
        if self.threads < 0:
            raise ValueError(f"cellpose: `threads` must be >= 0, got {self.threads}")


def _setup_torch(threads: int):
    import torch

    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch


class CellposeMethod(RemembersScoredObjects, Method):
    """Cellpose 3 (flow fields + cell probability, objects by following the flows):
    trained from scratch, or pretrained cyto/cyto2 zero-shot or fine-tuned."""

    name = "cellpose"
    Params = CellposeParams
    tasks = ("instance", "classification")
    requires = ("torch", "cellpose")
    extra = "torch"
    presets = {
        "cellpose_scratch": {"init": "scratch", "train": True},
        "cellpose_cyto": {"init": "cyto", "train": False},
        "cellpose_cyto2": {"init": "cyto2", "train": False},
        "cellpose_cyto2_finetuned": {"init": "cyto2", "train": True},
    }
    reference = (
        "Stringer, Wang, Michaelos & Pachitariu, Cellpose: a generalist algorithm for cellular "
        "segmentation, Nat Methods 18, 100-106 (2021), doi:10.1038/s41592-020-01018-x"
    )

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self._model = None
        # the network's weight file, kept as bytes: once Cellpose has run on CPU with
        # MKL-DNN its tensors can no longer be serialised
        self._net_bytes: bytes | None = None
        self.classifier: ObjectClassifier | None = None
        self.state: dict = {}

    def weights_reason(self) -> str | None:
        if self.params.init == "scratch":
            return None
        return _weights_reason(self.params.init, self.params.weights_dir or None)

    # -------------------------------------------------------------- helpers
    def _planes(self, channels: Sequence[str]) -> tuple[int, int | None]:
        wanted = self.params.channels
        if not wanted:
            return choose_channels(channels, pretrained=self.params.init != "scratch")
        idx = []
        for name in wanted:
            if name not in channels:
                raise ValueError(f"cellpose: `channels` names {name!r}, not among the data's channels {tuple(channels)}")
            idx.append(list(channels).index(name))
        return idx[0], (idx[1] if len(idx) > 1 else None)

    def _new_model(self, weights: str | None, diam_mean: float, nbase: Sequence[int] = CELLPOSE_NBASE):
        """A ``CellposeModel`` (on CUDA if available), with `weights` loaded from a file if given."""
        # Cellpose silently downloads its default model when given a path that does
        # not exist: check it here so that never happens.
        if weights and not Path(weights).is_file():
            raise ValueError(f"cellpose: weight file {weights} does not exist")
        torch = _setup_torch(self.params.threads)
        models, _, _ = import_cellpose()

        gpu = bool(torch.cuda.is_available())
        if tuple(nbase) == CELLPOSE_NBASE:
            return models.CellposeModel(gpu=gpu, pretrained_model=weights or False, nchan=2, diam_mean=diam_mean)
        # a narrower CPnet (quick/ci profiles): same architecture, fewer feature maps
        with _known_warnings():
            from cellpose.resnet_torch import CPnet

        model = models.CellposeModel(gpu=gpu, pretrained_model=False, nchan=2, diam_mean=diam_mean)
        net = CPnet([2, *nbase], model.nclasses, sz=3, mkldnn=model.mkldnn, max_pool=True, diam_mean=diam_mean)
        net = net.to(model.device)
        if weights:
            net.load_model(weights, device=model.device)
            model.diam_mean = float(net.diam_mean.data.cpu().numpy()[0])
            model.diam_labels = float(net.diam_labels.data.cpu().numpy()[0])
            model.pretrained_model = weights
        model.net = net
        model.nbase = [2, *nbase]
        return model

    # -------------------------------------------------------------- training
    def skip(self, info: DatasetInfo) -> str | None:
        maker = parse_box_labels(self.params.labels, who="cellpose")
        if maker is None:
            return box_labels_hint(super().skip(info), info)
        return self.dependency_reason() or box_supervision_skip(maker, info, self.tasks) or self.weights_reason()

    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "CellposeMethod":
        self._check_fit_data(train, val)
        maker = parse_box_labels(self.params.labels, who="cellpose")
        box_info = None
        if maker is not None:
            train, val, box_info = box_supervised_samples(train, val, maker)
        p = self.params
        reason = self.weights_reason()
        if reason is not None:
            raise FileNotFoundError(f"cellpose: {reason}")
        for s in [*train, *val]:
            if s.labels is None:
                raise ValueError(f"cellpose: sample {s.name!r} has no instance `labels`")
        b = PROFILES[p.profile]
        epochs = p.epochs or b.epochs
        seed = int(np.random.default_rng(rng).integers(2**31 - 1))
        torch = _setup_torch(p.threads)
        planes = self._planes(train[0].channels)
        diameter = 2 * ObjectStats.from_samples(train).radius_median
        if p.init == "scratch":
            diam_mean = float(np.clip(diameter, *SCRATCH_DIAM_RANGE))
            pretrained = None
            nbase = tuple(b.nbase)
        else:
            diam_mean = PRETRAINED_DIAM_MEAN[p.init]
            pretrained = str(find_pretrained(p.init, p.weights_dir or None))
            nbase = CELLPOSE_NBASE
        logger.info(
            "cellpose: init %s, median diameter %.1f px, model diameter %.1f px, planes %s",
            p.init, diameter, diam_mean, [train[0].channels[i] if i is not None else None for i in planes],
        )
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        history: dict = {}
        train_s = 0.0
        self.learning_curve = None  # a pretrained model used as is has none
        if p.train:
            _, cp_train, _ = import_cellpose()

            model = self._new_model(pretrained, diam_mean, nbase)
            # Objects bigger than the model's are shrunk to its size here, before train_seg
            # computes the flows of the labels (the slow part of its set-up, ~8x fewer pixels
            # for nuclei): train_seg then measures diameters of ~diam_mean and resizes by ~1,
            # so the network sees the same crops as when it rescales the originals itself.
            zoom = min(1.0, diam_mean / diameter)
            X = [to_cellpose_planes(zoom_image(s.image, zoom), planes) for s in train]
            # zoom_labels makes new arrays; copies when it does not: train_seg renumbers the
            # masks in place, which would corrupt the samples (`classes` are keyed by the ids)
            Y = [zoom_labels(s.labels, zoom).copy() for s in train]
            Xv = [to_cellpose_planes(zoom_image(s.image, zoom), planes) for s in val] or None
            Yv = [zoom_labels(s.labels, zoom).copy() for s in val] or None
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="bench-cellpose-") as tmp, _known_warnings():
                save_path = Path(tmp)
                save_path.mkdir(parents=True, exist_ok=True)
                fname, losses, test_losses = cp_train.train_seg(
                    model.net,
                    train_data=X,
                    train_labels=Y,
                    test_data=Xv,
                    test_labels=Yv,
                    channels=None,
                    normalize={"normalize": False},
                    batch_size=b.batch_size,
                    bsize=b.bsize,
                    learning_rate=b.learning_rate,
                    SGD=b.sgd,
                    momentum=0.9,
                    weight_decay=b.weight_decay,
                    n_epochs=epochs,
                    nimg_per_epoch=b.nimg_per_epoch,
                    nimg_test_per_epoch=b.nimg_per_epoch,
                    min_train_masks=1,
                    save_path=str(save_path),
                    save_every=10**9,
                    model_name="bench_cellpose",
                )
                train_s = time.perf_counter() - t0
                # evaluate with a fresh model object loaded from the trained file
                self._net_bytes = Path(fname).read_bytes()
                self._model = self._new_model(str(fname), diam_mean, nbase)
            history = {
                "train_loss": [float(v) for v in losses],
                # train_seg evaluates the validation loss at epoch 0, 5 and every 10th epoch
                "val_loss": {str(i): float(v) for i, v in enumerate(test_losses) if v != 0.0},
            }
            self.learning_curve = _learning_curve(history, epochs)
        else:
            self._net_bytes = Path(pretrained).read_bytes()
            self._model = self._new_model(pretrained, diam_mean)
        self.state = {
            "seed": seed,
            "init": p.init,
            "trained": p.train,
            "median_diameter": diameter,
            "diam_mean": float(self._model.diam_mean),
            "nbase": list(nbase),
            "planes": [None if i is None else train[0].channels[i] for i in planes],
            "plane_indices": list(planes),
            "budget": {**asdict(b), "epochs": epochs},
            "history": history,
            "train_seconds": train_s,
            "resample": b.resample,
            "flow_threshold": 0.4,
            "cellprob_threshold": 0.0,
        }
        self.state["labels"] = box_info or "truth"
        self.state = json.loads(json.dumps(self.state))  # exactly what save/load gives back
        if p.tune and val:
            t0 = time.perf_counter()
            self._tune(val, b)
            self.state["threshold_seconds"] = time.perf_counter() - t0
        logger.info(
            "cellpose: trained %.1f s; flow_threshold %.2f, cellprob_threshold %.2f",
            train_s, self.state["flow_threshold"], self.state["cellprob_threshold"],
        )
        self.fitted = True
        self.classifier = fit_object_classifier(train, self.predict, rng=seed)
        return self

    def _tune(self, val: Sequence[Sample], b: Budget) -> None:
        outputs = [self._network(s.image) for s in val]
        niter = self._niter()
        grids = [
            masks_for_thresholds(dP, cellprob, niter=niter, cellprob_thresholds=b.cellprob_thresholds,
                                 flow_thresholds=b.flow_thresholds, device=self._model.device,
                                 resize=s.image.shape[:2])
            for s, (dP, cellprob) in zip(val, outputs)
        ]
        best = None
        for ft in b.flow_thresholds:
            for ct in b.cellprob_thresholds:
                r = pool_results([match_instances(y_true=s.labels, y_pred=g[(ft, ct)]) for s, g in zip(val, grids)])
                key = (r.f1, r.mean_matched_iou)
                logger.debug("cellpose tuning: flow %.2f cellprob %.2f -> F1 %.3f", ft, ct, r.f1)
                if best is None or key > best[0]:
                    best = (key, ft, ct)
        self.state["flow_threshold"] = float(best[1])
        self.state["cellprob_threshold"] = float(best[2])
        self.state["val_f1"] = float(best[0][0])

    # ------------------------------------------------------------- inference
    def _require_model(self):
        if self._model is None:
            raise RuntimeError("cellpose: not fitted; call fit() or Method.load() first")
        return self._model

    def _resample(self) -> bool:
        # models saved before the option existed ran the dynamics at the image's size
        return bool(self.state.get("resample", True))

    def _niter(self) -> int:
        # Cellpose's own choice: 200 iterations at the network's scale, i.e. 200 / rescale
        # at the image's size (resample=True)
        if not self._resample():
            return 200
        return int(round(200 * self.state["median_diameter"] / self.state["diam_mean"]))

    def _eval(self, image: np.ndarray, **kwargs):
        model = self._require_model()
        x = to_cellpose_planes(image, tuple(self.state["plane_indices"]))
        with _known_warnings():
            masks, flows, _ = model.eval(
                x,
                channels=None,
                channel_axis=0,
                normalize={"normalize": False},
                diameter=self.state["median_diameter"],
                resample=self._resample(),
                min_size=MIN_SIZE,
                max_size_fraction=MAX_SIZE_FRACTION,
                **kwargs,
            )
        return masks, flows

    def _network(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, flows = self._eval(image, compute_masks=False)
        return flows[1], flows[2]

    def predict(self, image: np.ndarray) -> np.ndarray:
        masks, flows = self._eval(
            image,
            flow_threshold=self.state["flow_threshold"],
            cellprob_threshold=self.state["cellprob_threshold"],
            niter=self._niter(),
        )
        labels = np.ascontiguousarray(masks, dtype=np.int32)
        logits = np.asarray(flows[2], dtype=np.float32)
        if logits.shape != labels.shape:  # resample=False: the network's scale
            import cv2

            logits = cv2.resize(logits, (labels.shape[1], labels.shape[0]), interpolation=cv2.INTER_LINEAR)
        prob = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        ids = np.unique(labels[labels > 0])
        if ids.size:
            sums = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=int(ids.max()) + 1)
            counts = np.bincount(labels.ravel(), minlength=int(ids.max()) + 1)
            scores = {int(i): float(sums[i] / counts[i]) for i in ids}
        else:
            scores = {}
        self._remember(image, labels, scores)
        return labels

    # ------------------------------------------------------------ persistence
    def _save_state(self, path: Path) -> None:
        self._require_model()
        (path / "cellpose_net").write_bytes(self._net_bytes)
        (path / "state.json").write_text(json.dumps(self.state, indent=1))
        save_classifier(self.classifier, path)

    def _load_state(self, path: Path) -> None:
        state_file = path / "state.json"
        if not state_file.is_file():
            raise ValueError(f"{path}: no state.json; not a saved cellpose model")
        self.state = json.loads(state_file.read_text())
        net_file = path / "cellpose_net"
        self._net_bytes = net_file.read_bytes() if net_file.is_file() else None
        self._model = self._new_model(str(net_file), float(self.state["diam_mean"]), tuple(self.state["nbase"]))
        self.classifier = load_classifier(path)


def _learning_curve(history: dict, epochs: int) -> CurveRecorder:
    """The learning curve of a ``train_seg`` run, from its own losses (no extra evaluation).

    One row per epoch: ``train_loss`` is the epoch's mean training loss, ``val_loss``
    the validation loss where ``train_seg`` measured it (after epoch 0, 5 and every
    10th: index ``i`` of its lists is the epoch ``i + 1`` done). ``train_seg`` runs as one
    call, so no validation F1 is measured during training (``val_f1`` is NaN): the
    under-trained rule uses the validation loss alone for Cellpose.
    """
    rec = CurveRecorder(total=epochs, unit="epoch")
    val = {int(k): float(v) for k, v in history.get("val_loss", {}).items()}
    for i, loss in enumerate(history.get("train_loss", [])):
        rec.add(i + 1, train_loss=loss, val_loss=val.get(i, float("nan")))
    return rec
