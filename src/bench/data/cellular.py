"""The CELLULAR dataset in its upstream layout (Zenodo record 8315423).

Al Outa A. et al., "CELLULAR, A Cell Autophagy Imaging Dataset", Sci Data 10
(2023), doi:10.1038/s41597-023-02687-x.

Upstream archives, extracted side by side under one root::

    images/      raw TIFF triplets per field: <stem>_w1*.tif (EGFP), _w2 (mRFP), _w3 (transmitted)
    images-color/ merged colour JPEGs <stem>.jpg
    masks/<stem>/<class folder>/<cell>.png   one binary PNG per cell
    bounding-boxes/<stem>.txt                YOLO boxes
    metadata/                                microscope metadata

``<stem>`` follows ``Timepoint_<t>_<date>-ST_<well>_s<site>``. Class folders
are mapped case-insensitively: basal|fed -> basal, activated|unfed|starved ->
activated, unknown|unidentified -> unknown; any other name is an error (we do
not guess what an unrecognised class means).
"""

from __future__ import annotations

import logging
import re
from functools import cached_property
from pathlib import Path

import numpy as np

from ..paths import cache_dir
from .base import Dataset
from .files import (
    CELLULAR_SPLIT_RULE,
    _file_digest,
    cellular_paper_split,
    parse_cellular_name,
    read_yolo_boxes,
)
from .io import DataError, read_image, read_mask
from .sample import DatasetInfo, Sample
from .upstream import CELLULAR_ARCHIVES, ZENODO_RECORD, fetch

__all__ = [
    "Cellular",
    "CLASS_NAMES",
    "class_from_folder",
    "fetch_cellular",
    "ZENODO_RECORD",
    "ARCHIVES",
]

logger = logging.getLogger(__name__)

#: archives needed for segmentation (images-color.zip is optional, for display)
ARCHIVES = CELLULAR_ARCHIVES
CLASS_NAMES = ("basal", "activated", "unknown")
_CLASS_ALIASES = {
    "basal": 0, "fed": 0,
    "activated": 1, "unfed": 1, "starved": 1,
    "unknown": 2, "unidentified": 2,
}
_RAW_RE = re.compile(
    r"(?P<stem>Timepoint_\d+_\d+-ST_[A-Z]\d+_s\d+)_w(?P<w>[123])[^/]*\.tiff?$", re.IGNORECASE
)
_W_CHANNEL = {"1": 0, "2": 1, "3": 2}  # w1 EGFP, w2 mRFP, w3 transmitted


def class_from_folder(folder: str | Path) -> int:
    """Class id of a CELLULAR mask class folder (see module docstring).

    >>> class_from_folder("Fed"), class_from_folder("starved"), class_from_folder("Unidentified")
    (0, 1, 2)
    """
    key = Path(folder).name.strip().lower()
    if key not in _CLASS_ALIASES:
        raise DataError(
            f"{folder}: unrecognised CELLULAR class folder {Path(folder).name!r}; expected one "
            f"of {sorted(_CLASS_ALIASES)} (case-insensitive)"
        )
    return _CLASS_ALIASES[key]


def default_root() -> Path:
    return cache_dir() / "cellular"


