"""Learning curves of trained methods, and the "under-trained at this budget" rule.

A trained method records, while it fits, a few *checkpoints* of its training:
the fraction of the budget done, the mean training loss since the previous
checkpoint, the validation loss and (where affordable) the validation F1 at IoU
0.5 with fixed post-processing. The rows are tidy (:data:`CURVE_COLUMNS`); the
runner stores them as ``curve.csv`` in the cell folder (with the key columns of
:data:`bench.results.KEY_COLUMNS`), and :func:`undertrained` turns a curve into
the verdict the leaderboard shows.

The rule (:data:`UNDERTRAINED_RULE`, stated once, here)::

    under-trained at this budget: over the last 20% of the training budget the
    validation loss still fell by more than 10% of its total fall since the first
    checkpoint, or the validation F1 rose by more than 0.03 between the last two
    checkpoints.

Only this module decides; the leaderboard and the book quote the rule from here.

>>> flat = pd.DataFrame({"fraction": [0, .2, .4, .6, .8, 1], "val_loss": [1, .3, .21, .2, .2, .2]})
>>> undertrained(flat)
''
>>> steep = pd.DataFrame({"fraction": [0, .2, .4, .6, .8, 1], "val_loss": [1, .9, .8, .7, .6, .5]})
>>> undertrained(steep)
'val loss fell 0.1 over the last 20% of the budget (20% of its total fall 0.5)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CURVE_COLUMNS",
    "CHECKPOINT_FRACTIONS",
    "CI_CHECKPOINT_FRACTIONS",
    "checkpoint_fractions",
    "LAST_FRACTION",
    "LOSS_FALL_SHARE",
    "F1_RISE",
    "UNDERTRAINED_RULE",
    "CurveRecorder",
    "checkpoint_steps",
    "undertrained",
]

#: Columns of a learning curve: ``step`` (optimiser steps or epochs done, the
#: method's own unit, named in ``unit``), ``fraction`` of the budget done (0 to 1),
#: ``train_loss`` (mean training loss since the previous checkpoint; NaN at 0),
#: ``val_loss`` (loss on the validation images; NaN when not measured),
#: ``val_f1`` (F1 at IoU 0.5 on the validation images with fixed post-processing;
#: NaN when not measured).
CURVE_COLUMNS = ("step", "unit", "fraction", "train_loss", "val_loss", "val_f1")
#: Where checkpoints are taken, as fractions of the budget: six evaluations.
CHECKPOINT_FRACTIONS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: The ``ci`` profile's checkpoints: a test budget records its curve cheaply (three
#: evaluations; each costs predictions on validation images, a large share of a tiny fit).
CI_CHECKPOINT_FRACTIONS = (0.0, 0.5, 1.0)
#: The tail of the budget the rule looks at.
LAST_FRACTION = 0.2
#: Under-trained if the validation loss fell by more than this share of its total
#: fall during the last :data:`LAST_FRACTION` of the budget.
LOSS_FALL_SHARE = 0.10
#: ... or if the validation F1 rose by more than this between the last two checkpoints.
F1_RISE = 0.03

UNDERTRAINED_RULE = (
    f"under-trained at this budget: over the last {LAST_FRACTION:.0%} of the training budget the validation "
    f"loss still fell by more than {LOSS_FALL_SHARE:.0%} of its total fall since the first checkpoint, or the "
    f"validation F1 rose by more than {F1_RISE:g} between the last two checkpoints"
)


def checkpoint_fractions(profile: str) -> tuple[float, ...]:
    """Where a fit at `profile` takes its checkpoints (:data:`CI_CHECKPOINT_FRACTIONS` for ``ci``).

    >>> checkpoint_fractions("ci"), len(checkpoint_fractions("quick"))
    ((0.0, 0.5, 1.0), 6)
    """
    return CI_CHECKPOINT_FRACTIONS if profile == "ci" else CHECKPOINT_FRACTIONS


def checkpoint_steps(total: int, fractions: Sequence[float] = CHECKPOINT_FRACTIONS) -> list[int]:
    """The steps (0..`total`) at which checkpoints are taken, without duplicates.

    >>> checkpoint_steps(64)
    [0, 13, 26, 38, 51, 64]
    >>> checkpoint_steps(3)
    [0, 1, 2, 3]
    """
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 0:
        raise ValueError(f"`total` must be an int >= 0, got {total!r}")
    return sorted({int(round(f * total)) for f in fractions})


@dataclass
class CurveRecorder:
    """Collects the checkpoints of one fit (a method keeps one as ``learning_curve``).

    Parameters
    ----------
    total : int
        The budget in `unit` (steps or epochs).
    unit : str
        ``"step"`` or ``"epoch"``.
    """

    total: int
    unit: str = "step"
    rows: list[dict] = field(default_factory=list)
    overhead_s: float = 0.0

    def add(self, step: int, *, train_loss: float = math.nan, val_loss: float = math.nan,
            val_f1: float = math.nan) -> None:
        """Record the checkpoint after `step` units."""
        frac = step / self.total if self.total else 1.0
        self.rows.append({"step": int(step), "unit": self.unit, "fraction": round(float(frac), 6),
                          "train_loss": _f(train_loss), "val_loss": _f(val_loss), "val_f1": _f(val_f1)})

    def frame(self) -> pd.DataFrame:
        """The curve as a tidy DataFrame (:data:`CURVE_COLUMNS`)."""
        return pd.DataFrame(self.rows, columns=list(CURVE_COLUMNS))

    def to_dict(self) -> dict:
        return {"total": self.total, "unit": self.unit, "rows": self.rows, "overhead_s": round(self.overhead_s, 3)}

    @classmethod
    def from_dict(cls, d: dict) -> "CurveRecorder":
        return cls(total=int(d["total"]), unit=str(d.get("unit", "step")), rows=list(d.get("rows", [])),
                   overhead_s=float(d.get("overhead_s", 0.0)))


def _f(v) -> float:
    return float("nan") if v is None else float(v)


def undertrained(curve: pd.DataFrame) -> str:
    """Why `curve` looks under-trained at its budget, or ``""`` (see :data:`UNDERTRAINED_RULE`).

    Parameters
    ----------
    curve : DataFrame
        Columns ``fraction`` and ``val_loss`` and/or ``val_f1`` (others ignored);
        rows with NaN in a column are ignored for that column.

    Returns
    -------
    str
        The measured reason (a sentence with the numbers) when the rule fires, else ``""``.
        A curve with fewer than two measured checkpoints never fires.
    """
    if "fraction" not in curve.columns:
        raise ValueError(f"`curve` needs a `fraction` column, got columns {list(curve.columns)}")
    c = curve.sort_values("fraction", kind="mergesort")
    reasons = []
    if "val_loss" in c.columns:
        v = c[["fraction", "val_loss"]].dropna()
        if len(v) >= 2:
            f, loss = v["fraction"].to_numpy(float), v["val_loss"].to_numpy(float)
            total = loss[0] - loss[-1]
            before = f <= f[-1] - LAST_FRACTION + 1e-9
            if total > 0 and before.any():
                tail = loss[before][-1] - loss[-1]
                if tail > LOSS_FALL_SHARE * total:
                    reasons.append(f"val loss fell {tail:.3g} over the last {f[-1] - f[before][-1]:.0%} of the budget "
                                   f"({tail / total:.0%} of its total fall {total:.3g})")
    if "val_f1" in c.columns:
        v = c[["fraction", "val_f1"]].dropna()
        if len(v) >= 2:
            rise = float(v["val_f1"].iloc[-1] - v["val_f1"].iloc[-2])
            if rise > F1_RISE:
                reasons.append(f"val F1 rose {rise:+.3f} between the last two checkpoints")
    return "; ".join(reasons)
