"""Committed digests of every file a committed split names.

``benchmark/splits/<dataset>.sha256.json`` records, per data source
(``mirror`` = the local ``../shared/data`` copy, ``upstream`` = the files as
the upstream archive unpacks), per sample id and per role (``image``,
``mask``, ``boxes``)::

    {"dataset": "nih3t3", "note": "...",
     "sources": {"mirror": {"dna-0": {"image": {"bytes": <sha256>, "content": <sha256>},
                                      "mask": {...}}, ...},
                 "upstream": {...}}}

``bytes`` is the SHA-256 of the file; ``content`` the SHA-256 of what the
file decodes to (see :func:`content_digest`), so a lossless re-encoding of
the same pixels (a TIFF saved with another compression, an RGB PNG of a grey
image) still verifies while any changed pixel or box fails. An entry may
lack ``bytes`` where the upstream bytes could not be seen when the manifest
was written (then the content must match).

Loaders call :meth:`Manifest.verify` on every file they read: a changed
file raises :class:`~bench.data.io.DataError` instead of silently changing
the benchmark.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..paths import splits_dir
from .download import file_checksum
from .io import DataError

__all__ = ["Manifest", "content_digest", "entry_matches", "manifest_path", "load_manifest", "file_entry"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def _decode(path: Path) -> np.ndarray:
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        arr = tifffile.imread(path)
    else:
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im)
    arr = np.squeeze(arr)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and np.all(arr[..., :3] == arr[..., :1]):
        arr = arr[..., 0]  # a grey image stored as RGB(A)
    return np.ascontiguousarray(arr)


def _boxes(path: Path) -> np.ndarray:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            vals = [float(v) for v in line.split()]
            rows.append([0.0, *vals[1:]])  # class ids are collapsed to one class 'cell'
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return arr[np.lexsort(arr.T[::-1])] if len(arr) else arr


def content_digest(path: str | Path) -> str:
    """SHA-256 of what a data file decodes to.

    Images: the decoded array (dtype, shape, pixels), a grey image stored as
    RGB counted as grey. YOLO ``.txt`` boxes: the parsed rows with the class
    collapsed to 0, sorted. Anything else: the file's bytes.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        arr = _decode(path)
    elif suffix == ".txt":
        arr = _boxes(path)
    else:
        return file_checksum(path)
    h = hashlib.sha256(f"{arr.dtype.str}|{arr.shape}|".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def file_entry(path: str | Path, *, with_bytes: bool = True) -> dict:
    """The manifest entry of one file."""
    entry = {"content": content_digest(path)}
    if with_bytes:
        entry["bytes"] = file_checksum(path)
    return dict(sorted(entry.items()))


def manifest_path(dataset: str) -> Path:
    return splits_dir() / f"{dataset}.sha256.json"


@dataclass(frozen=True)
class Manifest:
    """The committed digests of one dataset (see the module docstring)."""

    dataset: str
    sources: dict = field(default_factory=dict)
    path: Path | None = None

    def verify(self, source: str, sample_id: str, role: str, path: str | Path) -> None:
        """Raise :class:`DataError` unless ``path`` matches its committed digest.

        Samples the manifest does not list (files no committed split names)
        are not checked.
        """
        entries = self.sources.get(source)
        if entries is None:
            raise DataError(
                f"{self.path}: no digests for source {source!r} of dataset {self.dataset!r} "
                f"(it has {sorted(self.sources)})"
            )
        entry = entries.get(sample_id, {}).get(role)
        if entry is None:
            return
        if entry_matches(path, entry):
            return
        raise DataError(
            f"{path}: {role} of sample {sample_id!r} ({self.dataset}, {source}) differs from the "
            f"digest committed in {self.path}: the file changed (upstream or on disk). Refusing "
            "to use it, since it would silently change the benchmark; fetch it again, or, if the "
            "change is intended, rewrite the manifest with `bench data manifest --write "
            f"{self.dataset}` and review the diff"
        )

    def ids(self, source: str) -> list[str]:
        return sorted(self.sources.get(source, {}))


def entry_matches(path: str | Path, entry: dict) -> bool:
    """Whether a file matches a manifest entry (its bytes, else its decoded content)."""
    # the bytes digest is cheap; decode only when the bytes differ (a re-encoded file)
    if entry.get("bytes") is not None and file_checksum(path) == entry["bytes"]:
        return True
    return content_digest(path) == entry["content"]


def load_manifest(dataset: str) -> Manifest | None:
    """The committed manifest of ``dataset``, or ``None`` if it has none."""
    path = manifest_path(dataset)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from exc
    if doc.get("dataset") != dataset or not isinstance(doc.get("sources"), dict):
        raise DataError(f"{path}: expected {{'dataset': {dataset!r}, 'sources': {{...}}}}")
    return Manifest(dataset=dataset, sources=doc["sources"], path=path)


def write_manifest(dataset: str, sources: dict[str, dict[str, dict[str, Path]]], *,
                   note: str = "", with_bytes: dict[str, bool] | None = None) -> Path:
    """Write the manifest from ``{source: {sample_id: {role: path}}}`` (maintainers only)."""
    doc = {"dataset": dataset, "note": note, "sources": {}}
    for source, samples in sources.items():
        wb = True if with_bytes is None else with_bytes.get(source, True)
        doc["sources"][source] = {
            sid: {role: file_entry(p, with_bytes=wb) for role, p in sorted(roles.items())}
            for sid, roles in sorted(samples.items())
        }
    path = manifest_path(dataset)
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return path
