"""Batch data augmentation on torch tensors, vectorised and seeded by a numpy Generator.

Every random draw comes from the numpy ``rng`` passed in, so a training run
repeats exactly; the arithmetic runs on the batch's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["Augmentation", "augment_batch", "elastic_field"]


@dataclass(frozen=True)
class Augmentation:
    """Which augmentations :func:`augment_batch` applies and how strongly.

    Attributes
    ----------
    flips : bool
        Random horizontal and vertical flips (probability 1/2 each).
    rot90 : bool
        Random rotation by 0, 90, 180 or 270 degrees.
    elastic : float
        Probability of an elastic deformation of a sample (0 disables it).
    elastic_grid : int
        Control points per side of the random displacement grid.
    elastic_sigma : float
        Standard deviation (pixels) of the control-point displacements.
    gamma : tuple of float
        Range of the gamma exponent (drawn log-uniformly per sample and channel).
    contrast : tuple of float
        Range of the multiplicative contrast factor.
    brightness : tuple of float
        Range of the additive offset (normalised intensity units).
    """

    flips: bool = True
    rot90: bool = True
    elastic: float = 0.5
    elastic_grid: int = 5
    elastic_sigma: float = 3.0
    gamma: tuple[float, float] = (0.7, 1.5)
    contrast: tuple[float, float] = (0.75, 1.25)
    brightness: tuple[float, float] = (-0.1, 0.1)


def elastic_field(
    n: int, shape: tuple[int, int], *, grid: int, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Smooth random displacement fields, ``(n, 2, Y, X)`` in pixels (dy, dx).

    Control-point displacements ~ N(0, `sigma`) on a ``grid x grid`` lattice
    are interpolated bicubically to the full shape (Simard et al., 2003;
    Ronneberger et al., 2015).
    """
    coarse = rng.normal(0.0, sigma, size=(n, 2, grid, grid)).astype(np.float32)
    field = F.interpolate(torch.from_numpy(coarse), size=shape, mode="bicubic", align_corners=True)
    return field.numpy()


def _warp(x: torch.Tensor, grid: torch.Tensor, mode: str) -> torch.Tensor:
    return F.grid_sample(x, grid, mode=mode, padding_mode="reflection", align_corners=True)


def augment_batch(
    images: torch.Tensor,
    targets: torch.Tensor,
    *,
    rng: np.random.Generator,
    config: Augmentation = Augmentation(),
    image_mode: str = "bilinear",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch of images and their pixel-class targets identically.

    Parameters
    ----------
    images : (B, C, Y, X) float tensor
        Normalised images.
    targets : (B, Y, X) int64 tensor
        Pixel classes (any integer map that must move with the image).
    rng : numpy Generator
        Source of every random draw.
    config : Augmentation
        What to apply.
    image_mode : {"bilinear", "nearest"}
        Interpolation of the images in the elastic warp (targets always use
        nearest neighbour).

    Returns
    -------
    images, targets : tensors of the input shapes
        Geometric transforms (flips, 90-degree rotations, elastic warp) are the
        same for a sample's image and target; intensity curves touch the image
        only: ``x -> contrast * max(x, 0) ** gamma + brightness``. Rotations by
        90 or 270 degrees need square patches.
    """
    if images.ndim != 4 or targets.ndim != 3 or images.shape[0] != targets.shape[0] or (
        images.shape[2:] != targets.shape[1:]
    ):
        raise ValueError(
            f"`images` (shape {tuple(images.shape)}) must be (B, C, Y, X) and `targets` "
            f"(shape {tuple(targets.shape)}) (B, Y, X) with the same B, Y, X"
        )
    b, c, h, w = images.shape
    dev = images.device
    y = targets.unsqueeze(1).to(images.dtype)  # carried through the warps as a float channel
    if config.flips:
        fy = torch.from_numpy(rng.random(b) < 0.5).to(dev).view(b, 1, 1, 1)
        fx = torch.from_numpy(rng.random(b) < 0.5).to(dev).view(b, 1, 1, 1)
        images = torch.where(fy, images.flip(2), images)
        y = torch.where(fy, y.flip(2), y)
        images = torch.where(fx, images.flip(3), images)
        y = torch.where(fx, y.flip(3), y)
    if config.rot90:
        k = rng.integers(0, 4, size=b)
        if h != w and np.any(k % 2 == 1):
            raise ValueError(f"90-degree rotations need square patches, got {h}x{w}")
        kt = torch.from_numpy(k).to(dev).view(b, 1, 1, 1)
        out_i, out_y = images.clone(), y.clone()
        for r in (1, 2, 3):
            sel = kt == r
            out_i = torch.where(sel, torch.rot90(images, r, dims=(2, 3)), out_i)
            out_y = torch.where(sel, torch.rot90(y, r, dims=(2, 3)), out_y)
        images, y = out_i, out_y
    if config.elastic > 0:
        field = elastic_field(b, (h, w), grid=config.elastic_grid, sigma=config.elastic_sigma, rng=rng)
        on = (rng.random(b) < config.elastic).astype(np.float32)
        field *= on[:, None, None, None]
        if on.any():
            gy, gx = torch.meshgrid(
                torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
            )
            fld = torch.from_numpy(field)
            sy = gy + fld[:, 0]
            sx = gx + fld[:, 1]
            grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1).to(dev)
            images = _warp(images, grid.to(images.dtype), image_mode)
            y = _warp(y, grid.to(y.dtype), "nearest")
    lo_g, hi_g = np.log(config.gamma[0]), np.log(config.gamma[1])
    gamma = np.exp(rng.uniform(lo_g, hi_g, size=(b, c, 1, 1))).astype(np.float32)
    contrast = rng.uniform(*config.contrast, size=(b, c, 1, 1)).astype(np.float32)
    bright = rng.uniform(*config.brightness, size=(b, c, 1, 1)).astype(np.float32)
    if config.gamma != (1.0, 1.0) or config.contrast != (1.0, 1.0) or config.brightness != (0.0, 0.0):
        g = torch.from_numpy(gamma).to(dev)
        images = torch.from_numpy(contrast).to(dev) * images.clamp(min=0).pow(g) + torch.from_numpy(
            bright
        ).to(dev)
    return images.contiguous(), y.squeeze(1).round().to(targets.dtype).contiguous()
