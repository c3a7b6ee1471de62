"""Resumable, verified downloads and safe archive extraction.

Every download goes through :func:`download`:

- bytes are written to ``<file>.part`` and the file gets its final name only
  after it is complete and verified, so nothing half-written is ever taken as
  complete;
- an interrupted download resumes with an HTTP ``Range`` request (a server
  that ignores ``Range`` makes it start over);
- a body shorter than announced, a wrong size or a checksum mismatch raises
  :class:`~bench.data.io.DataError` (a mismatching ``.part`` is deleted, a
  short one is kept for the next try);
- progress is shown with tqdm when a person is watching (see
  :func:`progress_enabled`).

:func:`safe_extract` unpacks zip and tar archives, refusing any member that
would land outside the target folder (absolute paths, ``..``), links and
special files.

Every upstream URL can be redirected to another server with the
``BENCH_DATA_URL`` environment variable (or the ``base_url`` argument of the
fetch functions): the archive ``https://host/a/b/name.zip`` is then fetched
from ``$BENCH_DATA_URL/name.zip``. The tests use it to serve archives from
127.0.0.1; it also serves a lab's own mirror of the upstream files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .io import DataError
from ..progress import progress_bar

__all__ = [
    "Checksum",
    "download",
    "file_checksum",
    "progress_enabled",
    "redirect",
    "safe_extract",
    "UnsafeArchiveError",
]

logger = logging.getLogger(__name__)

_ALGORITHMS = ("md5", "sha256")


class UnsafeArchiveError(DataError):
    """An archive member would escape the target folder or is a link/device."""


@dataclass(frozen=True)
class Checksum:
    """An expected digest, written ``"md5:<hex>"`` or ``"sha256:<hex>"``.

    >>> Checksum.parse("md5:D41D8CD98F00B204E9800998ECF8427E")
    Checksum(algorithm='md5', value='d41d8cd98f00b204e9800998ecf8427e')
    """

    algorithm: str
    value: str

    @classmethod
    def parse(cls, text: str) -> "Checksum":
        if not isinstance(text, str) or ":" not in text:
            raise ValueError(f"`checksum` must look like 'md5:<hex>' or 'sha256:<hex>', got {text!r}")
        algorithm, value = text.split(":", 1)
        algorithm = algorithm.strip().lower()
        if algorithm not in _ALGORITHMS:
            raise ValueError(f"`checksum` algorithm must be one of {_ALGORITHMS}, got {algorithm!r}")
        value = value.strip().lower()
        if not value or any(c not in "0123456789abcdef" for c in value):
            raise ValueError(f"`checksum` value must be hexadecimal, got {value!r}")
        return cls(algorithm, value)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


def file_checksum(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show progress bars.

    An explicit ``progress`` wins; else ``TQDM_DISABLE`` (the runner sets it
    when it executes notebooks) turns them off; else ``BENCH_PROGRESS=0|1``;
    else they show only when stderr is a terminal.
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no", "off"):
        return False
    env = os.environ.get("BENCH_PROGRESS")
    if env is not None and env.strip() != "":
        return env.strip().lower() not in ("0", "false", "no", "off")
    return sys.stderr.isatty()


def redirect(url: str, base_url: str | None = None, *, name: str | None = None) -> str:
    """``url``, or ``<base>/<name>`` when ``base_url`` / ``$BENCH_DATA_URL`` is set.

    ``name`` defaults to the last component of the URL's path.

    >>> redirect("https://zenodo.org/records/1/files/a.zip?download=1", "http://127.0.0.1:8000")
    'http://127.0.0.1:8000/a.zip'
    >>> redirect("https://zenodo.org/api/records/1/files/a.zip/content", "http://h", name="a.zip")
    'http://h/a.zip'
    """
    base = base_url if base_url is not None else os.environ.get("BENCH_DATA_URL") or None
    if not base:
        return url
    if name is None:
        name = PurePosixPath(url.split("?", 1)[0].split("#", 1)[0]).name
    return base.rstrip("/") + "/" + name


def download(
    url: str,
    dest: str | Path,
    *,
    checksum: str | Checksum | None = None,
    size: int | None = None,
    progress: bool | None = None,
    timeout: float = 60.0,
    chunk_size: int = 1 << 16,
) -> Path:
    """Download ``url`` to ``dest``, resumably and verified.

    Parameters
    ----------
    url : str
        HTTP(S) address.
    dest : path
        Final file. While downloading, bytes go to ``<dest>.part``.
    checksum : str or Checksum, optional
        ``"md5:<hex>"`` or ``"sha256:<hex>"``; the completed file must match.
    size : int, optional
        Expected size in bytes (checked when given).
    progress : bool, optional
        Show a progress bar (default: :func:`progress_enabled`).

    Returns
    -------
    dest : Path

    Raises
    ------
    DataError
        HTTP error (404...), connection lost or body shorter than announced
        (the ``.part`` file is kept: rerun to resume), wrong size or checksum
        (the ``.part`` file is deleted).
    """
    import requests

    dest = Path(dest)
    expected = Checksum.parse(checksum) if isinstance(checksum, str) else checksum
    if dest.is_file():
        if expected is None or file_checksum(dest, expected.algorithm) == expected.value:
            logger.info("%s: already downloaded", dest)
            return dest
        logger.warning("%s: checksum differs from %s; downloading it again", dest, expected)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    done = part.stat().st_size if part.is_file() else 0
    # identity: byte counts and Range offsets refer to the file itself, never to a gzip of it
    headers = {"Accept-Encoding": "identity"}
    if done:
        headers["Range"] = f"bytes={done}-"
    total: int | None = None
    try:
        with requests.get(url, stream=True, headers=headers, timeout=timeout) as r:
            if r.status_code == 416 and done:
                # the server has nothing past what we hold: the .part is complete, or longer
                # than the file (``Content-Range: bytes */<size>`` says which)
                full = r.headers.get("Content-Range", "").rpartition("/")[2]
                total = int(full) if full.isdigit() else done
            elif r.status_code in (200, 206):
                if r.status_code == 206:
                    start, total = _content_range(r.headers.get("Content-Range", ""), url)
                    if start != done:
                        raise DataError(
                            f"{url}: server resumed at byte {start}, expected {done}; delete "
                            f"{part} and rerun"
                        )
                else:
                    if done:
                        logger.info("%s: server ignored the Range request; starting over", url)
                    done = 0
                    length = r.headers.get("Content-Length")
                    total = int(length) if length is not None else None
                _stream(r, part, append=done > 0, done=done, total=total, url=url,
                        progress=progress_enabled(progress), chunk_size=chunk_size)
            else:
                raise DataError(
                    f"{url}: HTTP {r.status_code} {r.reason or ''}".rstrip()
                    + (" (the file is not there: check the address)" if r.status_code == 404 else "")
                )
    except requests.ConnectionError as exc:
        kept = part.stat().st_size if part.is_file() else 0
        if kept == done:  # nothing arrived: the host was never reached
            raise DataError(
                f"cannot reach {url} ({type(exc).__name__}). Are you offline? "
                + (f"{kept} bytes kept in {part}; rerun to resume" if kept else "Rerun when online")
            ) from exc
        raise DataError(
            f"{url}: download interrupted ({type(exc).__name__}: {exc}); {kept} bytes kept in "
            f"{part}, rerun to resume"
        ) from exc
    except requests.RequestException as exc:
        kept = part.stat().st_size if part.is_file() else 0
        raise DataError(
            f"{url}: download interrupted ({type(exc).__name__}: {exc}); {kept} bytes kept in "
            f"{part}, rerun to resume"
        ) from exc
    got = part.stat().st_size if part.is_file() else 0
    if total is not None and got < total:
        raise DataError(
            f"{url}: body truncated: received {got} of {total} bytes; kept in {part}, rerun to resume"
        )
    if total is not None and got > total or size is not None and got != size:
        part.unlink()
        raise DataError(
            f"{url}: got {got} bytes, expected {size if size is not None else total}; the partial "
            "file was deleted, rerun to download it again"
        )
    if expected is not None:
        actual = file_checksum(part, expected.algorithm)
        if actual != expected.value:
            part.unlink()
            raise DataError(
                f"{url}: checksum mismatch: expected {expected}, got {expected.algorithm}:{actual}; "
                "the download was deleted. If upstream changed the file on purpose, the recorded "
                "checksum must be updated after checking the new data"
            )
    os.replace(part, dest)
    return dest


def _content_range(value: str, url: str) -> tuple[int, int | None]:
    # "bytes 100-999/1000" or "bytes 100-999/*"
    try:
        unit, rest = value.split(" ", 1)
        span, full = rest.split("/", 1)
        start = int(span.split("-", 1)[0])
        total = None if full.strip() == "*" else int(full)
    except ValueError:
        raise DataError(f"{url}: unreadable Content-Range header {value!r}") from None
    if unit.lower() != "bytes":
        raise DataError(f"{url}: Content-Range in unit {unit!r}, expected bytes")
    return start, total


def _stream(r, part: Path, *, append: bool, done: int, total: int | None, url: str,
            progress: bool, chunk_size: int) -> None:
    name = PurePosixPath(url.split("?", 1)[0]).name or "download"
    with open(part, "ab" if append else "wb") as f, progress_bar(
        total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1024,
        desc=name, disable=not progress, leave=False,
    ) as bar:
        for chunk in r.iter_content(chunk_size):
            f.write(chunk)
            bar.update(len(chunk))


# --------------------------------------------------------------- extraction
def _member_target(root: Path, name: str, archive: Path) -> Path:
    pure = name.replace("\\", "/")
    if pure.startswith("/") or (len(pure) > 1 and pure[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    parts = [p for p in PurePosixPath(pure).parts if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} climbs out with '..'; refusing to extract")
    target = root.joinpath(*parts) if parts else root
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the target folder")
    return target


def _members(archive: Path):
    """Yield ``(name, is_dir, open_fn)`` for every member, refusing links and devices."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                fmt = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip records no type
                if fmt == stat.S_IFLNK:
                    raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a symbolic link")
                if fmt and fmt not in (stat.S_IFREG, stat.S_IFDIR):
                    raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is not a file")
                yield info.filename, info.is_dir(), (lambda i=info: z.open(i))
        return
    try:
        tf = tarfile.open(archive)
    except tarfile.TarError as exc:
        raise DataError(f"{archive}: neither a zip nor a tar archive ({exc})") from exc
    with tf:
        for m in tf:
            if m.issym() or m.islnk():
                raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a link (to {m.linkname!r})")
            if not (m.isfile() or m.isdir()):
                raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a device or special file")
            yield m.name, m.isdir(), (lambda m=m: tf.extractfile(m))


