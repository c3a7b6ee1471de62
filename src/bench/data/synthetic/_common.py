"""Building blocks shared by the synthetic generators: validation, random streams,
optics (PSF, defocus), smooth random fields, shape rendering and the camera model.

Conventions used throughout
---------------------------
* Pixel ``(i, j)`` covers ``[i - 0.5, i + 0.5) x [j - 0.5, j + 0.5)``; object
  centres are continuous ``(y, x)`` coordinates in pixels.
* A *star-convex* object is described by its centre and a radius function
  ``r(phi)``; its signed radial distance is ``s = rho - r(phi)`` (negative
  inside). Its ground-truth mask is ``s <= 0`` and its rendered emission uses
  the anti-aliased coverage ``clip(0.5 - s, 0, 1)``, so the label and the
  rendered object share one boundary (the label is the object, not its blurred
  image).
* Emission maps are in arbitrary *emission units*; a camera turns
  ``photons * emission`` into counts (see :func:`expose`).
"""

from __future__ import annotations

import math
import operator
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage as ndi

DIFFICULTIES = ("easy", "realistic")


# --------------------------------------------------------------------------- checks


def check_seed(seed) -> int:
    """Return ``seed`` as a Python int, or raise if it is not a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be a non-negative int, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"`seed` must be a non-negative int, got {seed!r}")
    return int(seed)


def check_difficulty(difficulty) -> str:
    """Return ``difficulty`` if it is one of :data:`DIFFICULTIES`, else raise ValueError."""
    if not isinstance(difficulty, str) or difficulty not in DIFFICULTIES:
        raise ValueError(
            f"`difficulty` must be one of {', '.join(map(repr, DIFFICULTIES))}, got {difficulty!r}"
        )
    return difficulty


def check_shape(shape, *, minimum: int) -> tuple[int, int]:
    """Return ``shape`` as ``(Y, X)`` ints ``>= minimum``, else raise ValueError."""
    msg = f"`shape` must be a (Y, X) pair of ints, each >= {minimum}, got {shape!r}"
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(msg)
    try:
        out = tuple(operator.index(v) for v in shape)
    except TypeError:
        raise ValueError(msg) from None
    if any(isinstance(v, bool) for v in shape) or min(out) < minimum:
        raise ValueError(msg)
    return out  # type: ignore[return-value]


# --------------------------------------------------------------------------- randomness


def streams(seed: int, generator: str, *names: str) -> tuple[np.random.Generator, ...]:
    """Independent generators, one per name, derived from ``(seed, generator, name)``.

    Each stream depends only on its own key, so adding a stream, or drawing
    more numbers from one, leaves the others unchanged.
    """
    tag = zlib.crc32(generator.encode())
    return tuple(
        np.random.default_rng(np.random.SeedSequence([seed, tag, zlib.crc32(n.encode())]))
        for n in names
    )


# --------------------------------------------------------------------------- optics


def psf_sigma_um(wavelength_um: float, na: float, *, confocal: bool) -> float:
    """Standard deviation (µm) of the Gaussian that best fits the in-focus PSF.

    Paraxial least-squares fits of Zhang et al. (2007): ``0.21 lambda / NA``
    for a widefield microscope (the Airy disc) and, for a confocal microscope
    with a small pinhole and ``lambda_ex ~ lambda_em``, that value divided by
    ``sqrt(2)``.
    """
    sigma = 0.21 * wavelength_um / na
    return sigma / math.sqrt(2.0) if confocal else sigma


# Extra-blur bins (px) used for defocused objects: a defocused object is rendered
# into the layer whose sigma is nearest to its own (about +-25 % in sigma).
_DEFOCUS_BINS = np.array([0.0, 0.8, 1.4, 2.3, 3.6, 5.6, 8.5])


def defocus_bin(sigma_extra_px) -> np.ndarray | int:
    """Index of the defocus layer (0 = no extra blur) for extra blur sigma(s) in px."""
    s = np.asarray(sigma_extra_px, dtype=np.float64)
    k = np.argmin(np.abs(_DEFOCUS_BINS[:, None] - s.reshape(1, -1)), axis=0)
    return int(k[0]) if s.ndim == 0 else k


def bin_sigma(k: int) -> float:
    """The extra blur sigma (px) of defocus layer ``k``."""
    return float(_DEFOCUS_BINS[k])


def _fft_shape(h: int, w: int, reach: float) -> tuple[int, int]:
    pad = int(math.ceil(reach))
    return sp_fft.next_fast_len(h + pad, real=True), sp_fft.next_fast_len(w + pad, real=True)


def through_optics(layers, psf_sigma_px, illum: np.ndarray) -> np.ndarray:
    """Image of emission layers through a Gaussian PSF, in one pass in Fourier space.

    Parameters
    ----------
    layers : iterable of (float, (C, Y, X) ndarray)
        ``(extra_sigma_px, emission)`` pairs: each layer is blurred by a Gaussian
        of variance ``extra_sigma^2 + psf_sigma_c^2`` (defocus composes with the
        PSF), after multiplication by the excitation field ``illum``.
    psf_sigma_px : sequence of float
        In-focus PSF sigma of each channel.
    illum : (Y, X) ndarray
        Relative excitation intensity.

    Returns
    -------
    (C, Y, X) ndarray of float64
        ``sum_k PSF_c * D_k * (illum E_k)``. Arrays are zero-padded by three
        sigmas before the FFT, so nothing wraps around the border; light from
        outside the field is absent, as the scene ends there.
    """
    layers = list(layers)
    n_c = len(psf_sigma_px)
    h, w = illum.shape
    reach = 3.0 * math.sqrt(max(s for s, _ in layers) ** 2 + max(psf_sigma_px) ** 2) + 2
    fshape = _fft_shape(h, w, reach)
    f2 = _minus_2pi2_f2(fshape)
    psf = [np.exp(f2 * s**2) for s in psf_sigma_px]
    illum32 = illum.astype(np.float32)
    acc = np.zeros((n_c,) + f2.shape, dtype=np.complex64)
    for extra, layer in layers:
        spec = sp_fft.rfft2(layer.astype(np.float32) * illum32, s=fshape, axes=(1, 2), workers=1)
        defocus = np.exp(f2 * extra**2) if extra > 0 else 1.0
        for c in range(n_c):
            acc[c] += spec[c] * (psf[c] * defocus)
    return sp_fft.irfft2(acc, s=fshape, axes=(1, 2), workers=1)[:, :h, :w].astype(np.float64)


def _minus_2pi2_f2(fshape) -> np.ndarray:
    fy = np.fft.fftfreq(fshape[0]).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(fshape[1]).astype(np.float32)[None, :]
    return np.float32(-2.0 * np.pi**2) * (fy * fy + fx * fx)


def log_filter(images, sigmas, weights) -> np.ndarray:
    """``sum_i weights_i * laplacian(G_sigma_i * images_i)`` via one inverse FFT (px^-2)."""
    h, w = images[0].shape
    fshape = _fft_shape(h, w, 3.0 * max(sigmas) + 2)
    f2 = _minus_2pi2_f2(fshape)  # -2 pi^2 |f|^2
    acc = np.zeros(f2.shape, dtype=np.complex64)
    for im, s, wt in zip(images, sigmas, weights, strict=True):
        spec = sp_fft.rfft2(im.astype(np.float32), s=fshape, workers=1)
        acc += spec * (np.float32(2.0 * wt) * f2 * np.exp(f2 * s * s))
    return sp_fft.irfft2(acc, s=fshape, workers=1)[:h, :w].astype(np.float64)


# --------------------------------------------------------------------------- fields


def smooth_field(
    rng: np.random.Generator, shape, *, scale_px: float, n_waves: int = 8
) -> np.ndarray:
    """Zero-mean, unit-variance smooth random field (float64, shape ``shape``).

    A random-phase sum of ``n_waves`` plane waves whose wave vectors are drawn
    from a Gaussian of standard deviation ``1 / scale_px`` (rad/px), so the
    correlation length is about ``scale_px``. Evaluated as outer products of
    1-D vectors: ``O(n_waves * Y * X)`` and resolution independent.
    """
    h, w = shape
    y = np.arange(h, dtype=np.float64)
    x = np.arange(w, dtype=np.float64)
    k = rng.normal(0.0, 1.0 / scale_px, size=(n_waves, 2))
    phase = rng.uniform(0.0, 2 * np.pi, size=n_waves)
    field = np.zeros((h, w))
    for (ky, kx), ph in zip(k, phase, strict=True):
        ay, ax = ky * y, kx * x + ph
        # cos(ay + ax) = cos(ay) cos(ax) - sin(ay) sin(ax)
        field += np.outer(np.cos(ay), np.cos(ax))
        field -= np.outer(np.sin(ay), np.sin(ax))
    return field * math.sqrt(2.0 / n_waves)


def fine_texture(rng: np.random.Generator, shape, *, scale_px: float) -> np.ndarray:
    """Zero-mean, unit-variance texture: white noise low-passed by a Gaussian of ``scale_px``."""
    noise = rng.standard_normal(shape, dtype=np.float32)
    tex = ndi.gaussian_filter(noise, scale_px, mode="wrap", truncate=3.0).astype(np.float64)
    return tex / max(float(tex.std()), 1e-12)


def illumination(
    rng: np.random.Generator, shape, *, vignetting: float, ripple: float
) -> np.ndarray:
    """Relative excitation/illumination field, 1 at its brightest point.

    ``(1 - vignetting * d^2) * (1 + ripple * f)`` where ``d`` is the distance to
    a random optical centre in units of the half-diagonal and ``f`` a smooth
    unit-variance field with a correlation length of a third of the image.
    """
    h, w = shape
    cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
    half_diag2 = (h * h + w * w) / 4.0
    d2 = ((np.arange(h)[:, None] - cy) ** 2 + (np.arange(w)[None, :] - cx) ** 2) / half_diag2
    illum = 1.0 - vignetting * np.minimum(d2, 2.0)
    if ripple > 0:
        illum = illum * (
            1.0 + ripple * np.tanh(smooth_field(rng, shape, scale_px=max(h, w) / 3.0, n_waves=6))
        )
    return illum / illum.max()


# --------------------------------------------------------------------------- placement


def place_discs(
    rng: np.random.Generator,
    radii: np.ndarray,
    shape,
    *,
    gap: float,
    overlap: float = 0.0,
    margin: float = 0.0,
    accept=None,
    cluster_centres: np.ndarray | None = None,
    cluster_spread: float = 0.0,
    tries: int = 40,
) -> tuple[np.ndarray, np.ndarray]:
    """Random sequential placement of discs (largest first) with a spacing rule.

    Two discs ``i, j`` may sit at centre distance ``d`` only if
    ``d >= (1 - overlap) * (r_i + r_j) + gap``: ``gap > 0`` keeps them apart,
    ``gap = overlap = 0`` lets them touch, ``overlap > 0`` lets them overlap.
    Candidates come from around random ``cluster_centres`` (Gaussian,
    ``cluster_spread`` px) when given, else uniformly; ``accept(y, x)`` can veto
    a candidate (e.g. outside a cell). A disc that finds no place in ``tries``
    candidates is dropped.

    Returns
    -------
    centres : (K, 2) ndarray
        ``(y, x)`` of the discs that were placed.
    index : (K,) ndarray of int
        Their indices into ``radii``.
    """
    h, w = shape
    radii = np.asarray(radii, dtype=np.float64)
    if len(radii) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    order = np.argsort(-radii, kind="stable")
    # Uniform grid of buckets: any disc that can conflict with a candidate lies in
    # the 3 x 3 buckets around it, so each test costs O(tries), not O(placed).
    cell = max(2.0 * float(radii.max()) * (1.0 - min(overlap, 0.0)) + max(gap, 0.0), 1.0)
    gy, gx = int(h // cell) + 3, int(w // cell) + 3
    depth = 8
    grid = np.full((gy, gx, depth), -1, dtype=np.int64)
    fill = np.zeros((gy, gx), dtype=np.int64)
    cy = np.empty(len(radii) + 1)
    cx = np.empty(len(radii) + 1)
    rr = np.empty(len(radii) + 1)
    cy[-1] = cx[-1] = np.inf  # sentinel for empty bucket slots (index -1)
    rr[-1] = 0.0
    nb = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)])
    placed = []
    n = 0
    for i in order:
        r = radii[i]
        lo = min(float(margin), (min(h, w) - 1) / 2.0)
        if cluster_centres is not None and len(cluster_centres):
            which = rng.integers(len(cluster_centres), size=tries)
            cand = cluster_centres[which] + rng.normal(0.0, cluster_spread, size=(tries, 2))
        else:
            cand = np.column_stack([rng.uniform(lo, h - lo, tries), rng.uniform(lo, w - lo, tries)])
        ok = (
            (cand[:, 0] >= lo)
            & (cand[:, 0] <= h - 1 - lo)
            & (cand[:, 1] >= lo)
            & (cand[:, 1] <= w - 1 - lo)
        )
        by = np.clip((cand[:, 0] // cell).astype(np.int64) + 1, 1, gy - 2)
        bx = np.clip((cand[:, 1] // cell).astype(np.int64) + 1, 1, gx - 2)
        if n:
            near = grid[by[:, None] + nb[None, :, 0], bx[:, None] + nb[None, :, 1]].reshape(
                tries, -1
            )
            d = np.hypot(cand[:, 0, None] - cy[near], cand[:, 1, None] - cx[near])
            ok &= np.all(d >= (1.0 - overlap) * (r + rr[near]) + gap, axis=1)
        for k in np.flatnonzero(ok):
            if accept is None or accept(cand[k, 0], cand[k, 1]):
                cy[n], cx[n], rr[n] = cand[k, 0], cand[k, 1], r
                b = (by[k], bx[k])
                if fill[b] == grid.shape[2]:
                    grid = np.concatenate(
                        [grid, np.full((gy, gx, depth), -1, dtype=np.int64)], axis=2
                    )
                grid[b + (fill[b],)] = n
                fill[b] += 1
                placed.append(i)
                n += 1
                break
    idx = np.array(placed, dtype=np.int64)
    return np.column_stack([cy[:n], cx[:n]]), idx


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Star:
    """A star-convex object: ``r(phi) = radius * ellipse(phi) * (1 + sum a_k cos(k phi + p_k))``.

    ``aspect`` (>= 1) stretches the circle into an ellipse of equal area with its
    long axis at ``angle``; ``harmonics`` is a tuple of ``(k, a_k, p_k)``.
    """

    cy: float
    cx: float
    radius: float
    aspect: float = 1.0
    angle: float = 0.0
    harmonics: tuple = ()

    @property
    def reach(self) -> float:
        """An upper bound of ``r(phi)``."""
        return (
            self.radius * math.sqrt(self.aspect) * (1.0 + sum(abs(a) for _, a, _ in self.harmonics))
        )


def window(cy: float, cx: float, reach: float, shape):
    """Slices of the image around ``(cy, cx)`` and the offsets of their pixel centres.

    Returns ``None`` when the window misses the image.
    """
    h, w = shape
    y0, y1 = max(int(math.floor(cy - reach)), 0), min(int(math.ceil(cy + reach)) + 1, h)
    x0, x1 = max(int(math.floor(cx - reach)), 0), min(int(math.ceil(cx + reach)) + 1, w)
    if y0 >= y1 or x0 >= x1:
        return None
    dy = (np.arange(y0, y1, dtype=np.float64) - cy)[:, None]
    dx = (np.arange(x0, x1, dtype=np.float64) - cx)[None, :]
    return (slice(y0, y1), slice(x0, x1)), dy, dx


def star_radius(obj: Star, z):
    """``r(phi)`` in px, for unit complex numbers ``z = exp(i phi)`` (array or scalar).

    ``phi`` is measured from the +x axis towards +y. Powers of ``z`` replace
    the trigonometric functions (cheaper on large windows).
    """
    r = obj.radius
    if obj.aspect != 1.0:
        a = obj.radius * math.sqrt(obj.aspect)
        b = obj.radius / math.sqrt(obj.aspect)
        t = z * complex(math.cos(obj.angle), -math.sin(obj.angle))
        r = a * b / np.sqrt((b * t.real) ** 2 + (a * t.imag) ** 2)
    if obj.harmonics:
        mod = 1.0
        for k, amp, ph in obj.harmonics:
            mod = mod + amp * harmonic(z, k, ph)
        r = r * mod
    return r


def harmonic(z, k: int, phase: float):
    """``cos(k phi + phase)`` for ``z = exp(i phi)``."""
    zk = z
    for _ in range(int(k) - 1):
        zk = zk * z
    return (zk * complex(math.cos(phase), math.sin(phase))).real


def star_distance(obj: Star, dy: np.ndarray, dx: np.ndarray):
    """Signed radial distance ``rho - r(phi)`` (px), ``z = exp(i phi)`` and ``r(phi)``."""
    rho = np.hypot(dy, dx)
    z = (dx + 1j * dy) / np.maximum(rho, 1e-12)
    z = np.where(rho > 0, z, 1.0 + 0.0j)
    r = star_radius(obj, z)
    return rho - r, z, r


def coverage(s: np.ndarray) -> np.ndarray:
    """Anti-aliased area coverage of a pixel from the signed distance of its centre."""
    return np.clip(0.5 - s, 0.0, 1.0)


def splat_discs(
    shape,
    cy: np.ndarray,
    cx: np.ndarray,
    radii: np.ndarray,
):
    """Vectorised rendering of many small discs.

    Returns ``(flat_index, cov, inside, which)``: for every pixel near every
    disc, its flat image index, its anti-aliased coverage, whether its centre is
    inside the disc (``s <= 0``, the label) and the disc it belongs to. Pixels
    outside the image are dropped. Use :func:`numpy.bincount` on ``flat_index``
    to accumulate emission.
    """
    h, w = shape
    if len(cy) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, np.empty(0), np.empty(0, dtype=bool), e
    half = int(math.ceil(float(np.max(radii)) + 1.0))
    off = np.arange(-half, half + 1)
    iy = np.floor(cy + 0.5).astype(np.int64)[:, None, None] + off[None, :, None]
    ix = np.floor(cx + 0.5).astype(np.int64)[:, None, None] + off[None, None, :]
    s = np.hypot(iy - cy[:, None, None], ix - cx[:, None, None]) - radii[:, None, None]
    cov = coverage(s)
    iy, ix = np.broadcast_arrays(iy, ix)
    which = np.broadcast_to(np.arange(len(cy))[:, None, None], s.shape)
    keep = (cov > 0) & (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    # a disc smaller than a pixel still owns the pixel under its centre
    centre = (iy == np.floor(cy + 0.5).astype(np.int64)[:, None, None]) & (
        ix == np.floor(cx + 0.5).astype(np.int64)[:, None, None]
    )
    inside = (s <= 0) | centre
    return (iy * w + ix)[keep], cov[keep], inside[keep], which[keep]


def paint_in_order(
    shape, flat_index: np.ndarray, which: np.ndarray, priority: np.ndarray
) -> np.ndarray:
    """Paint object ids by priority: each pixel gets the object of highest ``priority``.

    ``priority`` is indexed by object; returns the 0-based object index per
    pixel as an int64 image, -1 where no object lies.
    """
    h, w = shape
    best = np.full(h * w, -1, dtype=np.int64)
    if len(flat_index) == 0:
        return best.reshape(h, w)
    rank = np.empty(len(priority), dtype=np.int64)
    rank[np.argsort(priority, kind="stable")] = np.arange(len(priority))
    np.maximum.at(best, flat_index, rank[which])
    inv = np.argsort(priority, kind="stable")
    out = np.where(best >= 0, inv[np.maximum(best, 0)], -1)
    return out.reshape(h, w)


def relabel(index_image: np.ndarray, classes_of: np.ndarray, *, min_pixels: int = 1):
    """Turn a 0-based object-index image (-1 = background) into consecutive labels.

    Objects with fewer than ``min_pixels`` visible pixels are dropped (set to
    background). Labels are numbered in the order of their object index.

    Returns
    -------
    labels : (Y, X) ndarray of int32
    classes : dict of int to int
        Class of each label.
    label_of : (N,) ndarray of int
        Label of each object, 0 if it has none.
    """
    n = len(classes_of)
    counts = np.bincount(index_image[index_image >= 0].ravel(), minlength=n)
    keep = counts >= max(min_pixels, 1)
    label_of = np.zeros(n, dtype=np.int64)
    label_of[keep] = np.arange(1, int(keep.sum()) + 1)
    lut = np.concatenate([[0], label_of]).astype(np.int32)
    labels = lut[index_image + 1]
    classes = {int(label_of[i]): int(classes_of[i]) for i in np.flatnonzero(keep)}
    return labels, classes, label_of


# --------------------------------------------------------------------------- camera


@dataclass(frozen=True)
class Camera:
    """A digital camera: Poisson shot noise, Gaussian read noise, offset, ADC.

    Parameters
    ----------
    photons : float
        Expected photo-electrons per pixel for one emission unit in focus
        (absorbs exposure time, quantum efficiency, collection efficiency).
    adu_per_e : float
        Conversion gain (ADU per electron).
    offset_adu : float
        Black level added before digitisation.
    read_noise_e : float
        RMS read noise in electrons.
    bits : int
        ADC depth; values are clipped to ``[0, 2**bits - 1]`` (saturation) and
        the image is returned divided by ``2**bits - 1``.
    """

    photons: float
    adu_per_e: float
    offset_adu: float
    read_noise_e: float
    bits: int = 12

    @property
    def full_scale(self) -> float:
        return float(2**self.bits - 1)


#: Above this many expected electrons, Poisson counts are drawn by the normal
#: approximation ``round(lam + sqrt(lam) N(0, 1))`` (skewness ``lam^-1/2 < 0.1``).
_POISSON_EXACT_BELOW = 100.0


def expose(emission: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Record an emission map: ``round(g * Poisson(photons * E) + N(0, g * sigma_r) + offset)``.

    The result is clipped to the ADC range and divided by its full scale, so
    it is camera-like (offset > 0, saturation at 1) and comparable across
    images, never min/max normalised. Returns float32.
    """
    lam = np.clip(emission, 0.0, None) * camera.photons
    big = lam > _POISSON_EXACT_BELOW
    if big.any():
        electrons = np.empty(lam.shape)
        electrons[~big] = rng.poisson(lam[~big])
        lb = lam[big]
        electrons[big] = np.rint(lb + np.sqrt(lb) * rng.standard_normal(lb.shape))
    else:
        electrons = rng.poisson(lam).astype(np.float64)
    adu = electrons * camera.adu_per_e + camera.offset_adu
    adu += rng.standard_normal(adu.shape) * (camera.read_noise_e * camera.adu_per_e)
    np.rint(adu, out=adu)
    np.clip(adu, 0.0, camera.full_scale, out=adu)
    return np.ascontiguousarray(adu / camera.full_scale, dtype=np.float32)


def table(**columns) -> dict[str, list]:
    """Per-object metadata as a column table of plain Python lists (floats to 3 decimals)."""
    out = {}
    for key, col in columns.items():
        a = np.asarray(col)
        if a.dtype.kind == "f":
            a = np.round(a, 3)
        out[key] = a.tolist()
    return out


def to_builtin(x):
    """Round floats for metadata (keeps ``meta`` small, JSON-friendly and stable)."""
    if isinstance(x, (float, np.floating)):
        return round(float(x), 4)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, dict):
        return {k: to_builtin(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_builtin(v) for v in x]
    return x