class Cellular(Dataset):
    """CELLULAR fields with per-cell masks and classes, from the upstream archives.

    Parameters
    ----------
    root : path, optional
        Folder holding the extracted archives (default: ``$BENCH_CACHE/cellular``,
        filled by ``bench data fetch cellular``).
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.info = DatasetInfo(
            name="cellular",
            tasks=("instance", "classification", "detection"),
            channels=("gfp", "rfp", "transmitted"),
            source="download",
            target="cells",
            class_names=CLASS_NAMES,
            description=(
                "CELLULAR (experiment 220518): Drosophila S2 cells expressing "
                "mRFP-EGFP-Atg8a, 40x widefield, 2048x2048 raw TIFF triplets (EGFP, "
                "mRFP, transmitted light) with one mask per cell, classed basal, "
                "activated or unknown (4,539 / 3,191 / 6,294 cells in the paper), and "
                "YOLO boxes. Downloaded from Zenodo by `bench data fetch cellular`."
            ),
            citation=(
                "Al Outa A. et al., CELLULAR, Sci Data 10 (2023), "
                "doi:10.1038/s41597-023-02687-x; Zenodo record 8315423"
            ),
            license=(
                "Open for research and education; competition or commercial use needs "
                "the authors' permission"
            ),
            url=f"https://zenodo.org/records/{ZENODO_RECORD}",
        )

    def unavailable_reason(self):
        if not (self.root / "masks").is_dir():
            # no absolute paths: this sentence is shown in the published book
            where = "cellular/ in the download cache" if self.root == default_root() else "the given folder"
            return (
                f"not downloaded (no masks/ under {where}); run "
                "`bench data fetch cellular` (needs internet, several GB)"
            )
        return None

    @cached_property
    def _raw_index(self) -> dict[str, dict[int, Path]]:
        index: dict[str, dict[int, Path]] = {}
        images = self.root / "images"
        if images.is_dir():
            for p in sorted(images.rglob("*")):
                m = _RAW_RE.search(p.name)
                if m and p.is_file():
                    index.setdefault(m["stem"], {})[_W_CHANNEL[m["w"]]] = p
        return index

    def sample_ids(self) -> list[str]:
        self.ensure_available()
        stems = sorted(p.name for p in (self.root / "masks").iterdir() if p.is_dir())
        for s in stems:
            parse_cellular_name(s)
        if not stems:
            raise DataError(f"{self.root / 'masks'}: no field folders found")
        return stems

    def _raw_paths(self, stem: str) -> list[Path]:
        found = self._raw_index.get(stem, {})
        missing = [f"_w{w + 1}" for w in range(3) if w not in found]
        if missing:
            raise DataError(
                f"{self.root / 'images'}: field {stem!r} lacks raw TIFF(s) "
                f"{', '.join(stem + m + '*.tif' for m in missing)}"
            )
        return [found[w] for w in range(3)]

    def load(self, sample_id: str) -> Sample:
        mask_dir = self.root / "masks" / sample_id
        if not mask_dir.is_dir():
            raise DataError(f"{mask_dir}: no mask folder for field {sample_id!r}")
        planes = []
        for p in self._raw_paths(sample_id):
            plane = read_image(p)
            if plane.shape[2] != 1:
                raise DataError(f"{p}: expected a single-channel TIFF, got shape {plane.shape}")
            planes.append(plane[..., 0])
        shapes = {pl.shape for pl in planes}
        if len(shapes) != 1:
            raise DataError(f"field {sample_id!r}: raw channels differ in shape: {sorted(shapes)}")
        image = np.stack(planes, axis=-1)
        labels = np.zeros(image.shape[:2], np.int32)
        classes: dict[int, int] = {}
        n_overlap = 0
        for class_dir in sorted(p for p in mask_dir.iterdir() if p.is_dir()):
            cls = class_from_folder(class_dir)
            for cell in sorted(class_dir.glob("*.png")):
                m = read_mask(cell) > 0
                if m.shape != labels.shape:
                    raise DataError(
                        f"{cell}: mask shape {m.shape} does not match the field's "
                        f"shape {labels.shape}"
                    )
                free = m & (labels == 0)
                n_overlap += int(m.sum() - free.sum())
                if not free.any():
                    logger.warning("%s: cell entirely covered by earlier cells; skipped", cell)
                    continue
                new_id = len(classes) + 1
                labels[free] = new_id
                classes[new_id] = cls
        if not classes:
            raise DataError(f"{mask_dir}: no cell masks (*.png in class folders)")
        box_path = self.root / "bounding-boxes" / f"{sample_id}.txt"
        boxes = read_yolo_boxes(box_path) if box_path.is_file() else None
        meta = {
            "source": str(self._raw_paths(sample_id)[0].parent),
            "pixel_size_um": None,
            "overlap_pixels": n_overlap,
            **parse_cellular_name(sample_id),
        }
        return Sample(
            name=sample_id,
            image=image,
            channels=self.info.channels,
            labels=labels,
            classes=classes,
            boxes=boxes,
            meta=meta,
        )

    def split_rule(self):
        return cellular_paper_split(self.sample_ids()), CELLULAR_SPLIT_RULE

    def fingerprint(self, ids) -> str:
        import hashlib

        h = hashlib.sha256(b"cellular")
        for i in ids:
            for p in self._raw_paths(i):
                h.update(p.name.encode() + str(p.stat().st_size).encode())
            for p in sorted((self.root / "masks" / i).rglob("*.png")):
                h.update(str(p.relative_to(self.root)).encode() + _file_digest(p).encode())
        return h.hexdigest()[:16]


def fetch_cellular(
    root: str | Path | None = None,
    *,
    base_url: str | None = None,
    progress: bool | None = None,
) -> Path:
    """Download and unpack CELLULAR from Zenodo (resumable, md5-verified).

    The md5 checksums come from the Zenodo record's API (recorded in
    ``<root>/zenodo_files.json``); see :func:`bench.data.upstream.fetch`.

    Returns
    -------
    root : Path
        The folder to pass to :class:`Cellular` (the default one is found
        automatically).
    """
    return fetch("cellular", root=root, base_url=base_url, progress=progress)[0]