def safe_extract(archive: str | Path, dest: str | Path, *, strip_single_top: bool = True) -> Path:
    """Unpack a zip or tar archive into ``dest``, atomically and safely.

    Members are checked before anything is written: an absolute path, a
    ``..`` component, a symbolic or hard link or a special file raises
    :class:`UnsafeArchiveError` and leaves ``dest`` untouched. The archive is
    unpacked into ``<dest>.extracting`` and renamed to ``dest`` only when
    complete (an existing ``dest`` is replaced). With ``strip_single_top``,
    an archive whose content sits in one top folder is unpacked without it.
    """
    archive, dest = Path(archive), Path(dest)
    tmp = dest.with_name(dest.name + ".extracting")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        # first pass: validate every member (nothing written on a bad archive)
        for name, _, _ in _members(archive):
            _member_target(tmp, name, archive)
        for name, is_dir, open_fn in _members(archive):
            target = _member_target(tmp, name, archive)
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_fn() as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{archive}: corrupt archive ({type(exc).__name__}: {exc})") from exc
    except DataError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    entries = list(tmp.iterdir())
    src = entries[0] if strip_single_top and len(entries) == 1 and entries[0].is_dir() else tmp
    if dest.exists():
        shutil.rmtree(dest)
    src.rename(dest)
    if tmp.exists():
        shutil.rmtree(tmp)
    return dest
