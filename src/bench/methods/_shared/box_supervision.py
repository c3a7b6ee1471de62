"""Box supervision: mask-trained methods fitted on boxes (``labels="boxes:<maker>"``).

The U-Net, StarDist and Cellpose learn from instance masks. With
``labels="boxes:<maker>"`` they are fitted on masks made from the samples'
boxes by one of :data:`bench.data.box_labels.MAKERS` (``ellipse``, ``box``,
``threshold``), so they run on a detection dataset (boxes only, e.g.
``cellular-boxes``), and on a dataset with masks they see only the boxes of
those masks (the price of box supervision, measured against the truth).

Everything of the truth a box-supervised method receives is boxes: the
training *and* validation samples are replaced by their box masks (the
validation masks choose the method's thresholds, as the truth does for a
mask-trained method). The ``threshold`` maker's plane and threshold are
learned on the training boxes only. Boxes of zero width or height carry no
extent: they are dropped (see :func:`bench.data.box_labels.box_training_samples`).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from ...data.box_labels import MAKERS, box_training_samples, fit_box_threshold
from ...data.sample import DatasetInfo, Sample

__all__ = ["BOXES_PREFIX", "parse_box_labels", "box_supervision_skip", "box_labels_hint", "box_supervised_samples"]

BOXES_PREFIX = "boxes:"
_BOXES_RE = re.compile(r"^boxes:(?P<maker>[a-z]+)$")


def parse_box_labels(spec: str, *, who: str) -> str | None:
    """The label maker of a ``labels`` parameter, or ``None`` for ``"truth"``.

    Parameters
    ----------
    spec : str
        ``"truth"`` or ``"boxes:<maker>"``.
    who : str
        The method's name, for the error message.

    Raises
    ------
    ValueError
        Naming the parameter `labels`, for anything else.

    Examples
    --------
    >>> parse_box_labels("boxes:ellipse", who="stardist")
    'ellipse'
    >>> parse_box_labels("truth", who="stardist") is None
    True
    """
    if not isinstance(spec, str):
        raise TypeError(f"{who}: parameter `labels` must be a str, got {type(spec).__name__}")
    if spec == "truth":
        return None
    m = _BOXES_RE.match(spec)
    if m is None or m["maker"] not in MAKERS:
        raise ValueError(
            f"{who}: parameter `labels` must be 'truth' or 'boxes:<maker>' with maker one of "
            f"{MAKERS}, got {spec!r}"
        )
    return m["maker"]


def box_supervision_skip(maker: str | None, info: DatasetInfo, tasks: Sequence[str]) -> str | None:
    """Why a method with these `tasks` and label maker cannot run on `info` (task-wise), or None.

    With a maker, a dataset with boxes (``detection``) or masks (``instance``)
    is fine; without one, the method needs a task it solves.
    """
    if maker is not None:
        if {"detection", "instance"} & set(info.tasks):
            return None
        return f"labels='boxes:{maker}' needs boxes or instance masks; dataset {info.name!r} has {list(info.tasks)}"
    if not set(info.tasks) & set(tasks):
        hint = " (train it on boxes with labels='boxes:<maker>')" if "detection" in info.tasks else ""
        return f"solves {list(tasks)}; dataset {info.name!r} has tasks {list(info.tasks)}{hint}"
    return None


def box_labels_hint(reason: str | None, info: DatasetInfo) -> str | None:
    """A mask-trained method's skip `reason`, pointing to ``labels='boxes:<maker>'`` on a
    dataset that has boxes but no masks."""
    if reason and "detection" in info.tasks and "instance" not in info.tasks:
        return f"{reason} (train it on boxes with labels='boxes:<maker>')"
    return reason


def box_supervised_samples(
    train: Sequence[Sample], val: Sequence[Sample], maker: str
) -> tuple[list[Sample], list[Sample], dict[str, Any]]:
    """Training and validation samples whose only truth is masks made from their boxes.

    Parameters
    ----------
    train, val : sequence of Sample
        With boxes, or with instance masks (then their boxes are used).
    maker : {"ellipse", "threshold", "box"}

    Returns
    -------
    train_boxes, val_boxes : list of Sample
        ``labels`` = the box masks (classes, pixel classes and original masks dropped).
    info : dict
        ``maker``, the threshold (``threshold`` maker) and, per split, the
        counts of :func:`~bench.data.box_labels.box_training_samples`.
    """
    if maker not in MAKERS:
        raise ValueError(f"`maker` must be one of {MAKERS}, got {maker!r}")
    threshold = None
    info: dict[str, Any] = {"maker": maker}
    if maker == "threshold":
        threshold = fit_box_threshold(list(train))
        info["threshold"] = {"plane": threshold.plane, "value": round(float(threshold.value), 6),
                             "youden_j": round(float(threshold.youden_j), 4)}
    train_b, info["train"] = box_training_samples(train, maker, threshold=threshold)
    val_b, info["val"] = box_training_samples(val, maker, threshold=threshold) if val else ([], {})
    return train_b, val_b, info
