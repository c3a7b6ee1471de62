"""File-backed datasets: the local mirrors (NIH3T3, GOWT1, CELLULAR boxes) and
``folder:<path>`` for a user's own images and masks."""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cached_property
from pathlib import Path

import numpy as np

from ..paths import cache_dir, shared_data_dir
from .base import Dataset
from .io import IMAGE_SUFFIXES, DataError, read_image, read_mask
from .manifest import load_manifest
from .sample import DatasetInfo, Sample

__all__ = [
    "FileDataset",
    "FolderDataset",
    "SourcedDataset",
    "CellularBoxes",
    "hash_split",
    "parse_cellular_name",
    "read_yolo_boxes",
]


def hash_split(ids: list[str], *, val: float = 0.15, test: float = 0.25, salt: str = "bench"):
    """Deterministic split by ranking ids on a salted SHA-256 of their name.

    Stable under reordering, and adding a file moves no other file between
    splits' order. Sizes: ``round(test * n)`` test, ``round(val * n)`` validation
    (at least one each when ``n >= 3``), the rest train.
    """
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{salt}|{i}".encode()).hexdigest())
    n = len(ranked)
    n_test = int(test * n + 0.5)
    n_val = int(val * n + 0.5)
    if n >= 3:
        n_test, n_val = max(n_test, 1), max(n_val, 1)
    split = {
        "test": sorted(ranked[:n_test]),
        "val": sorted(ranked[n_test : n_test + n_val]),
        "train": sorted(ranked[n_test + n_val :]),
    }
    return {k: split[k] for k in ("train", "val", "test")}


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileDataset(Dataset):
    """A dataset of image files paired with mask (or box) files.

    Subclasses provide :meth:`_pairs` mapping sample id to ``(image, mask)``
    paths, and :attr:`root`.
    """

    root: Path

    def unavailable_reason(self) -> str | None:
        if not self.root.is_dir():
            return f"folder {self.root} does not exist"
        return None

    def _pairs(self) -> dict[str, tuple[Path, Path]]:  # pragma: no cover - abstract
        raise NotImplementedError

    @cached_property
    def pairs(self) -> dict[str, tuple[Path, Path]]:
        self.ensure_available()
        pairs = self._pairs()
        if not pairs:
            raise DataError(f"dataset {self.name!r}: no image files found under {self.root}")
        return dict(sorted(pairs.items()))

    def sample_ids(self) -> list[str]:
        return list(self.pairs)

    def _path_pair(self, sample_id: str) -> tuple[Path, Path]:
        try:
            return self.pairs[sample_id]
        except KeyError:
            raise DataError(
                f"dataset {self.name!r}: no sample {sample_id!r} under {self.root}"
            ) from None

    def _meta(self, sample_id: str, image_path: Path) -> dict:
        return {"source": str(image_path), "pixel_size_um": self.info.pixel_size_um}

    def load(self, sample_id: str) -> Sample:
        img_path, mask_path = self._path_pair(sample_id)
        image = read_image(img_path)
        labels = read_mask(mask_path)
        if labels.shape != image.shape[:2]:
            raise DataError(
                f"{mask_path}: mask shape {labels.shape} does not match image "
                f"{img_path.name} shape {image.shape[:2]}"
            )
        channels = self.info.channels
        if len(channels) == 1 and image.shape[2] == 3 and np.all(image == image[..., :1]):
            image = image[..., :1]  # a grey image stored as RGB (the NIH3T3 upstream PNGs)
        if image.shape[2] != len(channels):
            raise DataError(
                f"{img_path}: expected {len(channels)} channel(s) {channels}, "
                f"got an image of shape {image.shape}"
            )
        return Sample(
            name=sample_id,
            image=image,
            channels=channels,
            labels=labels,
            meta=self._meta(sample_id, img_path),
        )

    def fingerprint(self, ids) -> str:
        h = hashlib.sha256(self.name.encode())
        for i in ids:
            for p in self._path_pair(i):
                h.update(p.name.encode() + _file_digest(p).encode())
        return h.hexdigest()[:16]


