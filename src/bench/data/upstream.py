"""Where each real dataset comes from upstream, and ``bench data fetch``.

=================  =====================================================================
dataset            upstream archive(s)
=================  =====================================================================
``nih3t3``,        the first author's repository of Coelho, Shariff & Murphy (ISBI 2009),
``nih3t3-full``    pinned commit, as a GitHub zip archive (images + the authors' label PNGs)
``gowt1``,         Cell Tracking Challenge training archive ``Fluo-N2DH-GOWT1.zip``
``gowt1-full``
``cellular``       Zenodo record 8315423: ``images.zip``, ``masks.zip``,
                   ``bounding-boxes.zip``, ``metadata.zip``
``cellular-boxes`` Zenodo record 8315423: ``images-color.zip``, ``bounding-boxes.zip``
=================  =====================================================================

Archive checksums are verified where the upstream publishes them (Zenodo's
per-file md5, read from the record's API at fetch time); neither GitHub nor
the Cell Tracking Challenge publishes one. After unpacking, every file a
committed split names is checked against the SHA-256 digests committed in
``benchmark/splits/<dataset>.sha256.json`` (:mod:`bench.data.manifest`), so a
changed upstream file fails loudly.

The Lab page https://murphylab.web.cmu.edu/data/2009_ISBI_Nuclei.html offers
the same data as ``2009_ISBI_2DNuclei_code_data.tgz``, but there the
annotations are GIMP ``.xcf`` files only; the authors' repository adds the
label PNGs (``data/preprocessed-data``, commit 9629f3a, 2015), which Python
can read without GIMP, so it is the archive used here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_dir
from .download import download, file_checksum, redirect, safe_extract
from .io import DataError

__all__ = [
    "Archive",
    "FETCHABLE",
    "fetch",
    "fetch_dataset_names",
    "zenodo_files",
    "ZENODO_RECORD",
    "ZENODO_API",
]

logger = logging.getLogger(__name__)

ZENODO_RECORD = "8315423"
ZENODO_API = "https://zenodo.org/api/records/{record}"


@dataclass(frozen=True)
class Archive:
    """One upstream file: where it is, what it unpacks to, what we know of it."""

    url: str
    #: folder (under the dataset's cache folder) the archive unpacks into
    folder: str
    #: published checksum (``md5:...``/``sha256:...``), or ``None`` where upstream has none
    checksum: str | None = None
    #: size in bytes, where known
    size: int | None = None


#: the commit of https://github.com/luispedro/Coelho2009_ISBI_NuclearSegmentation that added
#: data/preprocessed-data (2015-06-07); pinned so the archive's content never moves
NIH3T3_COMMIT = "9629f3a8829982726327802af55ab6ae7a2b5316"
NIH3T3_ARCHIVE = Archive(
    url=f"https://github.com/luispedro/Coelho2009_ISBI_NuclearSegmentation/archive/{NIH3T3_COMMIT}.zip",
    folder="Coelho2009_ISBI_NuclearSegmentation",
)
# The CTC serves its training data over https and http (both spellings appear in public
# download scripts); the file is about 0.3 GB. No checksum is published.
GOWT1_ARCHIVE = Archive(
    url="https://data.celltrackingchallenge.net/training-datasets/Fluo-N2DH-GOWT1.zip",
    folder="Fluo-N2DH-GOWT1",
)
CELLULAR_ARCHIVES = ("images.zip", "masks.zip", "bounding-boxes.zip", "metadata.zip")
CELLULAR_BOXES_ARCHIVES = ("images-color.zip", "bounding-boxes.zip")


def zenodo_files(
    record: str = ZENODO_RECORD, *, api: str = ZENODO_API, timeout: float = 30,
    base_url: str | None = None,
) -> dict:
    """File names, sizes, md5 checksums and URLs of a Zenodo record, from its API.

    With ``base_url`` (or ``$BENCH_DATA_URL``) the API is read from
    ``<base>/api/records/<record>`` instead.
    """
    import os

    import requests

    base = base_url if base_url is not None else os.environ.get("BENCH_DATA_URL") or None
    url = (base.rstrip("/") + "/api/records/" + record) if base else api.format(record=record)
    try:
        r = requests.get(url, timeout=timeout)
        r.raise_for_status()
    except requests.RequestException as exc:
        raise DataError(
            f"cannot reach {url} ({type(exc).__name__}). Are you offline? The data must be "
            f"downloaded from https://zenodo.org/records/{record}; you can also extract its "
            f"archives yourself into {cache_dir()} (or set $BENCH_CACHE)"
        ) from exc
    files = {}
    for f in r.json().get("files", []):
        files[f["key"]] = {
            "size": f.get("size"),
            "checksum": f.get("checksum"),
            "url": f.get("links", {}).get("self"),
        }
    if not files:
        raise DataError(f"{url}: the record lists no files")
    return files


def _unpack(archive: Path, root: Path, folder: str) -> Path:
    """Unpack ``archive`` into ``root/folder`` unless this exact archive already was."""
    digest = file_checksum(archive)
    marker = root / f".{archive.name}.unpacked"
    dest = root / folder
    if marker.is_file() and marker.read_text().strip() == digest and dest.is_dir():
        return dest
    marker.unlink(missing_ok=True)
    safe_extract(archive, dest)
    marker.write_text(digest + "\n")
    return dest


def _fetch_archive(arch: Archive, root: Path, *, base_url, progress) -> Path:
    name = arch.url.rsplit("/", 1)[1]
    path = download(redirect(arch.url, base_url), root / "downloads" / name,
                    checksum=arch.checksum, size=arch.size, progress=progress)
    return _unpack(path, root, arch.folder)


def _fetch_zenodo(names, root: Path, *, base_url, progress) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    files = zenodo_files(base_url=base_url)
    (root / "zenodo_files.json").write_text(json.dumps(files, indent=2, sort_keys=True) + "\n")
    missing = [a for a in names if a not in files]
    if missing:
        raise DataError(
            f"Zenodo record {ZENODO_RECORD} has no file(s) {missing}; it lists {sorted(files)}"
        )
    for name in names:
        meta = files[name]
        if not meta.get("url"):
            raise DataError(f"Zenodo record {ZENODO_RECORD}: no download link for {name}")
        path = download(redirect(meta["url"], base_url, name=name), root / "downloads" / name,
                        checksum=meta.get("checksum"), size=meta.get("size"), progress=progress)
        _unpack(path, root, Path(name).stem)
    return root


def _verify(datasets: tuple[str, ...], root: Path) -> None:
    """Check every committed-manifest file of ``datasets`` read from ``root``."""
    from .registry import get_dataset  # cycle: the registry imports cellular.py, which imports this module

    for name in datasets:
        ds = type(get_dataset(name))(root)
        reason = ds.unavailable_reason()
        if reason is not None:
            raise DataError(
                f"{name}: the upstream archive was unpacked into {root}, yet the dataset cannot "
                f"be read ({reason}); the upstream layout may have changed"
            )
        verify_all = getattr(ds, "verify_all", None)
        n = verify_all() if verify_all is not None else len(ds.sample_ids())
        logger.info("%s: %d sample(s) checked in %s", name, n, root)


@dataclass(frozen=True)
class _Fetcher:
    cache_name: str
    datasets: tuple[str, ...]
    archive: Archive | None = None
    zenodo: tuple[str, ...] = ()

    def __call__(self, root: Path | None, *, base_url, progress) -> Path:
        root = Path(root) if root is not None else cache_dir() / self.cache_name
        root.mkdir(parents=True, exist_ok=True)
        if self.archive is not None:
            _fetch_archive(self.archive, root, base_url=base_url, progress=progress)
        else:
            _fetch_zenodo(self.zenodo, root, base_url=base_url, progress=progress)
        _verify(self.datasets, root)
        return root


_NIH3T3 = _Fetcher("nih3t3", ("nih3t3", "nih3t3-full"), archive=NIH3T3_ARCHIVE)
_GOWT1 = _Fetcher("gowt1", ("gowt1", "gowt1-full"), archive=GOWT1_ARCHIVE)
_CELLULAR = _Fetcher("cellular", ("cellular",), zenodo=CELLULAR_ARCHIVES)
_CELLULAR_BOXES = _Fetcher("cellular-boxes", ("cellular-boxes",), zenodo=CELLULAR_BOXES_ARCHIVES)

#: dataset name -> what fetches it (the ``-full`` variants share their base's archive)
FETCHABLE = {
    "nih3t3": _NIH3T3,
    "nih3t3-full": _NIH3T3,
    "gowt1": _GOWT1,
    "gowt1-full": _GOWT1,
    "cellular": _CELLULAR,
    "cellular-boxes": _CELLULAR_BOXES,
}


def fetch_dataset_names() -> list[str]:
    """Names ``bench data fetch`` accepts (besides ``all``)."""
    return list(FETCHABLE)


def fetch(
    name: str,
    *,
    root: str | Path | None = None,
    base_url: str | None = None,
    progress: bool | None = None,
) -> list[Path]:
    """Download, verify and unpack the upstream data of ``name`` (or ``"all"``).

    Parameters
    ----------
    name : str
        A name of :func:`fetch_dataset_names`, or ``"all"``.
    root : path, optional
        Target folder (default ``$BENCH_CACHE/<dataset>``); with ``"all"`` one
        sub-folder per archive set is made under it.
    base_url : str, optional
        Fetch every file from this server instead (default ``$BENCH_DATA_URL``,
        else the real upstream addresses).
    progress : bool, optional
        Progress bars (default: on in a terminal, see
        :func:`~bench.data.download.progress_enabled`).

    Returns
    -------
    roots : list of Path
        The folders filled (the datasets find the default ones by themselves).
    """
    if name == "all":
        fetchers = list(dict.fromkeys(FETCHABLE.values()))
    elif name in FETCHABLE:
        fetchers = [FETCHABLE[name]]
    else:
        raise ValueError(
            f"`name` must be one of {', '.join(FETCHABLE)} or 'all', got {name!r}"
        )
    out = []
    for f in fetchers:
        target = None if root is None else (Path(root) / f.cache_name if name == "all" else Path(root))
        out.append(f(target, base_url=base_url, progress=progress))
    return out
