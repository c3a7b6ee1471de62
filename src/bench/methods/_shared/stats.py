"""Object-size statistics of a training split (:class:`ObjectStats`), used by every family
to choose scales, diameters and size filters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...data.sample import Sample

__all__ = ["ObjectStats"]


@dataclass(frozen=True)
class ObjectStats:
    """Object-size statistics of a training split (from masks, or from boxes).

    Attributes
    ----------
    n_objects : int
        Number of objects measured.
    area_p05, area_median, area_p95 : float
        5th percentile, median and 95th percentile of the object area (px).
    source : {"masks", "boxes"}
        Where the sizes come from; from boxes the area is that of the inscribed
        ellipse, ``pi / 4 * w * h``.
    """

    n_objects: int
    area_p05: float
    area_median: float
    area_p95: float
    source: str = "masks"

    @property
    def radius_median(self) -> float:
        """Equivalent-disk radius of the median area."""
        return math.sqrt(self.area_median / math.pi)

    @property
    def radius_p05(self) -> float:
        return math.sqrt(self.area_p05 / math.pi)

    @property
    def radius_p95(self) -> float:
        return math.sqrt(self.area_p95 / math.pi)

    def scaled(self, factor: int) -> "ObjectStats":
        """The same statistics after downscaling images by `factor`."""
        f2 = float(factor) ** 2
        return ObjectStats(
            self.n_objects, self.area_p05 / f2, self.area_median / f2, self.area_p95 / f2, self.source
        )

    def to_dict(self) -> dict:
        return {
            "n_objects": self.n_objects,
            "area_p05": self.area_p05,
            "area_median": self.area_median,
            "area_p95": self.area_p95,
            "source": self.source,
        }

    @classmethod
    def from_areas(cls, areas: np.ndarray, *, source: str = "masks") -> "ObjectStats":
        """Statistics of a 1-D array of object areas.

        Examples
        --------
        >>> s = ObjectStats.from_areas(np.array([10.0, 20.0, 30.0]))
        >>> s.n_objects, s.area_median
        (3, 20.0)
        """
        areas = np.asarray(areas, dtype=float).ravel()
        if areas.size == 0:
            raise ValueError("`areas` is empty: the training split has no objects")
        p05, med, p95 = np.percentile(areas, [5, 50, 95])
        return cls(int(areas.size), float(p05), float(med), float(p95), source)

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> "ObjectStats":
        """Statistics of the ground-truth objects (labels, else boxes) of `samples`.

        Raises
        ------
        ValueError
            If a sample has neither labels nor boxes, or there is no object at all.
        """
        areas = []
        source = "masks"
        for s in samples:
            if s.labels is not None:
                counts = np.bincount(s.labels.ravel())[1:]
                areas.append(counts[counts > 0].astype(float))
            elif s.boxes is not None:
                source = "boxes"
                h, w = s.shape
                b = np.asarray(s.boxes, float)
                areas.append(math.pi / 4 * (b[:, 3] * w) * (b[:, 4] * h))
            else:
                raise ValueError(f"sample {s.name!r} has neither `labels` nor `boxes` to measure objects")
        return cls.from_areas(np.concatenate(areas) if areas else np.array([]), source=source)
