"""CDL: the U-Net's training labels made by a conventional method (``labels="weak:<id>"``);
the ``labels`` parameter's parser (also ``"boxes:<maker>"``: :mod:`bench.methods._shared.box_supervision`)."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any, Sequence

from ...data.sample import Sample
from .._shared.box_supervision import BOXES_PREFIX, parse_box_labels

__all__ = ["parse_labels_spec", "weak_training_samples"]

_LABELS_RE = re.compile(r"^(?P<kind>weak|weak-untuned):(?P<method>[A-Za-z0-9_\-]+(?:\[[^\[\],]*\])?)$")


def parse_labels_spec(spec: str) -> tuple[str, str | None]:
    """Split the `labels` parameter into its kind and the weak method's id.

    >>> parse_labels_spec("truth")
    ('truth', None)
    >>> parse_labels_spec("weak:isodata_watershed")
    ('weak', 'isodata_watershed')
    >>> parse_labels_spec("weak-untuned:isodata_watershed[sigma=1.0]")
    ('weak-untuned', 'isodata_watershed[sigma=1.0]')
    >>> parse_labels_spec("boxes:ellipse")
    ('boxes', 'ellipse')
    """
    if spec == "truth":
        return "truth", None
    if spec.startswith(BOXES_PREFIX):
        return "boxes", parse_box_labels(spec, who="unet")
    m = _LABELS_RE.match(spec)
    if m is None:
        raise ValueError(
            f"parameter `labels` must be 'truth', 'weak:<method-id>', 'weak-untuned:<method-id>' or 'boxes:<maker>' "
            f"(a method id with at most one parameter, no commas), got {spec!r}"
        )
    return m["kind"], m["method"]


def weak_training_samples(
    kind: str, method_id: str, train: Sequence[Sample], val: Sequence[Sample], *, rng: int
) -> tuple[list[Sample], list[Sample], dict[str, Any]]:
    """CDL training samples: the training images labelled by a conventional method.

    Parameters
    ----------
    kind : {"weak", "weak-untuned"}
        ``"weak"``: the method is fitted with ``fit(train, val)`` as in the
        benchmark (its parameter tuning may use that truth); ``"weak-untuned"``:
        its fit gets the samples stripped of truth.
    method_id : str
        A registered method id, e.g. ``"isodata_watershed"``.
    train, val : sequence of Sample
    rng : int
        Seed of the weak method's fit.

    Returns
    -------
    train_weak : list of Sample
        Each training image with the weak method's labels (and classes when it
        predicts classes, or pixel classes for a semantic method) in place of
        the truth; nothing of the truth is kept.
    val_weak : list of Sample
        The validation images with weak labels (``"weak-untuned"`` only, else empty).
    info : dict
        What made the labels (method id, kind, fit time).
    """
    from ..registry import get_method  # cycle: the registry imports this module

    weak = get_method(method_id)
    t0 = time.perf_counter()
    if kind == "weak":
        weak.fit(list(train), list(val), rng=rng)
    elif kind == "weak-untuned":
        try:
            weak.fit([s.image_only() for s in train], [s.image_only() for s in val], rng=rng)
        except ValueError as exc:
            raise ValueError(
                f"unet: labels='weak-untuned:{method_id}' needs a method that runs without ground truth; "
                f"{weak.id}.fit() refused samples without truth: {exc}"
            ) from exc
    else:
        raise ValueError(f"unknown weak-label kind {kind!r}")

    def relabel(s: Sample) -> Sample:
        bare = s.image_only()
        pred = weak.predict_full(bare.image)
        if "semantic" in weak.tasks and s.semantic is not None and s.labels is None:
            return dataclasses.replace(bare, semantic=pred.labels)
        classes = None if pred.classes is None else {int(k): int(v) for k, v in pred.classes.items()}
        return dataclasses.replace(bare, labels=pred.labels, classes=classes)

    train_weak = [relabel(s) for s in train]
    val_weak = [relabel(s) for s in val] if kind == "weak-untuned" else []
    info = {"kind": kind, "method": weak.id, "weak_seconds": round(time.perf_counter() - t0, 3)}
    return train_weak, val_weak, info
