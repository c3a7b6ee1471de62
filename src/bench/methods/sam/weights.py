"""Registry of the Segment Anything checkpoints: where they come from and how they are checked.

Meta distributes three checkpoints (``vit_b``, ``vit_l``, ``vit_h``) from
``dl.fbaipublicfiles.com`` (README of facebookresearch/segment-anything) and
publishes **no checksum** for them; the six hex digits in each file name are
not documented as a hash. The SHA-256 values below are those pinned in the
pooch registry of micro-sam (computational-cell-analytics/micro-sam,
``micro_sam/util.py``), i.e. computed by a third party from the official
files; independent projects pin the same values. A downloaded or user-supplied
file is accepted only if its SHA-256 matches. The file size is recorded only
where a source states it (``vit_h``); elsewhere ``size_bytes`` is ``None``.

Nothing is downloaded unless the caller asks for it (``download=True``);
downloads go through :func:`pooch.retrieve` with the known hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from ...paths import cache_dir, shown_path

__all__ = [
    "Checkpoint",
    "CHECKPOINTS",
    "default_weights_dir",
    "checkpoint_path",
    "weights_reason",
    "verify_checkpoint",
    "fetch_checkpoint",
]

logger = logging.getLogger(__name__)

_MICRO_SAM = "sha256 pinned by micro-sam (computational-cell-analytics/micro-sam, micro_sam/util.py); Meta publishes none"


@dataclass(frozen=True)
class Checkpoint:
    """One downloadable SAM checkpoint.

    Attributes
    ----------
    model : str
        ``segment_anything.sam_model_registry`` key (``"vit_b"``...).
    filename : str
        File name of the official download.
    url : str
        Official download address.
    sha256 : str or None
        Expected SHA-256 (hex); ``None`` if no trustworthy value is known
        (then only ``size_bytes`` can be checked).
    size_bytes : int or None
        Expected size, where a source states it.
    checksum_source : str
        Where the checksum comes from.
    """

    model: str
    filename: str
    url: str
    sha256: str | None
    size_bytes: int | None
    checksum_source: str


_BASE = "https://dl.fbaipublicfiles.com/segment_anything/"

CHECKPOINTS: dict[str, Checkpoint] = {
    "vit_b": Checkpoint(
        "vit_b", "sam_vit_b_01ec64.pth", _BASE + "sam_vit_b_01ec64.pth",
        "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912", None, _MICRO_SAM,
    ),
    "vit_l": Checkpoint(
        "vit_l", "sam_vit_l_0b3195.pth", _BASE + "sam_vit_l_0b3195.pth",
        "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622", None, _MICRO_SAM,
    ),
    "vit_h": Checkpoint(
        "vit_h", "sam_vit_h_4b8939.pth", _BASE + "sam_vit_h_4b8939.pth",
        "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e", 2_564_550_879, _MICRO_SAM,
    ),
}


def _checkpoint(model: str) -> Checkpoint:
    try:
        return CHECKPOINTS[model]
    except KeyError:
        raise ValueError(f"`model` must be one of {sorted(CHECKPOINTS)}, got {model!r}") from None


def default_weights_dir() -> Path:
    """``$BENCH_SAM_WEIGHTS`` if set, else ``<bench cache>/weights/sam``."""
    env = os.environ.get("BENCH_SAM_WEIGHTS")
    return Path(env) if env else cache_dir() / "weights" / "sam"


def checkpoint_path(model: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """Where the checkpoint of `model` is expected (it may not exist).

    Examples
    --------
    >>> checkpoint_path("vit_b", "/w").as_posix()
    '/w/sam_vit_b_01ec64.pth'
    """
    ck = _checkpoint(model)
    folder = Path(weights_dir) if weights_dir else default_weights_dir()
    return folder / ck.filename


def weights_reason(model: str, weights_dir: str | os.PathLike | None = None, *, download: bool = False) -> str | None:
    """Why the checkpoint of `model` cannot be used here, or ``None``.

    A present file is not hashed here (that takes seconds for ``vit_h``); its
    size is checked when known. :func:`fetch_checkpoint` verifies the hash
    before the weights are used.
    """
    ck = _checkpoint(model)
    path = checkpoint_path(model, weights_dir)
    if path.is_file():
        if ck.size_bytes is not None and path.stat().st_size != ck.size_bytes:
            return (
                f"SAM checkpoint {shown_path(path)} has {path.stat().st_size} bytes, expected {ck.size_bytes}; "
                f"delete it and download {ck.url} again"
            )
        return None
    if download:
        return None
    return (
        f"SAM checkpoint {ck.filename} not found in {shown_path(path.parent)}; download {ck.url} "
        f"(sha256 {ck.sha256}) into that folder, point `weights_dir` (or $BENCH_SAM_WEIGHTS) "
        "at a folder holding it, or pass download=true"
    )


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify_checkpoint(path: str | os.PathLike, model: str, *, allow_sha256: str = "") -> None:
    """Raise ``ValueError`` if the file at `path` is not the registered checkpoint of `model`.

    Parameters
    ----------
    path : path
        The checkpoint file.
    model : str
        Registry key (``"vit_b"``...).
    allow_sha256 : str, optional
        SHA-256 of one unregistered file to accept as well (tests with random
        weights); accepting it warns. Empty: registered checkpoints only.
    """
    ck = _checkpoint(model)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: SAM checkpoint file does not exist")
    if ck.sha256 is None and not allow_sha256:
        size = path.stat().st_size
        if ck.size_bytes is not None and size != ck.size_bytes:
            raise ValueError(f"{path}: {size} bytes, expected {ck.size_bytes} for SAM {model}")
        return
    digest = _sha256(path)
    if allow_sha256 and digest == allow_sha256:
        warnings.warn(
            f"{path.name}: unregistered SAM {model} checkpoint (sha256 {digest}) accepted because "
            "`allow_unregistered_sha256` names it; its results are not Segment Anything's",
            stacklevel=2,
        )
        return
    size = path.stat().st_size
    if ck.size_bytes is not None and size != ck.size_bytes:
        raise ValueError(f"{path}: {size} bytes, expected {ck.size_bytes} for SAM {model}")
    if ck.sha256 is not None and digest != ck.sha256:
        allowed = f" nor the allowed {allow_sha256}" if allow_sha256 else ""
        raise ValueError(
            f"{path}: sha256 {digest} matches neither the registered {ck.sha256}{allowed} for SAM {model}; "
            f"bench uses only registered checkpoints (delete the file and download {ck.url})"
        )


def fetch_checkpoint(
    model: str, weights_dir: str | os.PathLike | None = None, *, download: bool = False, allow_sha256: str = ""
) -> Path:
    """Path of the verified checkpoint of `model`, downloading it with pooch if allowed.

    `allow_sha256` is passed to :func:`verify_checkpoint`.

    Raises
    ------
    FileNotFoundError
        If the file is absent and `download` is false.
    ValueError
        If the file fails verification.
    """
    ck = _checkpoint(model)
    path = checkpoint_path(model, weights_dir)
    if not path.is_file():
        if not download:
            raise FileNotFoundError(weights_reason(model, weights_dir, download=False))
        import pooch

        logger.info("downloading SAM %s from %s to %s", model, ck.url, path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        known = f"sha256:{ck.sha256}" if ck.sha256 else None
        fetched = pooch.retrieve(ck.url, known_hash=known, fname=ck.filename, path=path.parent, progressbar=True)
        path = Path(fetched)
    verify_checkpoint(path, model, allow_sha256=allow_sha256)
    return path
