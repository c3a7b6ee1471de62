"""``stardist``: StarDist2D trained from scratch on the benchmark split.

Schmidt U., Weigert M., Broaddus C., Myers G., "Cell Detection with
Star-convex Polygons", MICCAI 2018, doi:10.1007/978-3-030-00934-2_30.

What ``fit`` does, in order:

1. **Object size.** The median equivalent-disk diameter ``d`` of the training
   objects (:class:`~bench.methods._shared.ObjectStats`).
2. **Working scale.** Images are zoomed by ``s = min(1, working_diameter / d)``
   (never enlarged) so big objects (nuclei of 60-90 px) are learned and
   predicted on a smaller grid; prediction passes the same ``s`` to
   StarDist's ``predict_instances(scale=s)``, which renders the polygons back
   at full resolution. The ``full`` profile does not rescale.
3. **Grid** (output subsampling): the power of two (2, 4 or 8) closest, on
   a log scale, to ``s * d / 16``, so an object spans about 16 grid cells
   (at least 4: grid 1 below 8 px; :func:`choose_grid`).
4. **Normalisation**: each channel of each image from its 1st to 99.8th
   percentile to 0-1 (as in the StarDist examples).
5. **Training** of a ``Config2D`` U-Net with 32 rays (``n_channel_in`` = the
   dataset's channels, ``train_tensorboard=False``) for the profile's fixed
   number of epochs and steps, seeds fixed (numpy, Python, TensorFlow via
   ``keras.utils.set_random_seed``; TensorFlow op determinism on).
6. **Thresholds**: ``optimize_thresholds`` on the *validation* split (at the
   working scale) picks the probability and NMS thresholds; they are stored
   with the model.
7. **Classes** (datasets with per-object classes): an
   :class:`~bench.methods._shared.ObjectClassifier` fitted on the
   model's own predictions on training images (matched objects inherit the
   true class) plus the true objects.

``predict_scores`` returns StarDist's object probability of each polygon.

Profiles (``profile``):

============  ======  =====  =====  =====  =======  ========  =======  ===========
profile       epochs  steps  patch  batch  filters  conv_out  lr       working d
============  ======  =====  =====  =====  =======  ========  =======  ===========
``ci``        3       30     64     2      8        16        3e-3     16 px
``quick``     10      20     128    4      32       128       1e-3     24 px
``full``      400     100    256    4      32       128       3e-4     no rescale
============  ======  =====  =====  =====  =======  ========  =======  ===========

``full`` is the StarDist default training budget (``Config2D`` defaults,
400 epochs of 100 steps, Adam 3e-4 with ReduceLROnPlateau). ``quick`` keeps
the default network but trains 200 steps at a higher learning rate on
128 x 128 patches: fewer steps or a smaller network did not learn the ray
distances of nuclei on the shared 2-core machine (F1 at IoU 0.5 near 0 on
nih3t3 after 150-160 steps with 16 base filters, or with 96 px patches).
``optimize_thresholds`` tries the NMS thresholds 0.3 and 0.5 in ``quick``
(0.3, 0.4, 0.5 in ``full``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ...data.sample import DatasetInfo, Sample
from ...curves import CurveRecorder, checkpoint_fractions, checkpoint_steps
from ..base import Method, RemembersScoredObjects
from .._shared.box_supervision import (
    box_labels_hint,
    box_supervised_samples,
    box_supervision_skip,
    parse_box_labels,
)
from .._shared import (
    NORM_PERCENTILES,
    ObjectClassifier,
    ObjectStats,
    fit_object_classifier,
    load_classifier,
    normalize,
    save_classifier,
    zoom_image,
    zoom_labels,
)
from ...progress import progress_bar
from ...metrics import match_dataset

__all__ = ["StarDistParams", "StarDistMethod", "Budget", "PROFILES", "choose_grid", "working_scale"]

logger = logging.getLogger(__name__)

#: Depth of the StarDist U-Net (Config2D default).
UNET_DEPTH = 3


@dataclass(frozen=True)
class Budget:
    """Training budget of one profile (see the module docstring)."""

    epochs: int
    steps_per_epoch: int
    patch_size: int
    batch_size: int
    n_filter_base: int
    conv_after_unet: int
    learning_rate: float
    working_diameter: float  # 0: no rescaling
    nms_threshs: tuple[float, ...]  # NMS thresholds tried by optimize_thresholds
    tune_maxiter: int  # golden-section iterations per NMS threshold


PROFILES: dict[str, Budget] = {
    "ci": Budget(3, 30, 64, 2, 8, 16, 3e-3, 16.0, (0.4,), 4),
    "quick": Budget(10, 20, 128, 4, 32, 128, 1e-3, 24.0, (0.3, 0.5), 10),
    "full": Budget(400, 100, 256, 4, 32, 128, 3e-4, 0.0, (0.3, 0.4, 0.5), 20),
}


def choose_grid(diameter: float) -> int:
    """StarDist grid for objects of median `diameter` (px, at the working scale).

    The power of two closest to ``diameter / 16`` on a log scale, between 2
    (StarDist's default for 2-D data) and 8; 1 only for objects under 8 px,
    which would span fewer than 4 cells of a grid of 2. (Grid 1 for the 14 px
    puncta of synth-lyso, the old lower bound, trained 2.5 times slower than
    grid 2 in the quick profile and reached a lower F1: 0.763 vs 0.855.)

    Examples
    --------
    >>> [choose_grid(d) for d in (6, 8, 15, 24, 40, 90, 500)]
    [1, 2, 2, 2, 2, 4, 8]
    """
    if not diameter > 0:
        raise ValueError(f"`diameter` must be > 0, got {diameter}")
    k = int(np.clip(np.round(np.log2(diameter / 16.0)), 0 if diameter < 8 else 1, 3))
    return 2**k


def working_scale(diameter: float, working_diameter: float) -> float:
    """Zoom factor ``min(1, working_diameter / diameter)``; 1 if `working_diameter` is 0.

    Examples
    --------
    >>> working_scale(96, 24), working_scale(10, 24), working_scale(96, 0)
    (0.25, 1.0, 1.0)
    """
    if working_diameter < 0:
        raise ValueError(f"`working_diameter` must be >= 0, got {working_diameter}")
    if working_diameter == 0:
        return 1.0
    return float(min(1.0, working_diameter / diameter))


@dataclass(frozen=True)
class StarDistParams:
    """Parameters of :class:`StarDistMethod`.

    Attributes
    ----------
    profile : {"ci", "quick", "full"}
        Training budget (module docstring).
    n_rays : int
        Number of rays of the star-convex polygons.
    grid : int or None
        Output subsampling; ``None``: from the object size (:func:`choose_grid`).
    working_diameter : float or None
        Target median object diameter (px) after zooming; 0: no zoom;
        ``None``: the profile's.
    epochs, steps_per_epoch : int or None
        Override the profile's training length.
    labels : str
        ``"truth"`` (the instance masks) or ``"boxes:<maker>"``: masks made
        from the samples' boxes (``ellipse``, ``box`` or ``threshold``), for
        detection datasets (:mod:`bench.methods._shared.box_supervision`).
    threads : int or None
        CPU threads for TensorFlow (intra- and inter-op); 0: TensorFlow's
        default; ``None``: ``$OMP_NUM_THREADS`` when set (the runner sets it to
        ``cores // jobs``), else TensorFlow's default.
    """

    profile: Literal["ci", "quick", "full"] = "quick"
    n_rays: int = 32
    grid: int | None = None
    working_diameter: float | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    threads: int | None = None
    labels: str = "truth"

    def validate(self) -> None:
        parse_box_labels(self.labels, who="stardist")
        if self.n_rays < 3:
            raise ValueError(f"stardist: `n_rays` must be >= 3, got {self.n_rays}")
        if self.grid is not None and self.grid not in (1, 2, 4, 8):
            raise ValueError(f"stardist: `grid` must be 1, 2, 4 or 8, got {self.grid}")
        if self.working_diameter is not None and self.working_diameter < 0:
            raise ValueError(f"stardist: `working_diameter` must be >= 0, got {self.working_diameter}")
        for name in ("epochs", "steps_per_epoch"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"stardist: `{name}` must be >= 1, got {v}")
        if self.threads is not None and self.threads < 0:
            raise ValueError(f"stardist: `threads` must be >= 0, got {self.threads}")

    def budget(self) -> Budget:
        b = PROFILES[self.profile]
        return Budget(
            epochs=self.epochs or b.epochs,
            steps_per_epoch=self.steps_per_epoch or b.steps_per_epoch,
            patch_size=b.patch_size,
            batch_size=b.batch_size,
            n_filter_base=b.n_filter_base,
            conv_after_unet=b.conv_after_unet,
            learning_rate=b.learning_rate,
            working_diameter=b.working_diameter if self.working_diameter is None else self.working_diameter,
            nms_threshs=b.nms_threshs,
            tune_maxiter=b.tune_maxiter,
        )


class _LogStream(io.TextIOBase):
    """A file-like sink sending library prints (keras progress bars, StarDist) to DEBUG logs."""

    def write(self, s):
        s = s.strip()
        if s:
            logger.debug("%s", s[-500:])
        return len(s)


def _quiet():
    return contextlib.redirect_stdout(_LogStream())


def _setup_tensorflow(threads: int | None):
    """Import TensorFlow with its thread pools limited (before its runtime starts)."""
    import os

    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env) if env.isdigit() else 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime is already initialised in this process
            current = tf.config.threading.get_intra_op_parallelism_threads()
            if current != threads:
                logger.warning("TensorFlow already runs with %s intra-op threads; `threads`=%d ignored", current, threads)
    return tf


class StarDistMethod(RemembersScoredObjects, Method):
    """StarDist2D (star-convex polygons) trained from scratch on the split, thresholds
    tuned on validation; per-object classes by a shared object classifier."""

    name = "stardist"
    Params = StarDistParams
    tasks = ("instance", "classification")
    requires = ("tensorflow", "stardist")
    extra = "stardist"
    presets = {"stardist_quick": {"profile": "quick"}, "stardist_full": {"profile": "full"}}
    reference = (
        "Schmidt, Weigert, Broaddus & Myers, Cell Detection with Star-convex Polygons, "
        "MICCAI 2018, doi:10.1007/978-3-030-00934-2_30"
    )

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self._model = None
        self.classifier: ObjectClassifier | None = None
        self.state: dict = {}

    # -------------------------------------------------------------- training
    def skip(self, info: DatasetInfo) -> str | None:
        maker = parse_box_labels(self.params.labels, who="stardist")
        if maker is None:
            return box_labels_hint(super().skip(info), info)
        return self.dependency_reason() or box_supervision_skip(maker, info, self.tasks) or self.weights_reason()

    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "StarDistMethod":
        self._check_fit_data(train, val)
        maker = parse_box_labels(self.params.labels, who="stardist")
        box_info = None
        if maker is not None:
            train, val, box_info = box_supervised_samples(train, val, maker)
        if not val:
            raise ValueError("stardist: `val` is empty; thresholds are tuned on validation samples")
        for s in [*train, *val]:
            if s.labels is None:
                raise ValueError(f"stardist: sample {s.name!r} has no instance `labels` to train on")
        p = self.params
        budget = p.budget()
        seed = int(np.random.default_rng(rng).integers(2**31 - 1))
        tf = _setup_tensorflow(p.threads)
        import keras
        from stardist.models import Config2D, StarDist2D

        stats = ObjectStats.from_samples(train)
        diameter = 2 * stats.radius_median
        scale = working_scale(diameter, budget.working_diameter)
        grid = p.grid or choose_grid(diameter * scale)
        X = [zoom_image(normalize(s.image), scale) for s in train]
        Y = [zoom_labels(s.labels, scale) for s in train]
        Xv = [zoom_image(normalize(s.image), scale) for s in val]
        Yv = [zoom_labels(s.labels, scale) for s in val]
        div = grid * 2**UNET_DEPTH
        smallest = min(min(x.shape[:2]) for x in [*X, *Xv])
        patch = min(budget.patch_size, (smallest // div) * div)
        if patch < div:
            raise ValueError(
                f"stardist: images at the working scale ({smallest} px) are smaller than one "
                f"network block ({div} px = grid {grid} x 2^{UNET_DEPTH})"
            )
        n_channel = train[0].image.shape[2]
        logger.info(
            "stardist: median object diameter %.1f px, working scale %.3f, grid %d, patch %d, %d channel(s)",
            diameter, scale, grid, patch, n_channel,
        )

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        config = Config2D(
            n_rays=p.n_rays,
            grid=(grid, grid),
            n_channel_in=n_channel,
            train_patch_size=(patch, patch),
            train_batch_size=budget.batch_size,
            train_epochs=budget.epochs,
            train_steps_per_epoch=budget.steps_per_epoch,
            train_learning_rate=budget.learning_rate,
            unet_n_filter_base=budget.n_filter_base,
            net_conv_after_unet=budget.conv_after_unet,
            train_tensorboard=False,
            use_gpu=False,
        )
        with _quiet():
            model = StarDist2D(config, name=None, basedir=None)
            model.prepare_for_training()
        progress = _TqdmCallback(budget.epochs * budget.steps_per_epoch, desc=f"{self.label} train")
        model.callbacks.append(progress.callback(keras))
        self.learning_curve = CurveRecorder(total=budget.epochs, unit="epoch")
        model.callbacks.append(_curve_callback(keras, model, self.learning_curve, Xv[:CURVE_VAL_IMAGES],
                                               Yv[:CURVE_VAL_IMAGES], checkpoint_fractions(self.params.profile)))
        t0 = time.perf_counter()
        try:
            with _quiet(), warnings.catch_warnings():
                # keras 3 warns that a generator ignores `shuffle`; StarDist samples patches at random itself
                warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed", category=UserWarning)
                hist = model.train(X, Y, validation_data=(Xv, Yv), seed=seed,
                                   epochs=budget.epochs, steps_per_epoch=budget.steps_per_epoch)
        finally:
            progress.close()
        train_s = time.perf_counter() - t0 - self.learning_curve.overhead_s  # learning-curve F1s excluded
        t0 = time.perf_counter()
        with _quiet(), contextlib.redirect_stderr(_LogStream()):
            thresholds = model.optimize_thresholds(
                Xv, Yv,
                nms_threshs=list(budget.nms_threshs),
                predict_kwargs={"show_tile_progress": False},
                optimize_kwargs={"maxiter": budget.tune_maxiter, "verbose": 0},
            )
        tune_s = time.perf_counter() - t0
        self._model = model
        self.state = {
            "seed": seed,
            "median_diameter": diameter,
            "scale": scale,
            "grid": grid,
            "patch_size": patch,
            "n_channel": n_channel,
            "budget": asdict(budget),
            "thresholds": {"prob": float(thresholds["prob"]), "nms": float(thresholds["nms"])},
            "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
            "train_seconds": train_s,
            "threshold_seconds": tune_s,
            "norm_percentiles": list(NORM_PERCENTILES),
        }
        self.state["labels"] = box_info or "truth"
        self.state = json.loads(json.dumps(self.state))  # exactly what save/load gives back
        logger.info("stardist: trained in %.1f s, thresholds %s (tuned in %.1f s)", train_s, self.state["thresholds"], tune_s)
        self.fitted = True
        self.classifier = fit_object_classifier(train, self.predict, rng=seed)
        return self

    # ------------------------------------------------------------- inference
    def _require_model(self):
        if self._model is None:
            raise RuntimeError("stardist: not fitted; call fit() or Method.load() first")
        return self._model

    def _instances(self, image: np.ndarray) -> tuple[np.ndarray, dict[int, float]]:
        model = self._require_model()
        scale = self.state["scale"]
        x = normalize(image)
        side = max(x.shape[:2]) * scale
        n = max(1, math.ceil(side / 1024))
        kwargs = dict(axes="YXC", n_tiles=(n, n, 1), show_tile_progress=False, verbose=False)
        if scale != 1.0:
            kwargs["scale"] = scale
        with _quiet():
            labels, details = model.predict_instances(x, **kwargs)
        labels = np.ascontiguousarray(labels, dtype=np.int32)
        prob = np.asarray(details["prob"], dtype=float)
        ids = np.unique(labels[labels > 0])
        # polygons_to_label gives polygon k (0-based, as in details) the id k + 1
        scores = {int(i): float(prob[i - 1]) for i in ids}
        return labels, scores

    def predict(self, image: np.ndarray) -> np.ndarray:
        labels, scores = self._instances(image)
        self._remember(image, labels, scores)
        return labels

    # ------------------------------------------------------------ persistence
    def _save_state(self, path: Path) -> None:
        from csbdeep.utils import save_json

        model = self._require_model()
        folder = path / "stardist"
        folder.mkdir(parents=True, exist_ok=True)
        save_json(vars(model.config), str(folder / "config.json"))
        save_json(self.state["thresholds"], str(folder / "thresholds.json"))
        with _quiet():
            model.keras_model.save_weights(str(folder / "weights_last.h5"))
        (path / "state.json").write_text(json.dumps(self.state, indent=1))
        save_classifier(self.classifier, path)

    def _load_state(self, path: Path) -> None:
        state_file = path / "state.json"
        if not state_file.is_file():
            raise ValueError(f"{path}: no state.json; not a saved stardist model")
        self.state = json.loads(state_file.read_text())
        _setup_tensorflow(self.params.threads)
        from stardist.models import StarDist2D

        with _quiet():
            self._model = StarDist2D(None, name="stardist", basedir=str(path))
        t = self._model.thresholds
        if not (math.isclose(t.prob, self.state["thresholds"]["prob"]) and math.isclose(t.nms, self.state["thresholds"]["nms"])):
            raise ValueError(f"{path}: stardist/thresholds.json disagrees with state.json")
        self.classifier = load_classifier(path)


#: Validation images predicted at each learning-curve checkpoint (the first ones).
CURVE_VAL_IMAGES = 4


def _curve_callback(keras, model, recorder: CurveRecorder, Xv, Yv, fractions):
    """A Keras callback filling `recorder`: training and validation loss after every epoch (Keras'
    own ``loss`` / ``val_loss``), and at the epochs of :func:`bench.curves.checkpoint_steps` (at `fractions`) the pooled
    F1 at IoU 0.5 of ``predict_instances`` (prob 0.5, NMS 0.4: fixed, not the tuned thresholds) on the
    first validation images (working scale). The F1 evaluations are timed into ``recorder.overhead_s``.
    """
    marks = set(checkpoint_steps(recorder.total, fractions)) - {0}

    class _CB(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            f1 = float("nan")
            if epoch + 1 in marks:
                t0 = time.perf_counter()
                with _quiet():
                    preds = [model.predict_instances(x, axes="YXC", prob_thresh=0.5, nms_thresh=0.4,
                                                     show_tile_progress=False, verbose=False)[0] for x in Xv]
                f1 = float(match_dataset(list(Yv), preds, iou_threshold=0.5).f1)
                recorder.overhead_s += time.perf_counter() - t0
            recorder.add(epoch + 1, train_loss=logs.get("loss", float("nan")),
                         val_loss=logs.get("val_loss", float("nan")), val_f1=f1)

    return _CB()


class _TqdmCallback:
    """A tqdm bar over training steps, fed by a Keras callback (losses in the postfix)."""

    def __init__(self, total: int, desc: str):
        self.bar = progress_bar(total=total, desc=desc, unit="step", leave=False)

    def callback(self, keras):
        bar = self.bar

        class _CB(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                bar.update(1)
                if logs and "loss" in logs:
                    bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

        return _CB()

    def close(self):
        self.bar.close()
