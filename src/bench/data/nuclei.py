"""The real nuclei datasets: NIH3T3 (Coelho et al. 2009) and GOWT1 (Cell
Tracking Challenge), each from the local mirror or from its upstream archive,
plus ``-full`` variants holding every annotated image upstream offers.

Upstream layouts, as ``bench data fetch`` unpacks them under ``$BENCH_CACHE``::

    nih3t3/Coelho2009_ISBI_NuclearSegmentation/data/images/dna-images/ic100/dna-<N>.png
    nih3t3/Coelho2009_ISBI_NuclearSegmentation/data/preprocessed-data/ic100/dna-<N>.png
    gowt1/Fluo-N2DH-GOWT1/<SS>/t<NNN>.tif
    gowt1/Fluo-N2DH-GOWT1/<SS>_GT/SEG/man_seg<NNN>.tif

(NIH3T3: ``ic100`` is the NIH3T3 set, ``gnf`` the U2OS set of the same
archive; the label images are the authors' own conversion of their GIMP
annotations. GOWT1: ``SS`` is the sequence, ``01`` or ``02``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import json

from ..paths import splits_dir
from .files import SourcedDataset, hash_split
from .io import DataError
from .manifest import entry_matches
from .sample import DatasetInfo

__all__ = ["NIH3T3", "NIH3T3Full", "GOWT1", "GOWT1Full", "NIH3T3_TOP", "GOWT1_TOP"]

#: top folder of the NIH3T3 archive once unpacked (the GitHub archive's own
#: top folder ``<repo>-<commit>`` is renamed to this)
NIH3T3_TOP = "Coelho2009_ISBI_NuclearSegmentation"
GOWT1_TOP = "Fluo-N2DH-GOWT1"

_NIH3T3_CITATION = (
    "Coelho L.P., Shariff A., Murphy R.F., ISBI 2009, doi:10.1109/ISBI.2009.5193098"
)
_GOWT1_CITATION = (
    "Ulman V. et al., Nat Methods 14 (2017) doi:10.1038/nmeth.4473; "
    "Maska M. et al., Nat Methods 20 (2023) doi:10.1038/s41592-023-01879-y"
)
_NIH3T3_RULE = (
    "independent fields, ranked by a salted SHA-256 of the file name: "
    "25 % test, 15 % validation, rest train"
)


def _committed_split(name: str) -> dict[str, list[str]]:
    """The id lists of a committed split file (read here, below :mod:`bench.splits`,
    which checks its hash whenever the split itself is used)."""
    path = splits_dir() / f"{name}.json"
    try:
        doc = json.loads(path.read_text())
        return {k: list(doc[k]) for k in ("train", "val", "test")}
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise DataError(f"{path}: cannot read the committed split of {name!r} ({exc})") from exc


def _nih3t3_upstream_pairs(root: Path) -> dict[str, tuple[Path, Path]]:
    base = root / NIH3T3_TOP / "data"
    labels = base / "preprocessed-data" / "ic100"
    pairs = {}
    for img in sorted((base / "images" / "dna-images" / "ic100").glob("dna-*.png")):
        mask = labels / img.name
        if mask.is_file():  # upstream has no annotation for a few images (dna-25)
            pairs[img.stem] = (img, mask)
    return pairs


class NIH3T3(SourcedDataset):
    """NIH3T3 nuclei (Coelho et al. 2009): the 18 mirrored fields.

    From the mirror: ``images/dna-<N>.png`` + ``masks/<N>.png`` (binary). From
    upstream: the same 18 fields (identical pixels) with the authors' label
    images, which differ from the mirror's binary masks in 7 of the 18 fields;
    the committed digests of both are in ``benchmark/splits/nih3t3.sha256.json``
    and the data fingerprint (and so every cache key) differs between them.
    """

    dataset_name = "nih3t3"
    mirror_name = "nih3t3"
    cache_name = "nih3t3"
    fetch_name = "nih3t3"
    fetch_size = "about 0.4 GB unpacked"
    upstream_subset = True

    def _info(self):
        if self.source == "mirror":
            truth = (
                "Masks are binary: instances are their 8-connected components, so the few "
                "touching nuclei the annotators merged stay merged, and some dim nuclei "
                "are unlabelled."
            )
        else:
            truth = (
                "Read from the upstream archive: masks are the authors' label images, which "
                "differ from the local mirror's binary masks in 7 of the 18 fields, so "
                "scores are comparable only between runs on the same source."
            )
        return DatasetInfo(
            name=self.dataset_name,
            tasks=("instance",),
            channels=("hoechst",),
            source="mirror" if self.source == "mirror" else "download",
            target="nuclei",
            description=(
                "18 NIH3T3 fibroblast fields stained with Hoechst (1024x1344, 8-bit), "
                "hand-segmented. " + truth
            ),
            citation=_NIH3T3_CITATION,
            license="Research use with citation",
            url="https://murphylab.web.cmu.edu/data/2009_ISBI_Nuclei.html",
        )

    def _upstream_marker(self):
        return self.upstream_root / NIH3T3_TOP / "data" / "preprocessed-data" / "ic100"

    def _mirror_pairs(self):
        pairs = {}
        for img in sorted((self.root / "images").glob("dna-*.png")):
            n = img.stem.split("-", 1)[1]
            pairs[f"dna-{n}"] = (img, self.root / "masks" / f"{n}.png")
        for img, mask in pairs.values():
            if not mask.is_file():
                raise DataError(f"{img}: no mask (expected {mask})")
        return pairs

    def _upstream_pairs(self):
        return _nih3t3_upstream_pairs(self.root)

    def split_rule(self):
        return hash_split(self.sample_ids(), salt="nih3t3"), _NIH3T3_RULE


class NIH3T3Full(NIH3T3):
    """Every annotated NIH3T3 field of the upstream archive (49), with the authors' labels."""

    dataset_name = "nih3t3-full"
    fetch_name = "nih3t3-full"
    mirror_name = None
    upstream_subset = False

    def _info(self):
        return DatasetInfo(
            name=self.dataset_name,
            tasks=("instance",),
            channels=("hoechst",),
            source="download",
            target="nuclei",
            description=(
                "All 49 annotated NIH3T3 fibroblast fields of Coelho et al. 2009 (Hoechst, "
                "1024x1344, 8-bit; one field of the 50 has no annotation upstream), with the "
                "authors' instance label images. The 18 fields of `nih3t3` keep their split "
                "here, so no `nih3t3` test field is ever trained on."
            ),
            citation=_NIH3T3_CITATION,
            license="Research use with citation",
            url="https://murphylab.web.cmu.edu/data/2009_ISBI_Nuclei.html",
        )

    def split_rule(self):
        base = _committed_split("nih3t3")
        known = {i: k for k in ("train", "val", "test") for i in base[k]}
        ids = self.sample_ids()
        extra = hash_split([i for i in ids if i not in known], salt="nih3t3")
        split = {k: sorted([i for i in ids if known.get(i) == k] + extra[k]) for k in extra}
        return split, (
            "the 18 fields of `nih3t3` keep their split there; the other fields are ranked by a "
            "salted SHA-256 of the file name: 25 % test, 15 % validation, rest train"
        )


