"""The unit of data handed around the benchmark: one image with its annotations."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

__all__ = ["Sample", "DatasetInfo", "TASKS"]

#: Tasks a dataset can support. ``instance``: instance label images;
#: ``classification``: a class per object (on top of ``instance``);
#: ``semantic``: one class per pixel; ``detection``: boxes only (scored by box IoU).
TASKS = ("instance", "classification", "semantic", "detection")


@dataclass(frozen=True, eq=False)
class Sample:
    """One image and whatever ground truth its dataset has.

    Parameters
    ----------
    name : str
        Identifier, unique within its dataset (a file stem or a generated id).
    image : (Y, X, C) ndarray of float32
        Intensities; channel ``c`` is named ``channels[c]``.
    channels : tuple of str
        Channel names, e.g. ``("gfp", "rfp", "transmitted")``.
    labels : (Y, X) ndarray of int32, optional
        Instance labels, 0 = background. ``None`` when the dataset has none
        (or when the sample was stripped of its truth with :meth:`image_only`).
    classes : dict of int to int, optional
        Class id (an index into :attr:`DatasetInfo.class_names`) of each
        instance id in ``labels``.
    semantic : (Y, X) ndarray of int32, optional
        Semantic class of each pixel (index into :attr:`DatasetInfo.semantic_names`).
    boxes : (K, 5) ndarray of float64, optional
        YOLO-style boxes ``(class, x_center, y_center, width, height)``
        normalised to [0, 1].
    meta : dict
        Provenance: ``source`` (file path or generator), ``pixel_size_um``
        (None if unknown) and dataset-specific fields (well, site, timepoint).
    """

    name: str
    image: np.ndarray
    channels: tuple[str, ...]
    labels: np.ndarray | None = None
    classes: Mapping[int, int] | None = None
    semantic: np.ndarray | None = None
    boxes: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        img = self.image
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(
                f"sample {self.name!r}: `image` must be a (Y, X, C) array, got "
                f"{type(img).__name__} with shape {getattr(img, 'shape', None)}"
            )
        if img.dtype != np.float32:
            raise TypeError(f"sample {self.name!r}: `image` must be float32, got {img.dtype}")
        if len(self.channels) != img.shape[2]:
            raise ValueError(
                f"sample {self.name!r}: {len(self.channels)} channel names for an image "
                f"with {img.shape[2]} channels (shape {img.shape})"
            )
        for attr in ("labels", "semantic"):
            arr = getattr(self, attr)
            if arr is None:
                continue
            if arr.shape != img.shape[:2]:
                raise ValueError(
                    f"sample {self.name!r}: `{attr}` (shape {arr.shape}) must have the "
                    f"same shape as `image[..., 0]` (shape {img.shape[:2]})"
                )
            if arr.dtype != np.int32:
                raise TypeError(f"sample {self.name!r}: `{attr}` must be int32, got {arr.dtype}")
        if self.boxes is not None and (self.boxes.ndim != 2 or self.boxes.shape[1] != 5):
            raise ValueError(
                f"sample {self.name!r}: `boxes` must have shape (K, 5), got {self.boxes.shape}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(Y, X)`` of the image."""
        return self.image.shape[:2]

    def channel(self, name: str) -> np.ndarray:
        """The ``(Y, X)`` plane of channel ``name``."""
        try:
            return self.image[..., self.channels.index(name)]
        except ValueError:
            raise ValueError(
                f"sample {self.name!r} has no channel {name!r}; channels are {self.channels}"
            ) from None

    def image_only(self) -> "Sample":
        """A copy without any ground truth: what a method sees at test time."""
        return replace(self, labels=None, classes=None, semantic=None, boxes=None)

    @property
    def n_objects(self) -> int:
        """Number of annotated objects (instances, else boxes, else 0)."""
        if self.labels is not None:
            return int(np.unique(self.labels[self.labels > 0]).size)
        if self.boxes is not None:
            return int(self.boxes.shape[0])
        return 0


@dataclass(frozen=True)
class DatasetInfo:
    """What a method and a reader may know about a dataset, without its data.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"synth-lyso"``.
    tasks : tuple of str
        Subset of :data:`TASKS`.
    channels : tuple of str
        Channel names of every image.
    source : {"synthetic", "mirror", "download", "folder"}
        Where the data comes from.
    description : str
        One paragraph for the dataset card.
    target : str
        Which objects ``Sample.labels`` hold (``"lysosomes"``, ``"cells"``,
        ``"puncta"``, ``"nuclei"``...).
    class_names : tuple of str
        Names of per-object classes (``classification`` task), else empty.
    semantic_names : tuple of str
        Names of pixel classes, 0 first (``semantic`` task), else empty.
    pixel_size_um : float, optional
        Pixel size in micrometres, if known.
    citation, license : str
        Provenance shown in the book.
    """

    name: str
    tasks: tuple[str, ...]
    channels: tuple[str, ...]
    source: str
    description: str = ""
    target: str = "objects"
    class_names: tuple[str, ...] = ()
    semantic_names: tuple[str, ...] = ()
    pixel_size_um: float | None = None
    citation: str = ""
    license: str = ""
    url: str = ""

    def __post_init__(self):
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"dataset {self.name!r}: unknown task(s) {bad}; expected {TASKS}")
        if self.source not in ("synthetic", "mirror", "download", "folder"):
            raise ValueError(f"dataset {self.name!r}: unknown source {self.source!r}")