def _index_by_stem(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            if p.stem in out:
                raise DataError(f"{folder}: two files share the stem {p.stem!r}: {out[p.stem].name}, {p.name}")
            out[p.stem] = p
    return out


class FolderDataset(FileDataset):
    """A user's folder: ``<path>/images/*`` paired by name with ``<path>/masks/*``.

    Masks may be binary (connected components become instances) or instance
    label images, as TIFF, PNG or JPEG, 8- or 16-bit. A mask pairs with an
    image of the same stem, or of the stem plus ``_mask``, ``_masks``,
    ``_label`` or ``_labels``. Images are grey or multi-channel; channels are
    named ``ch0``, ``ch1``... An optional ``split.json`` with ``train``, ``val``
    and ``test`` lists of stems fixes the split; otherwise it is
    :func:`hash_split` of the stems.
    """

    _SUFFIXES = ("", "_mask", "_masks", "_label", "_labels")

    def __init__(self, path: str):
        if not path:
            raise DataError("dataset 'folder:' needs a path, e.g. 'folder:/data/my_lysosomes'")
        self.root = Path(path).expanduser()
        n_channels = self._n_channels() if self.root.is_dir() else 1
        self.info = DatasetInfo(
            name=f"folder:{path}",
            tasks=("instance",),
            channels=tuple(f"ch{i}" for i in range(n_channels)),
            source="folder",
            target="objects",
            description=f"User data from {self.root} (images/ + masks/).",
        )

    def unavailable_reason(self):
        for sub in ("", "images", "masks"):
            p = self.root / sub
            if not p.is_dir():
                return f"folder {p} does not exist"
        return None

    def _n_channels(self) -> int:
        imgs = self.root / "images"
        if not imgs.is_dir():
            return 1
        files = sorted(p for p in imgs.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        return read_image(files[0]).shape[2] if files else 1

    def _pairs(self):
        images = _index_by_stem(self.root / "images")
        masks = _index_by_stem(self.root / "masks")
        pairs, used = {}, set()
        for stem, img in images.items():
            cands = [stem + s for s in self._SUFFIXES if stem + s in masks]
            if not cands:
                raise DataError(
                    f"{img}: no mask for this image in {self.root / 'masks'} (looked for "
                    f"{', '.join(stem + s + '.*' for s in self._SUFFIXES)})"
                )
            pairs[stem] = (img, masks[cands[0]])
            used.add(cands[0])
        orphans = sorted(set(masks) - used)
        if orphans:
            raise DataError(
                f"{self.root / 'masks'}: mask(s) without an image: "
                + ", ".join(masks[o].name for o in orphans[:5])
            )
        return pairs

    def split_rule(self):
        split_file = self.root / "split.json"
        if split_file.is_file():
            try:
                split = json.loads(split_file.read_text())
            except json.JSONDecodeError as exc:
                raise DataError(f"{split_file}: invalid JSON ({exc})") from exc
            missing = {k for k in ("train", "val", "test") if k not in split}
            if missing:
                raise DataError(f"{split_file}: missing key(s) {sorted(missing)}")
            return {k: sorted(split[k]) for k in ("train", "val", "test")}, f"from {split_file}"
        return hash_split(self.sample_ids()), "hash split of file stems (60/15/25 %)"


class SourcedDataset(FileDataset):
    """A real dataset: the local mirror when present, else its upstream files.

    The mirror (``<shared data>/<mirror_name>``) is looked at first. Without
    it the dataset reads the upstream archive as ``bench data fetch
    <fetch_name>`` unpacked it under ``$BENCH_CACHE/<cache_name>``. Every file
    read is checked against the digests committed in
    ``benchmark/splits/<name>.sha256.json`` for its source (see
    :mod:`bench.data.manifest`).

    Parameters
    ----------
    root : path, optional
        Read the upstream layout from this folder instead (the mirror is then
        not looked at).
    """

    dataset_name: str = ""
    mirror_name: str | None = None
    cache_name: str = ""
    fetch_name: str = ""
    fetch_size: str = ""
    truth_role: str = "mask"
    #: read only the samples the committed manifest lists for the upstream source
    #: (a mirrored subset of a larger upstream archive)
    upstream_subset: bool = False

    def __init__(self, root: str | Path | None = None):
        self.mirror_root = shared_data_dir() / self.mirror_name if self.mirror_name else None
        self.upstream_root = Path(root) if root is not None else cache_dir() / self.cache_name
        use_mirror = root is None and self.mirror_root is not None and self.mirror_root.is_dir()
        self.source = "mirror" if use_mirror else "upstream"
        self.root = self.mirror_root if use_mirror else self.upstream_root
        self.manifest = load_manifest(self.dataset_name)
        self.info = self._info()

    # subclasses ------------------------------------------------------------
    def _info(self) -> DatasetInfo:  # pragma: no cover - abstract
        raise NotImplementedError

    def _mirror_pairs(self) -> dict[str, tuple[Path, Path]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _upstream_pairs(self) -> dict[str, tuple[Path, Path]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _upstream_marker(self) -> Path:  # pragma: no cover - abstract
        """A folder that exists once the upstream archive is unpacked."""
        raise NotImplementedError

    # ----------------------------------------------------------------------
    def unavailable_reason(self) -> str | None:
        if self.source == "mirror":
            return None
        if self._upstream_marker().is_dir():
            return None
        # no absolute paths: this sentence is shown in the published book
        where = "$BENCH_SHARED_DATA" if os.environ.get("BENCH_SHARED_DATA") else "../shared/data"
        mirror = f"no local mirror {where}/{self.mirror_name}, " if self.mirror_name else ""
        size = f", {self.fetch_size}" if self.fetch_size else ""
        return (
            f"not downloaded ({mirror}nothing under {self.cache_name}/ in the download cache); "
            f"run `bench data fetch {self.fetch_name}` (needs internet{size})"
        )

    def _pairs(self):
        if self.source == "mirror":
            return self._mirror_pairs()
        pairs = self._upstream_pairs()
        if self.upstream_subset:
            if self.manifest is None:
                raise DataError(f"dataset {self.name!r}: no committed manifest names its samples")
            wanted = set(self.manifest.ids("upstream"))
            pairs = {k: v for k, v in pairs.items() if k in wanted}
        return pairs

    def _verify(self, sample_id: str, paths: dict[str, Path]) -> None:
        if self.manifest is not None:
            for role, path in paths.items():
                self.manifest.verify(self.source, sample_id, role, path)

    def load(self, sample_id: str) -> Sample:
        img, truth = self._path_pair(sample_id)
        self._verify(sample_id, {"image": img, self.truth_role: truth})
        return super().load(sample_id)

    def verify_all(self) -> int:
        """Check every file the committed manifest lists for this source.

        Returns the number of samples checked; raises :class:`DataError` on a
        missing or changed file.
        """
        if self.manifest is None:
            return 0
        ids = self.manifest.ids(self.source)
        missing = [i for i in ids if i not in self.pairs]
        if missing:
            raise DataError(
                f"dataset {self.name!r} ({self.source}, {self.root}): {len(missing)} sample(s) named "
                f"in {self.manifest.path} are missing: {missing[:5]}"
            )
        for i in ids:
            img, truth = self.pairs[i]
            self._verify(i, {"image": img, self.truth_role: truth})
        return len(ids)


_CELLULAR_RE = re.compile(
    r"^Timepoint_(?P<timepoint>\d+)_(?P<date>\d+)-ST_(?P<well>[A-Z]\d+)_s(?P<site>\d+)$"
)


def parse_cellular_name(stem: str) -> dict:
    """Well, site, timepoint and date from a CELLULAR field name.

    >>> parse_cellular_name("Timepoint_002_220518-ST_C03_s1")
    {'timepoint': 2, 'date': '220518', 'well': 'C03', 'site': 1}
    """
    m = _CELLULAR_RE.match(stem)
    if m is None:
        raise DataError(
            f"{stem!r} does not follow the CELLULAR name scheme "
            "'Timepoint_<t>_<date>-ST_<well>_s<site>'"
        )
    return {
        "timepoint": int(m["timepoint"]),
        "date": m["date"],
        "well": m["well"],
        "site": int(m["site"]),
    }


def cellular_paper_split(stems: list[str]) -> dict[str, list[str]]:
    """The CELLULAR paper's split: validation = well ST_I06, test = ST_C03, train = rest.

    Whole wells go to one split, so all timepoints (and sites) of a field stay together.
    """
    split = {"train": [], "val": [], "test": []}
    for s in sorted(stems):
        well = parse_cellular_name(s)["well"]
        split["val" if well == "I06" else "test" if well == "C03" else "train"].append(s)
    return split


CELLULAR_SPLIT_RULE = (
    "the CELLULAR paper's split (Al Outa et al. 2023): validation = all fields of well "
    "ST_I06, test = all fields of well ST_C03, train = the rest; every timepoint of a "
    "site stays in its well's split"
)


def read_yolo_boxes(path: Path) -> np.ndarray:
    """Read a YOLO txt file: one ``class xc yc w h`` row per object, normalised.

    Returns a ``(K, 5)`` float64 array (``K = 0`` for an empty file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: box file does not exist")
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 5:
            raise DataError(f"{path}:{i}: expected 5 values 'class xc yc w h', got {len(parts)}")
        try:
            vals = [float(v) for v in parts]
        except ValueError:
            raise DataError(f"{path}:{i}: non-numeric value in {line!r}") from None
        if not all(np.isfinite(vals)) or not all(0 <= v <= 1 for v in vals[1:]):
            raise DataError(f"{path}:{i}: box coordinates must be in [0, 1], got {line!r}")
        rows.append(vals)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 5)


class CellularBoxes(SourcedDataset):
    """The 53 annotated CELLULAR fields: colour JPEG + YOLO cell boxes.

    Mirror layout: ``images/<stem>.jpg`` + ``labels/<stem>.txt``. Upstream
    (Zenodo record 8315423, ``images-color.zip`` + ``bounding-boxes.zip``,
    unpacked side by side by ``bench data fetch cellular-boxes``):
    ``images-color/**/<stem>.jpg`` + ``bounding-boxes/**/<stem>.txt``; only the
    fields the committed manifest names are read, and box classes are collapsed
    to one class ``cell`` as in the mirror.
    """

    dataset_name = "cellular-boxes"
    mirror_name = "cellular-annotated-color"
    cache_name = "cellular-boxes"
    fetch_name = "cellular-boxes"
    fetch_size = "images-color.zip + bounding-boxes.zip from Zenodo"
    truth_role = "boxes"
    upstream_subset = True

    def _info(self):
        return DatasetInfo(
            name="cellular-boxes",
            tasks=("detection",),
            channels=("red", "green", "blue"),
            source="mirror" if self.source == "mirror" else "download",
            target="cells",
            description=(
                "The 53 annotated 2048x2048 fields of CELLULAR (Drosophila S2 cells, "
                "mRFP-EGFP-Atg8a, 40x widefield) as merged colour JPEGs: red = mRFP, "
                "green = EGFP, grey (all three channels) = transmitted light. Ground "
                "truth is one YOLO box per cell (no masks, classes collapsed to 'cell'): "
                "the task is cell detection and counting, scored by box IoU."
            ),
            citation=(
                "Al Outa A. et al., CELLULAR, Sci Data 10 (2023), "
                "doi:10.1038/s41597-023-02687-x; Zenodo record 8315423"
            ),
            license=(
                "Open for research and education; competition or commercial use needs "
                "the authors' permission"
            ),
            url="https://zenodo.org/records/8315423",
        )

    def _upstream_marker(self):
        return self.upstream_root / "bounding-boxes"

    def _mirror_pairs(self):
        pairs = {}
        for img in sorted((self.root / "images").glob("*.jpg")):
            parse_cellular_name(img.stem)
            box = self.root / "labels" / f"{img.stem}.txt"
            if not box.is_file():
                raise DataError(f"{img}: no box file (expected {box})")
            pairs[img.stem] = (img, box)
        return pairs

    def _upstream_pairs(self):
        boxes = {p.stem: p for p in sorted((self.root / "bounding-boxes").rglob("*.txt"))
                 if _CELLULAR_RE.match(p.stem)}
        images = {p.stem: p for p in sorted((self.root / "images-color").rglob("*"))
                  if p.suffix.lower() in (".jpg", ".jpeg") and p.stem in boxes}
        missing = sorted(set(boxes) - set(images))
        if missing and not self.upstream_subset:
            raise DataError(f"{self.root / 'images-color'}: no colour image for {missing[:5]}")
        return {s: (images[s], boxes[s]) for s in images}

    def _meta(self, sample_id, image_path):
        return {"source": str(image_path), "pixel_size_um": None, **parse_cellular_name(sample_id)}

    def load(self, sample_id: str) -> Sample:
        img_path, box_path = self._path_pair(sample_id)
        self._verify(sample_id, {"image": img_path, "boxes": box_path})
        image = read_image(img_path)
        if image.shape[2] != 3:
            raise DataError(f"{img_path}: expected an RGB image, got shape {image.shape}")
        boxes = read_yolo_boxes(box_path)
        boxes[:, 0] = 0  # one class, 'cell' (the mirror stores it so; upstream has classes)
        return Sample(
            name=sample_id,
            image=image,
            channels=self.info.channels,
            boxes=boxes,
            meta=self._meta(sample_id, img_path),
        )

    def split_rule(self):
        return cellular_paper_split(self.sample_ids()), CELLULAR_SPLIT_RULE
