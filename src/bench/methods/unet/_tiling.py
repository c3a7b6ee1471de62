"""Tiled inference with overlapping, blended tiles (PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["tile_starts", "tile_size", "blend_window", "predict_tiled"]


def tile_starts(size: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Start offsets of tiles of length `tile` covering ``[0, size)``, overlapping by >= `overlap`.

    Tiles are spread evenly and their starts rounded to multiples of `align`
    (so every tile sees the pooling grid of the whole image); `size` and `tile`
    must then be multiples of `align`. A side no longer than `tile` gets one tile.

    >>> tile_starts(2048, 1024, 64)
    [0, 512, 1024]
    >>> tile_starts(1088, 512, 64, align=64)
    [0, 256, 576]
    >>> tile_starts(500, 1024, 64)
    [0]
    """
    if size <= tile:
        return [0]
    if size % align or tile % align:
        raise ValueError(f"`size` ({size}) and `tile` ({tile}) must be multiples of `align` ({align})")
    step = tile - overlap - (align - 1)
    if step < 1:
        raise ValueError(f"`tile` ({tile}) is too small for `overlap` ({overlap}) and `align` ({align})")
    n = math.ceil((size - tile) / step) + 1
    return [int(round(i * (size - tile) / (n - 1) / align)) * align for i in range(n)]


def blend_window(tile: tuple[int, int], overlap: int) -> np.ndarray:
    """Blending weights of one tile: 1 in the middle, ramping linearly down over
    `overlap` pixels towards each edge (never 0, so image borders covered by a
    single tile keep their prediction).

    >>> [round(float(v), 2) for v in blend_window((6, 6), 2)[2]]
    [0.33, 0.67, 1.0, 1.0, 0.67, 0.33]
    """

    def ramp(n):
        d = np.minimum(np.arange(n), np.arange(n)[::-1]) + 1.0
        return np.clip(d / (overlap + 1.0), 0.0, 1.0) if overlap > 0 else np.ones(n)

    return np.outer(ramp(tile[0]), ramp(tile[1])).astype(np.float32)


def _pad_to(x: np.ndarray, multiple: int, min_shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad a (C, Y, X) array at the bottom/right to sides divisible by `multiple`."""
    _, h, w = x.shape
    th = max(math.ceil(h / multiple) * multiple, min_shape[0])
    tw = max(math.ceil(w / multiple) * multiple, min_shape[1])
    if (th, tw) == (h, w):
        return x, (h, w)
    mode = "reflect" if h > 1 and w > 1 and th - h < h and tw - w < w else "symmetric"
    return np.pad(x, ((0, 0), (0, th - h), (0, tw - w)), mode=mode), (h, w)


def tile_size(size: int, tile: int, overlap: int, multiple: int) -> int:
    """Smallest tile side (a multiple of `multiple`, at most `tile`) covering `size` with as
    few tiles as a `tile`-sided tiling needs, so the overlap is not wasted.

    >>> tile_size(2048, 1280, 64, 64)
    1088
    >>> tile_size(300, 1280, 64, 16)
    304
    """
    size_m = math.ceil(size / multiple) * multiple
    if size_m <= tile:
        return size_m
    n = math.ceil((size_m - overlap) / (tile - overlap - (multiple - 1)))
    return min(tile, math.ceil((size_m + (n - 1) * (overlap + multiple - 1)) / n / multiple) * multiple)


@torch.inference_mode()
def predict_tiled(
    model: torch.nn.Module,
    image: np.ndarray,
    *,
    n_classes: int,
    multiple: int,
    tile: int,
    overlap: int,
    device: torch.device,
) -> np.ndarray:
    """Softmax probabilities of a ``(C, Y, X)`` image, tile by tile.

    The image is reflect-padded so its sides are divisible by `multiple`
    (``2**(depth-1)``). Tiles (side at most `tile`, shrunk by
    :func:`tile_size` so that the tiles needed are no larger than necessary)
    start on the `multiple` grid and overlap by at least `overlap` pixels; they
    are blended with :func:`blend_window` weights. An image that fits in one
    tile is run in one piece, so the result equals an untiled forward pass
    exactly. On the CPU the network runs in channels-last memory format
    (oneDNN's fast path).

    Returns
    -------
    (n_classes, Y, X) ndarray of float32
    """
    if image.ndim != 3:
        raise ValueError(f"`image` must be (C, Y, X), got shape {image.shape}")
    tile = math.ceil(tile / multiple) * multiple
    if overlap >= tile:
        raise ValueError(f"`overlap` ({overlap}) must be smaller than `tile` ({tile})")
    x, (h, w) = _pad_to(image.astype(np.float32, copy=False), multiple, (0, 0))
    _, ph, pw = x.shape
    th, tw = tile_size(ph, tile, overlap, multiple), tile_size(pw, tile, overlap, multiple)
    ys, xs = tile_starts(ph, th, overlap, multiple), tile_starts(pw, tw, overlap, multiple)
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format

    def run(a: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(a[None])).to(device).contiguous(memory_format=fmt)
        return torch.softmax(model(t), dim=1)[0].float().cpu().numpy()

    if len(ys) == 1 and len(xs) == 1:
        return np.ascontiguousarray(run(x)[:, :h, :w])
    win = blend_window((th, tw), overlap)
    acc = np.zeros((n_classes, ph, pw), np.float32)
    wsum = np.zeros((ph, pw), np.float32)
    for y0 in ys:
        for x0 in xs:
            p = run(x[:, y0 : y0 + th, x0 : x0 + tw])
            acc[:, y0 : y0 + th, x0 : x0 + tw] += p * win
            wsum[y0 : y0 + th, x0 : x0 + tw] += win
    acc /= wsum
    return np.ascontiguousarray(acc[:, :h, :w])
