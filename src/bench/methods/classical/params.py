"""Parameters shared by every classical method, and the records its fitting works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import numpy as np

from ...data.sample import Sample

__all__ = ["PROFILES", "FIT_IMAGES", "ClassicalParams", "WorkSample", "TuneScore"]

#: Training budgets (the runner passes its profile as the ``profile`` parameter).
PROFILES = ("ci", "quick", "full")
#: Images used for tuning, per profile (parameter ``max_fit_images``).
FIT_IMAGES = {"ci": 2, "quick": 4, "full": 8}


@dataclass(frozen=True)
class ClassicalParams:
    """Parameters shared by every classical method.

    Attributes
    ----------
    channel : str
        ``"auto"`` (chosen on training data), a channel name, ``"sum"``,
        ``"max"``, ``"max+std"``, ``"-<name>"`` (inverted) or ``"std:<name>"``
        (texture). Ignored by pixel classifiers, which use all channels.
    working_diameter : float
        Target median object diameter (px) at the working scale; images are
        downscaled by the integer factor ``floor(median diameter /
        working_diameter)`` (at least 1). 0 disables rescaling.
    profile : {"ci", "quick", "full"}
        Budget of the fit: how many images are used for tuning and how fine the
        grids are ("ci": seconds, for tests; "quick": the benchmark's quick run;
        "full": the published protocols, e.g. LysoQuant's complete 0.1-step
        Hough grid and ilastik's 100 trees).
    max_fit_images : int or None
        Training (and validation) images used for tuning, chosen at random
        with the fit's `rng` when there are more; None: 2 / 4 / 8 for the
        ci / quick / full profiles.
    """

    channel: str = "auto"
    working_diameter: float = 24.0
    profile: Literal["ci", "quick", "full"] = "quick"
    max_fit_images: int | None = None

    def validate(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            raise ValueError(f"parameter `channel` must be a non-empty string, got {self.channel!r}")
        if self.working_diameter < 0:
            raise ValueError(f"parameter `working_diameter` must be >= 0, got {self.working_diameter}")
        if self.max_fit_images is not None and self.max_fit_images < 1:
            raise ValueError(f"parameter `max_fit_images` must be >= 1 or None, got {self.max_fit_images}")

    def budget(self, name: str, table: Mapping[str, Any]) -> Any:
        """Parameter `name` if set, else its value for this profile in `table`."""
        value = getattr(self, name)
        return table[self.profile] if value is None else value


@dataclass(frozen=True, eq=False)
class WorkSample:
    """A training sample at the working scale.

    Attributes
    ----------
    image : (M', N') or (M', N', C) ndarray of float32
        Working image (one plane, or every normalised channel).
    labels : (M', N') ndarray of int32 or None
        Truth instance labels at the working scale.
    semantic : (M', N') ndarray of int32 or None
        Truth pixel classes at the working scale.
    boxes : (K, 4) ndarray of float or None
        Truth boxes ``(y0, x0, y1, x1)`` in full-resolution pixels.
    sample : Sample
        The original sample.
    """

    image: np.ndarray
    labels: np.ndarray | None
    semantic: np.ndarray | None
    boxes: np.ndarray | None
    sample: Sample


@dataclass(frozen=True, order=True)
class TuneScore:
    """Pooled F1 at IoU 0.5 and mean matched IoU of one parameter setting (compare by F1 first)."""

    f1: float
    mean_iou: float
    tp: int = field(default=0, compare=False)
    n_true: int = field(default=0, compare=False)
    n_pred: int = field(default=0, compare=False)