_FRAME_RE = re.compile(r"^t(\d+)$")
_SEG_RE = re.compile(r"^man_seg(\d+)$")


def _ctc_sequence(root: Path, seq: str) -> dict[int, tuple[Path, Path]]:
    """``{frame: (image, SEG mask)}`` of one CTC sequence, frames with SEG truth only."""
    images = {}
    for p in sorted((root / seq).glob("t*.tif")):
        m = _FRAME_RE.match(p.stem)
        if m:
            images[int(m[1])] = p
    out = {}
    for p in sorted((root / f"{seq}_GT" / "SEG").glob("man_seg*.tif")):
        m = _SEG_RE.match(p.stem)
        if m is None:
            continue
        frame = int(m[1])
        if frame not in images:
            raise DataError(f"{p}: no image for this frame (expected {root / seq}/t{m[1]}.tif)")
        out[frame] = (images[frame], p)
    return out


class GOWT1(SourcedDataset):
    """Cell Tracking Challenge Fluo-N2DH-GOWT1: the 6 mirrored frames.

    From the mirror: ``images/t<NN>.tif`` + ``masks/man_seg<NN>.tif``. From
    upstream: frame ``t<NN>`` is frame ``NN`` of sequence ``01``
    (``01/t0NN.tif`` + ``01_GT/SEG/man_seg0NN.tif``), or of sequence ``02``
    where that one holds the mirror's pixels (the mirror's file names do not
    say which sequence they come from); either way it must have the same
    pixels as the mirror (the committed content digests).
    """

    dataset_name = "gowt1"
    mirror_name = "gowt1"
    cache_name = "gowt1"
    fetch_name = "gowt1"
    upstream_subset = True
    sequences = ("01",)

    def _info(self):
        return DatasetInfo(
            name=self.dataset_name,
            tasks=("instance",),
            channels=("gfp",),
            source="mirror" if self.source == "mirror" else "download",
            target="nuclei",
            pixel_size_um=0.24,
            description=(
                "Six annotated frames of the Cell Tracking Challenge dataset "
                "Fluo-N2DH-GOWT1 (GFP-Oct4 mouse embryonic stem cells, confocal, "
                "1024x1024); instance masks from the challenge's gold truth."
            ),
            citation=_GOWT1_CITATION,
            license="Research and education use with citation",
            url="https://celltrackingchallenge.net/2d-datasets/",
        )

    def _upstream_marker(self):
        return self.upstream_root / GOWT1_TOP / "01_GT" / "SEG"

    def _mirror_pairs(self):
        pairs = {}
        for img in sorted((self.root / "images").glob("t*.tif")):
            n = img.stem[1:]
            mask = self.root / "masks" / f"man_seg{n}.tif"
            if not mask.is_file():
                raise DataError(f"{img}: no mask (expected {mask})")
            pairs[img.stem] = (img, mask)
        return pairs

    def _upstream_pairs(self):
        root = self.root / GOWT1_TOP
        seqs = {s: _ctc_sequence(root, s) for s in ("01", "02") if (root / f"{s}_GT" / "SEG").is_dir()}
        pairs = {f"t{frame:02d}": pair for frame, pair in seqs.get("01", {}).items()}
        wanted = self.manifest.sources.get("upstream", {}) if self.manifest is not None else {}
        for sid, entry in wanted.items():
            m = _FRAME_RE.match(sid)
            if m is None or "image" not in entry:
                continue
            for seq in ("01", "02"):
                pair = seqs.get(seq, {}).get(int(m[1]))
                if pair is not None and entry_matches(pair[0], entry["image"]):
                    pairs[sid] = pair
                    break
        return pairs

    def split_rule(self):
        ids = sorted(self.sample_ids(), key=lambda s: int(s[1:]))
        n = len(ids)
        n_test = int(0.25 * n + 0.5)
        n_val = max(1, int(0.15 * n + 0.5))
        n_train = n - n_val - n_test
        split = {
            "train": ids[:n_train],
            "val": ids[n_train : n_train + n_val],
            "test": ids[n_train + n_val :],
        }
        return split, (
            "frames of one time-lapse, split in time so neighbouring frames never "
            "straddle train and test: earliest frames train, then validation, latest test"
        )


