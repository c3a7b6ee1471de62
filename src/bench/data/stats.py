"""Statistics of a dataset: images, annotated objects, classes and pixel fractions per split.

One implementation for everything that describes a dataset: ``bench datasets
--stats`` and the dataset cards of the book (:mod:`bench.book.cards`). It is handed
the split (:func:`bench.splits.get_split`) rather than reading it, so that the data
layer does not import the split layer above it.
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol, Sequence

import numpy as np
from ..progress import progress_bar

from .registry import get_dataset
from .sample import DatasetInfo, Sample

__all__ = ["sample_stats", "split_stats"]


class _SplitLike(Protocol):
    """What :func:`split_stats` reads of a :class:`bench.splits.Split`."""

    dataset: str
    rule: str
    sha256: str

    def ids(self, which: str) -> Sequence[str]: ...

    def sizes(self) -> dict[str, int]: ...


def sample_stats(samples: Iterable[Sample], info: DatasetInfo) -> dict[str, Any]:
    """Counts over `samples`: ``objects``, ``classes`` (name -> objects), ``shapes``
    (sorted ``[y, x]``) and, for pixel-wise truth, ``pixels`` (class name -> fraction).

    Examples
    --------
    >>> from bench.data import Sample, DatasetInfo
    >>> labels = np.array([[0, 1], [2, 2]], np.int32)
    >>> info = DatasetInfo(name="toy", description="", target="nuclei", tasks=("instance",),
    ...                    channels=("dapi",), source="synthetic", class_names=("a", "b"))
    >>> s = Sample(name="x", image=np.zeros((2, 2, 1), np.float32), channels=("dapi",), labels=labels,
    ...            classes={1: 0, 2: 1})
    >>> sample_stats([s, s], info)
    {'objects': 4, 'classes': {'a': 2, 'b': 2}, 'shapes': [[2, 2]]}
    """
    n_obj, classes, pixels, shapes, n_pix = 0, {}, {}, set(), 0
    for s in samples:
        shapes.add(tuple(int(v) for v in s.shape))
        n_obj += s.n_objects
        if s.classes and info.class_names:
            for c in s.classes.values():
                cname = info.class_names[int(c)]
                classes[cname] = classes.get(cname, 0) + 1
        if s.semantic is not None and info.semantic_names:
            counts = np.bincount(s.semantic.ravel(), minlength=len(info.semantic_names))
            for k, cname in enumerate(info.semantic_names):
                pixels[cname] = pixels.get(cname, 0) + int(counts[k])
            n_pix += int(s.semantic.size)
    out: dict[str, Any] = {"objects": n_obj, "classes": classes, "shapes": sorted(list(s) for s in shapes)}
    if n_pix:
        out["pixels"] = {k: v / n_pix for k, v in pixels.items()}
    return out


def split_stats(split: _SplitLike, *, progress: bool = False) -> dict[str, Any]:
    """Images, objects and classes per split of a dataset (loads every sample once).

    Parameters
    ----------
    split : bench.splits.Split
        The dataset's split (:func:`bench.splits.get_split`).
    progress : bool, optional
        Show a progress bar per split.

    Returns
    -------
    dict
        ``{"splits": {split: {"images", "objects", "classes": {name: n},
        "pixels": {name: fraction}, "shapes": [[y, x], ...]}}, "rule", "sha256"}``.
        Only split sizes (``images``) when the dataset is unavailable here.

    Examples
    --------
    >>> from bench.splits import get_split
    >>> stats = split_stats(get_split("synth-lyso-easy"))
    >>> [(k, v["images"]) for k, v in stats["splits"].items()]
    [('train', 24), ('val', 6), ('test', 10)]
    >>> sum(stats["splits"]["test"]["classes"].values()) == stats["splits"]["test"]["objects"]
    True
    """
    ds = get_dataset(split.dataset)
    out: dict[str, Any] = {"rule": split.rule, "sha256": split.sha256, "splits": {}}
    for which, n in split.sizes().items():
        entry: dict[str, Any] = {"images": n}
        if ds.available:
            ids = progress_bar(split.ids(which), desc=f"{split.dataset}/{which}", disable=not progress, leave=False)
            entry.update(sample_stats((ds.load(i) for i in ids), ds.info))
        out["splits"][which] = entry
    return out
