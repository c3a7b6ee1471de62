"""What truth a method is fitted on (:func:`fit_mode`)."""

from __future__ import annotations

from typing import Sequence

from ...data.sample import Sample

__all__ = ["fit_mode"]


def fit_mode(samples: Sequence[Sample]) -> str:
    """``"instance"``, ``"semantic"`` or ``"detection"``: what truth the training samples carry.

    Raises
    ------
    ValueError
        If the samples mix kinds of truth or carry none.
    """
    kinds = set()
    for s in samples:
        if s.labels is not None:
            kinds.add("instance")
        elif s.semantic is not None:
            kinds.add("semantic")
        elif s.boxes is not None:
            kinds.add("detection")
        else:
            kinds.add("none")
    if kinds == {"instance"} or kinds == {"semantic"} or kinds == {"detection"}:
        return kinds.pop()
    raise ValueError(
        f"training samples must all carry instance labels, semantic labels or boxes; got {sorted(kinds)}"
    )