class GOWT1Full(GOWT1):
    """Every GOWT1 frame with SEG gold truth, both training sequences (ids ``<SS>_t<NNN>``)."""

    dataset_name = "gowt1-full"
    fetch_name = "gowt1-full"
    mirror_name = None
    upstream_subset = False
    sequences = ("01", "02")

    def _info(self):
        return DatasetInfo(
            name=self.dataset_name,
            tasks=("instance",),
            channels=("gfp",),
            source="download",
            target="nuclei",
            pixel_size_um=0.24,
            description=(
                "Every frame with segmentation gold truth of both training sequences of the "
                "Cell Tracking Challenge dataset Fluo-N2DH-GOWT1 (GFP-Oct4 mouse embryonic "
                "stem cells, confocal, 1024x1024)."
            ),
            citation=_GOWT1_CITATION,
            license="Research and education use with citation",
            url="https://celltrackingchallenge.net/2d-datasets/",
        )

    def _upstream_pairs(self):
        pairs = {}
        for seq in self.sequences:
            for frame, pair in _ctc_sequence(self.root / GOWT1_TOP, seq).items():
                pairs[f"{seq}_t{frame:03d}"] = pair
        return pairs

    def split_rule(self):
        base = _committed_split("gowt1")
        first_val = min(int(i[1:]) for i in base["val"])
        first_test = min(int(i[1:]) for i in base["test"])
        split = {"train": [], "val": [], "test": []}
        for sid in self.sample_ids():
            frame = int(sid.split("_t", 1)[1])
            key = "train" if frame < first_val else "val" if frame < first_test else "test"
            split[key].append(sid)
        return split, (
            f"split in time with the cut-offs of `gowt1`, in both sequences: frames before "
            f"{first_val} train, {first_val}-{first_test - 1} validation, from {first_test} "
            "on test (the frames of `gowt1` keep their split)"
        )
