"""One (method, dataset, seed) experiment: what a method notebook calls.

A notebook stays a handful of calls::

    exp = Experiment(method_id=method_id, dataset=dataset, split=split,
                     profile=profile, seed=seed, limit=limit, output_dir=output_dir)
    exp.fit()                 # train/validation data only, timed
    exp.predict()             # test images without their truth, timed per image
    scores = exp.score()      # bench.scoring against the split's truth
    exp.save()                # tables, predictions and result.json under output_dir

Data reach the method only through :mod:`bench.splits`: ``fit`` gets
:func:`~bench.splits.load_fit_data`, ``predict`` gets the test images stripped
of their truth, and the truth is loaded by :meth:`Experiment.score` only.
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import sys
import time
from pathlib import Path
import numpy as np
import pandas as pd

from ..data import Sample, get_dataset
from ..methods import Method, Prediction, get_method, parse_method_id
from ..results import write_json, write_table
from ..aggregate import match_scores, semantic_scores
from ..scoring import Scores, score_predictions, tasks_scored
from ..progress import progress_bar
from ..splits import iter_split, load_fit_data, load_test_images, load_test_truth
from ..curves import undertrained

__all__ = ["Experiment", "CellSkipped", "make_method", "SPLITS_SCORED", "PROFILES"]

logger = logging.getLogger(__name__)

#: Splits a notebook may predict and score (validation only for diagnostics:
#: methods tune on it).
SPLITS_SCORED = ("test", "val")
#: Training budgets of trainable methods.
PROFILES = ("ci", "quick", "full")


class CellSkipped(RuntimeError):
    """The method cannot run on this dataset here; the message is the reason.

    Raised by :class:`Experiment` so that a notebook stops at once; the runner
    records the cell as ``skipped`` with this reason.
    """


def make_method(method_id: str, *, profile: str = "quick") -> Method:
    """Instantiate ``method_id`` with the training budget `profile`.

    The profile is passed as the method's ``profile`` parameter when its
    ``Params`` declare one and neither the id nor its preset sets it (a preset
    such as ``stardist_full`` keeps its own); methods without a training budget
    (classical ones) ignore it.

    Raises
    ------
    ValueError
        For an unknown profile (see :data:`PROFILES`), or bad parameters in the id.
    """
    if profile not in PROFILES:
        raise ValueError(f"`profile` must be one of {PROFILES}, got {profile!r}")
    method = get_method(method_id)
    fields = {f.name for f in dataclasses.fields(method.Params)}
    _, raw = parse_method_id(method_id)
    # the id (or a preset such as ``stardist_full``) may fix the profile: it wins
    if "profile" in fields and "profile" not in raw and method.params.profile == method.Params().profile:
        method = get_method(method_id, profile=profile)
    return method


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) used by this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return float(r.ru_utime + r.ru_stime)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak) / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


class Experiment:
    """Fit, predict, score and save one method on one dataset.

    Parameters
    ----------
    method_id : str
        Method id, e.g. ``"isodata_watershed"`` or ``"unet[depth=5,features=64]"``.
    dataset : str
        Dataset name (:func:`bench.data.dataset_names`, or ``folder:<path>``).
    split : {"test", "val"}, optional
        Which split to predict and score.
    profile : {"ci", "quick", "full"}, optional
        Training budget (see :func:`make_method`).
    seed : int, optional
        Passed to ``fit(..., rng=seed)``.
    limit : int, optional
        Use only the first `limit` images of each split (smoke tests).
    output_dir : str or Path, optional
        Where :meth:`save` writes (default: ``./outputs``).

    Raises
    ------
    CellSkipped
        If the dataset is unavailable here or the method says it cannot run on it
        (``Method.skip``).
    """

    def __init__(
        self,
        *,
        method_id: str,
        dataset: str,
        split: str = "test",
        profile: str = "quick",
        seed: int = 0,
        limit: int | None = None,
        output_dir: str | Path | None = None,
    ):
        if split not in SPLITS_SCORED:
            raise ValueError(f"`split` must be one of {SPLITS_SCORED}, got {split!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"`seed` must be an int, got {seed!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
            raise ValueError(f"`limit` must be None or an int >= 1, got {limit!r}")
        self.method_id = method_id
        self.dataset_name = dataset
        self.split = split
        self.profile = profile
        self.seed = int(seed)
        self.limit = None if limit is None else int(limit)
        self.output_dir = Path("outputs" if output_dir is None else output_dir)
        self.dataset = get_dataset(dataset)
        self.info = self.dataset.info
        self.method = make_method(method_id, profile=profile)
        reason = self.dataset.unavailable_reason() or self.method.skip(self.info)
        if reason:
            raise CellSkipped(reason)
        self.fit_s: float | None = None
        self.fit_cpu_s: float | None = None
        self.predict_cpu_s: float | None = None
        self.predict_s: list[float] = []
        self.images: list[Sample] = []
        self.predictions: list[Prediction] = []
        self._truth: list[Sample] | None = None
        self.scores: Scores | None = None

    def __repr__(self):
        return (f"<Experiment {self.method_id} on {self.dataset_name}/{self.split} "
                f"seed={self.seed} profile={self.profile}>")

    # ------------------------------------------------------------------ steps
    def fit(self) -> Method:
        """Load train/validation data (untimed) and fit the method (timed)."""
        train, val = load_fit_data(self.dataset_name, limit=self.limit, progress=True)
        logger.info("fitting %s on %d train / %d val images", self.method_id, len(train), len(val))
        t0, c0 = time.perf_counter(), _cpu_s()
        self.method.fit(train, val, rng=self.seed)
        self.fit_s = time.perf_counter() - t0
        self.fit_cpu_s = _cpu_s() - c0
        return self.method

    def _load_images(self) -> list[Sample]:
        if self.split == "test":
            return load_test_images(self.dataset_name, limit=self.limit, progress=True)
        return [s.image_only() for s in iter_split(self.dataset_name, "val", limit=self.limit)]

    def predict(self) -> list[Prediction]:
        """Predict every image of the split (truth stripped), timing each one."""
        if self.fit_s is None:
            raise RuntimeError("call `fit()` before `predict()`")
        self.images = self._load_images()
        self.predictions, self.predict_s = [], []
        c0 = _cpu_s()
        for sample in progress_bar(self.images, desc=f"predict {self.method_id}", leave=False):
            t0 = time.perf_counter()
            pred = self.method.predict_full(sample)
            self.predict_s.append(time.perf_counter() - t0)
            self.predictions.append(pred)
        self.predict_cpu_s = _cpu_s() - c0
        return self.predictions

    @property
    def truth(self) -> list[Sample]:
        """The annotated samples of the split (for scoring and figures only)."""
        if self._truth is None:
            if self.split == "test":
                self._truth = load_test_truth(self.dataset_name, limit=self.limit)
            else:
                self._truth = list(iter_split(self.dataset_name, "val", limit=self.limit))
        return self._truth

    def score(self) -> Scores:
        """Score the predictions (:func:`bench.scoring.score_predictions`)."""
        if not self.predictions:
            raise RuntimeError("call `predict()` before `score()`")
        self.scores = score_predictions(self.truth, self.predictions, info=self.info)
        return self.scores

    # ----------------------------------------------------------------- output
    def keys(self) -> dict:
        """The key columns (:data:`bench.results.KEY_COLUMNS`) of this experiment."""
        return {
            "dataset": self.dataset_name,
            "split": self.split,
            "method_id": self.method_id,
            "method": self.method.name,
            "seed": self.seed,
            "profile": self.profile,
        }

    def result(self) -> dict:
        """Measurements of this experiment (the fields ``result.json`` holds)."""
        return {
            "status": "ok",
            "reason": "",
            **self.keys(),
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.method.param_dict().items()},
            "limit": self.limit,
            "tasks": list(tasks_scored(self.info)),
            "n_images": len(self.predictions),
            "fit_s": self.fit_s,
            "predict_s_per_image": float(np.median(self.predict_s)) if self.predict_s else None,
            "predict_s_total": float(np.sum(self.predict_s)) if self.predict_s else None,
            "peak_mem_mb": _peak_rss_mb(),
            "fit_cpu_s": self.fit_cpu_s,
            "predict_cpu_s": self.predict_cpu_s,
            "cpu_s": _cpu_s(),
            **self._curve_fields(),
        }

    def learning_curve(self) -> pd.DataFrame | None:
        """The method's learning curve (:data:`bench.curves.CURVE_COLUMNS`), None if it does not train."""
        rec = getattr(self.method, "learning_curve", None)
        return None if rec is None or not rec.rows else rec.frame()

    def _curve_fields(self) -> dict:
        curve = self.learning_curve()
        if curve is None:
            return {"undertrained": None, "curve_overhead_s": None}
        return {"undertrained": undertrained(curve),
                "curve_overhead_s": float(getattr(self.method.learning_curve, "overhead_s", 0.0))}

    def save(self) -> Path:
        """Write tables, predicted label images and ``result.json`` to :attr:`output_dir`.

        Returns
        -------
        Path
            The output folder.
        """
        import tifffile

        if self.scores is None:
            raise RuntimeError("call `score()` before `save()`")
        out = self.output_dir
        keys = self.keys()
        for name, df in self.scores.tables.items():
            df = df.copy()
            if name == "images":
                df["predict_s"] = self.predict_s
            for i, (k, v) in enumerate(keys.items()):
                df.insert(i, k, v)
            write_table(out / "tables" / f"{name}.csv", df)
        pred_dir = out / "predictions"
        pred_dir.mkdir(parents=True, exist_ok=True)
        classes = {}
        for sample, pred in zip(self.images, self.predictions):
            tifffile.imwrite(pred_dir / f"{sample.name}.tif", pred.labels, compression="zlib")
            if pred.classes is not None:
                classes[sample.name] = {str(k): int(v) for k, v in pred.classes.items()}
        if classes:
            write_json(pred_dir / "classes.json", classes)
        curve = self.learning_curve()
        if curve is not None:
            for i, (k, v) in enumerate(keys.items()):
                curve.insert(i, k, v)
            write_table(out / "curve.csv", curve)
        write_json(out / "result.json", self.result())
        return out

    def figure_path(self, name: str) -> Path:
        """``<output_dir>/figures/<name>.png`` (folder created)."""
        p = self.output_dir / "figures" / f"{name}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # ---------------------------------------------------------------- figures
    def per_image(self, *, threshold: float = 0.5) -> pd.DataFrame:
        """Per-image scores at `threshold` (F1 etc., or mean IoU for semantic data)."""
        if self.scores is None:
            raise RuntimeError("call `score()` first")
        for t in ("instance", "detection"):
            df = self.scores[t]
            if len(df):
                return match_scores(df, threshold=threshold, by=("image",))
        df = self.scores["semantic"]
        s = semantic_scores(df, by=("image",))
        s = s[s["class_id"] > 0].groupby("image", as_index=False)["iou"].mean()
        return s.rename(columns={"iou": "miou"})

    def ranked_images(self, *, threshold: float = 0.5) -> list[str]:
        """Image names from the worst to the best score (F1 or mean IoU)."""
        s = self.per_image(threshold=threshold)
        col = "f1" if "f1" in s.columns else "miou"
        return s.sort_values([col, "image"])["image"].tolist()

    def sample(self, name: str) -> tuple[Sample, Prediction]:
        """The annotated sample called `name` and its prediction."""
        for s, p in zip(self.truth, self.predictions):
            if s.name == name:
                return s, p
        raise ValueError(f"`name` {name!r} is not an image of this experiment; images: {[s.name for s in self.truth]}")
