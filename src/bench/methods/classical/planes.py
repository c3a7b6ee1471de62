"""Image planes a classical method segments: normalised channels, inverted ones, texture
(local standard deviation) and their combinations (``channel=`` specs)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from .._shared import normalize
from .._shared.parallel import map_rows

__all__ = ["normalize_channels", "channel_candidates", "STD_SIGMA", "local_std", "channel_plane"]

def normalize_channels(image: np.ndarray) -> np.ndarray:
    """Each channel mapped so that its 1st / 99.8th percentiles become 0 / 1 (float32).

    Percentiles are taken on a regular sub-grid of at most ~512x512 pixels.

    Examples
    --------
    >>> img = np.linspace(0, 10, 1000, dtype=np.float32).reshape(10, 100, 1)
    >>> out = normalize_channels(img)
    >>> round(float(np.percentile(out, 1)), 3) + 0.0, round(float(np.percentile(out, 99.8)), 3)
    (0.0, 1.0)
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"`image` must be (M, N, C), got shape {image.shape}")
    return normalize(image)


def channel_candidates(channels: Sequence[str]) -> list[str]:
    """Planes ``channel="auto"`` chooses from.

    >>> channel_candidates(["gfp", "rfp"])
    ['gfp', 'rfp', '-gfp', '-rfp', 'std:gfp', 'std:rfp', 'sum', 'max', 'max+std']
    """
    cands = list(channels) + [f"-{c}" for c in channels] + [f"std:{c}" for c in channels]
    if len(channels) > 1:
        cands += ["sum", "max", "max+std"]
    return cands


#: Gaussian scale (working px) of the local standard deviation of ``std:`` planes.
STD_SIGMA = 2.0


def local_std(plane: np.ndarray, sigma: float = STD_SIGMA) -> np.ndarray:
    """Gaussian-weighted local standard deviation (texture), normalised to 0-1 percentiles.

    Transmitted-light cells differ from the background by texture more than by
    intensity; this plane makes them thresholdable.

    Examples
    --------
    >>> x = np.zeros((16, 16), np.float32); x[4:12, 4:12:2] = 1.0
    >>> s = local_std(x, 1.0)
    >>> bool(s[8, 8] > s[0, 15])
    True
    """
    x = np.asarray(plane, np.float32)
    m = ndi.gaussian_filter(x, sigma)
    v = ndi.gaussian_filter(x * x, sigma) - m * m
    return normalize(np.sqrt(np.maximum(v, 0.0)))


def channel_plane(normalized: np.ndarray, channels: Sequence[str], spec: str) -> np.ndarray:
    """The plane named by `spec` from a normalised ``(M, N, C)`` image.

    ``spec`` is a channel name, ``-<name>`` (inverted), ``std:<name>`` (local
    standard deviation, :func:`local_std`), ``sum`` (mean of the channels),
    ``max`` (their maximum), ``max+std`` (maximum of the channels and of their
    ``std:`` planes) or ``max(<spec>,<spec>,...)`` (maximum of those planes).

    Examples
    --------
    >>> x = np.stack([np.zeros((2, 2)), np.ones((2, 2))], -1).astype(np.float32)
    >>> channel_plane(x, ["a", "b"], "sum")[0, 0], channel_plane(x, ["a", "b"], "-b")[0, 0]
    (np.float32(0.5), np.float32(0.0))
    """
    channels = list(channels)
    if spec.startswith("max(") and spec.endswith(")"):
        parts = [p for p in spec[4:-1].split(",") if p]
        if not parts:
            raise ValueError(f"parameter `channel`={spec!r}: empty combination")
        return np.max([channel_plane(normalized, channels, p) for p in parts], axis=0)
    if spec == "sum":
        # per pixel: blocks of rows on threads give the whole image's values
        return map_rows(lambda x: x.mean(axis=2, dtype=np.float32), normalized)
    if spec == "max":
        return normalized.max(axis=2)
    if spec == "max+std":
        planes = [normalized[..., c] for c in range(normalized.shape[2])]
        planes += [local_std(p) for p in planes]
        return np.max(planes, axis=0)
    kind, name = "raw", spec
    if spec.startswith("-"):
        kind, name = "invert", spec[1:]
    elif spec.startswith("std:"):
        kind, name = "std", spec[4:]
    if name not in channels:
        raise ValueError(
            f"parameter `channel`={spec!r} names no channel of the data; channels are "
            f"{tuple(channels)} (or use 'auto', 'sum', 'max', 'max+std', '-<name>', 'std:<name>')"
        )
    plane = normalized[..., channels.index(name)]
    if kind == "invert":
        return 1.0 - plane
    if kind == "std":
        return local_std(plane)
    return plane
