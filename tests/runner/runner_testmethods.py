"""Test-only methods for the runner tests (never registered by the package).

The tests register them in a fixture (and unregister them afterwards, so
contract tests over the registry never see them); the test notebook's kernel
registers them with :func:`register` after loading this file by path.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from bench.methods import Method, method_names, register_method, unregister_method

NAMES = ("test_threshold", "test_raises", "test_hangs", "test_skips", "test_slow", "test_learner")


@dataclass(frozen=True)
class _ThresholdParams:
    offset: float = 0.0
    profile: str = "quick"


class _Threshold(Method):
    """Connected components of the first channel above its mean (+ offset)."""

    Params = _ThresholdParams
    tasks = ("instance", "classification", "detection")

    def predict(self, image):
        plane = image[..., 0]
        labels, _ = ndi.label(plane > plane.mean() + self.params.offset)
        return labels.astype(np.int32)

    def predict_classes(self, image, labels):
        return {int(k): 0 for k in np.unique(labels[labels > 0])}


class TestThreshold(_Threshold):
    name = "test_threshold"


class TestRaises(_Threshold):
    name = "test_raises"

    def predict(self, image):
        raise RuntimeError("boom: this test method always fails")


class TestHangs(_Threshold):
    name = "test_hangs"

    def fit(self, train, val, *, rng=None):
        time.sleep(600)
        return super().fit(train, val, rng=rng)


class TestSkips(_Threshold):
    name = "test_skips"

    def skip(self, info):
        return "test_skips never runs (test method)"


@dataclass(frozen=True)
class _LearnerParams:
    steep: bool = True
    profile: str = "quick"


class TestLearner(_Threshold):
    """Records a hand-made learning curve: still falling steeply (``steep``) or flat."""

    name = "test_learner"
    Params = _LearnerParams

    def fit(self, train, val, *, rng=None):
        from bench.curves import CurveRecorder

        super().fit(train, val, rng=rng)
        losses = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5] if self.params.steep else [1.0, 0.4, 0.3, 0.3, 0.3, 0.3]
        self.learning_curve = CurveRecorder(total=10, unit="step", overhead_s=0.01)
        for step, v in zip(range(0, 12, 2), losses):
            self.learning_curve.add(step, train_loss=v + 0.05 if step else float("nan"), val_loss=v, val_f1=1 - v)
        return self

    def predict(self, image):
        plane = image[..., 0]
        labels, _ = ndi.label(plane > plane.mean())
        return labels.astype(np.int32)


class TestSlow(_Threshold):
    name = "test_slow"

    def fit(self, train, val, *, rng=None):
        time.sleep(1.5)
        return super().fit(train, val, rng=rng)


_CLASSES = (TestThreshold, TestRaises, TestHangs, TestSkips, TestSlow, TestLearner)


def register() -> None:
    """Add the test methods to the registry (idempotent)."""
    for cls in _CLASSES:
        if cls.name not in method_names(presets=False, plugins=False):
            register_method(cls)


def unregister() -> None:
    """Remove them again, so no other test sees them."""
    for cls in _CLASSES:
        if cls.name in method_names(presets=False, plugins=False):
            unregister_method(cls.name)

PATH = Path(__file__).resolve()


def load():
    """Import this file as module ``runner_testmethods`` (once per process)."""
    if "runner_testmethods" in sys.modules:
        return sys.modules["runner_testmethods"]
    spec = importlib.util.spec_from_file_location("runner_testmethods", PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["runner_testmethods"] = mod
    spec.loader.exec_module(mod)
    return mod
