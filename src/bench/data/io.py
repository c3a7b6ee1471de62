"""Reading images and masks from disk, with errors that name the file.

Every reader here turns a library's exception (Pillow, tifffile) into a
:class:`DataError` that says which file failed and why, and checks what the
benchmark relies on: finite pixels, integer masks, non-empty masks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "DataError",
    "IMAGE_SUFFIXES",
    "read_image",
    "read_mask",
    "to_float_image",
    "binary_to_instances",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


class DataError(ValueError):
    """A data file or folder is missing, unreadable or inconsistent."""


def _read_raw(path: Path) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file does not exist")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise DataError(
            f"{path}: unsupported file type {suffix!r}; expected one of {IMAGE_SUFFIXES}"
        )
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            arr = tifffile.imread(path)
        else:
            from PIL import Image

            with Image.open(path) as im:
                im.load()
                if im.mode in ("I;16", "I;16B", "I;16L"):
                    arr = np.array(im, dtype=np.uint16)
                else:
                    arr = np.asarray(im)
    except DataError:
        raise
    except Exception as exc:  # any decoder failure: truncated, corrupt, wrong codec
        raise DataError(
            f"{path}: cannot be read as an image ({type(exc).__name__}: {exc}); "
            "the file may be truncated or corrupt"
        ) from exc
    if arr.size == 0:
        raise DataError(f"{path}: image has no pixels (shape {arr.shape})")
    return arr


def to_float_image(arr: np.ndarray, *, source: str = "image") -> np.ndarray:
    """Convert a 2D or (Y, X, C) array to float32 ``(Y, X, C)`` in camera units.

    Integer images are scaled by the maximum of their dtype (uint8 -> /255,
    uint16 -> /65535), so intensities stay comparable between images of the
    same dataset (no per-image min/max stretching). Float images are kept.

    Raises
    ------
    DataError
        If the array has NaN or infinite values, or an unsupported shape.
    """
    if arr.ndim == 2:
        arr = arr[..., None]
    elif arr.ndim != 3:
        raise DataError(f"{source}: expected a 2D or (Y, X, C) image, got shape {arr.shape}")
    if arr.dtype == bool:
        out = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
    elif np.issubdtype(arr.dtype, np.floating):
        out = arr.astype(np.float32)
        if not np.all(np.isfinite(out)):
            n_bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
            raise DataError(f"{source}: image has {n_bad} NaN or infinite pixel(s)")
    else:
        raise DataError(f"{source}: unsupported pixel type {arr.dtype}")
    return np.ascontiguousarray(out)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as float32 ``(Y, X, C)``.

    Parameters
    ----------
    path : str or Path
        TIFF, PNG or JPEG; 8- or 16-bit integer or float.

    Returns
    -------
    image : (Y, X, C) ndarray of float32
        A grey image gets ``C = 1``; RGBA drops alpha.
    """
    path = Path(path)
    arr = _read_raw(path)
    if arr.ndim == 3 and arr.shape[-1] == 4 and path.suffix.lower() != ".tif":
        arr = arr[..., :3]
    if arr.ndim == 3 and arr.shape[0] <= 4 and arr.shape[-1] > 4:
        arr = np.moveaxis(arr, 0, -1)  # channel-first TIFF
    return to_float_image(arr, source=str(path))


def binary_to_instances(mask: np.ndarray) -> np.ndarray:
    """Instances from a binary mask: 8-connected components, numbered 1..N.

    Touching objects in a binary mask cannot be told apart and become one
    instance; dataset cards say so where it matters.
    """
    labels, _ = ndi.label(mask > 0, structure=np.ones((3, 3), dtype=bool))
    return labels.astype(np.int32)


def read_mask(path: str | Path, *, allow_empty: bool = False) -> np.ndarray:
    """Read a mask file as int32 instance labels (0 = background).

    A mask with at most two distinct values (0 and one foreground value, as
    in 0/255 PNGs) is treated as binary and split into connected components;
    otherwise each distinct value is one instance, renumbered consecutively.

    Raises
    ------
    DataError
        If the file is missing or unreadable, has more than one channel with
        different content, holds non-integer values, negative values, or no
        object at all (unless ``allow_empty``).
    """
    path = Path(path)
    arr = _read_raw(path)
    if arr.ndim == 3:
        if arr.shape[-1] in (3, 4) and np.all(arr[..., :3] == arr[..., :1]):
            arr = arr[..., 0]
        else:
            raise DataError(
                f"{path}: a mask must be a single-channel label image, got shape {arr.shape}"
            )
    if arr.ndim != 2:
        raise DataError(f"{path}: a mask must be 2D, got shape {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{path}: mask has NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise DataError(
                f"{path}: mask has non-integer values (dtype {arr.dtype}); a label image "
                "must hold integer object ids"
            )
    elif not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{path}: unsupported mask type {arr.dtype}")
    if arr.min() < 0:
        raise DataError(f"{path}: mask has negative values (min {arr.min()})")
    values = np.unique(arr)
    fg = values[values > 0]
    if fg.size == 0 and not allow_empty:
        raise DataError(f"{path}: mask is empty (no object pixels)")
    if fg.size <= 1:
        return binary_to_instances(arr)
    if fg.max() > np.iinfo(np.int32).max:
        raise DataError(f"{path}: label values exceed int32")
    # renumber consecutively; np.searchsorted keeps it vectorised
    lut_values = np.concatenate([[0], fg]) if values[0] != 0 else values
    out = np.searchsorted(lut_values, arr).astype(np.int32)
    return out
