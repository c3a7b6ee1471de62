"""Rosella-like two-colour pH reporter: semantic phagophore / autolysosome maps."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np

from bench.data.sample import Sample

from . import _common as C
from ._version import GENERATOR_VERSION

__all__ = ["make_rosella", "ROSELLA_CHANNELS", "ROSELLA_SEMANTIC_NAMES"]

ROSELLA_CHANNELS = ("gfp", "rfp")
ROSELLA_SEMANTIC_NAMES = ("background", "phagophore", "autolysosome")

BACKGROUND, PHAGOPHORE, AUTOLYSOSOME = 0, 1, 2


@dataclass(frozen=True)
class _RosellaParams:
    density: tuple[float, float]  # cells per 256 x 256 px, uniform range
    clustered: bool  # cells in colonies (Gaussian, 60 px spread) rather than uniform
    gap: float
    aspect_max: float
    wobble: float
    expression_cv: float
    nonexpressing: float  # fraction of cells without reporter
    fragments: float  # mean extra small acidic compartments per activated cell
    out_of_focus: float  # fraction of puncta / small compartments off the focal plane
    psf_scale: float
    background: float
    background_cv: float
    vignetting: float
    ripple: float
    camera: C.Camera


_PARAMS = MappingProxyType(
    {
        "easy": _RosellaParams(
            density=(6, 8),
            clustered=False,
            gap=6.0,
            aspect_max=1.1,
            wobble=0.0,
            expression_cv=0.1,
            nonexpressing=0.0,
            fragments=0.0,
            out_of_focus=0.0,
            psf_scale=0.6,
            background=0.02,
            background_cv=0.0,
            vignetting=0.0,
            ripple=0.0,
            camera=C.Camera(photons=1500.0, adu_per_e=0.5, offset_adu=100.0, read_noise_e=1.0),
        ),
        "realistic": _RosellaParams(
            density=(14, 20),
            clustered=True,
            gap=0.0,
            aspect_max=1.3,
            wobble=0.04,
            expression_cv=0.4,
            nonexpressing=0.06,
            fragments=1.2,
            out_of_focus=0.25,
            psf_scale=1.0,
            background=0.03,
            background_cv=0.5,
            vignetting=0.3,
            ripple=0.1,
            camera=C.Camera(photons=40.0, adu_per_e=15.0, offset_adu=100.0, read_noise_e=3.0),
        ),
    }
)

_PIXEL_UM = 0.1
_NA = 1.4
_WAVELENGTH_UM = (0.51, 0.583)  # pHluorin-type GFP, DsRed.T3 emission
_CELL_R_PX = (18.0, 30.0)
_RFP_RATIO = 0.6  # DsRed / GFP signal of the same amount of Rosella
_VACUOLE_R = (0.3, 0.55)  # fraction of the cell radius
_VACUOLE_P = 0.9
_ACTIVATED = (0.4, 0.7)  # fraction of cells delivering Rosella to the vacuole
_VACUOLE_RFP = (1.5, 3.0)  # Rosella accumulated in a loaded vacuole, relative to the cytosol
_GFP_QUENCHED = 0.05  # residual GFP fluorescence at vacuolar pH
_PUNCTA = (1.0, 3.0)  # mean puncta per cell (basal, activated) of radius 24 px
_PUNCTA_R_PX = (1.5, 3.5)
_PUNCTA_A = (1.5, 3.0)  # concentrated reporter, relative to the cytosol
_FRAGMENT_R_PX = (3.0, 6.0)
_Z_R_UM = 0.4
_FOCUS_UM = 0.35


def make_rosella(
    seed: int,
    *,
    difficulty: str = "realistic",
    shape: tuple[int, int] = (256, 256),
) -> Sample:
    """A Rosella-like confocal image of yeast cells, with an exact semantic map.

    Rosella fuses a pH-stable red protein (DsRed) to a pH-sensitive GFP.
    Cytosolic Rosella is red and green; once delivered to the acidic vacuole
    (the yeast lysosome) by autophagy, its GFP is quenched and only red
    remains. Pixels are classed ``background`` (outside cells and cytosol,
    including vacuoles that received no reporter), ``phagophore``
    (phagophores / autophagosomes: puncta of concentrated reporter, GFP+RFP)
    and ``autolysosome`` (acidic compartments holding reporter: RFP only).

    Parameters
    ----------
    seed : int
        Non-negative seed; it fully determines the image and its map.
    difficulty : {"realistic", "easy"}, optional
        ``"easy"``: 6-8 separated cells per 256 x 256 px, homogeneous
        expression, everything in focus, flat illumination, 0.6x the
        diffraction blur, about 1,500 photons per unit emission.
        ``"realistic"``: 14-20 touching cells, heterogeneous expression (some
        cells without reporter), extra small acidic compartments,
        out-of-focus puncta, vignetting, uneven background, about 40 photons
        per unit emission.
    shape : (int, int), optional
        ``(Y, X)`` in pixels, each at least 32. Cell numbers scale with area.

    Returns
    -------
    Sample
        ``image``: ``(Y, X, 2)`` float32, channels ``("gfp", "rfp")``, in units
        of the camera's full scale (12-bit ADC: ``ADU / 4095``); ``semantic``:
        ``(Y, X)`` int32 with 0 background/cytosol, 1 phagophore, 2
        autolysosome; ``labels`` and ``classes``: ``None``; ``meta``:
        ``source``, ``seed``, ``difficulty``, ``pixel_size_um`` (0.1),
        ``cells`` and ``compartments`` (column tables: class, centre, radius,
        depth, focus, whether labelled).

    Raises
    ------
    ValueError
        If ``difficulty`` or ``shape`` is invalid, or ``seed`` is negative.
    TypeError
        If ``seed`` is not an integer.

    Notes
    -----
    Cells are equal-area ellipses of radius 18-30 px (1.8-3 µm at 0.1 µm/px;
    aspect up to 1.3, boundary harmonics up to 4 %), placed randomly and
    touching in 1.5-3 colonies per 256 x 256 px (Gaussian, 60 px spread;
    realistic) or uniformly, 6 px apart (easy). A confocal section through a
    cell shows its cytosol as a flat disc of emission ``e`` in GFP and
    ``0.6 e`` in RFP, with ``e`` log-normal (sigma 0.4, realistic; 6 % of
    cells express nothing). 90 % of cells show a vacuole (a disc of 30-55 % of
    the cell radius) from which cytosolic Rosella is excluded. In a fraction
    (40-70 %) of cells, autophagy has delivered Rosella into it: it holds
    1.5-3 times the cytosolic concentration (the reporter accumulates
    there), so RFP ``0.6 (1.5-3) e``, with its GFP quenched to 5 %, and its
    pixels are ``autolysosome``; an empty vacuole is a
    dark hole of class ``background``. These activated cells also hold on
    average 1.2 (realistic) smaller acidic compartments (radius 3-6 px,
    ``autolysosome``, displacing the cytosol). Phagophores/autophagosomes
    are discs of radius 1.5-3.5 px in the cytosol (on average 1 per basal and
    3 per activated cell of radius 24 px) with ``(1.5-3) e`` of extra GFP and
    0.6 times that of RFP.
    25 % of puncta and small compartments (realistic) lie 0.45-1.0 µm off
    the focal plane: dimmed by ``1 / (1 + (dz / 0.4 µm)^2)``, blurred by
    ``sigma_0 |dz| / 0.4 µm`` and **not labelled** (their pixels stay
    ``background``); in-focus ones have ``|dz| <= 0.35 µm``. Later objects win
    where objects overlap (vacuole, then compartments, then puncta).

    Image formation, per channel (as in :func:`make_lyso`)::

        mu_c(x)  = photons * [sum_k PSF_c * D_k * (I E_c,k)(x) + B(x) I(x)]
        image_c  = clip(round(g Poisson(mu_c) + N(0, (g sigma_r)^2) + offset), 0, 4095) / 4095

    ``PSF_c`` is a Gaussian of sigma ``0.21 lambda / (sqrt(2) NA)`` (confocal;
    NA 1.4, lambda 0.51 / 0.583 µm: 0.54 / 0.62 px, x0.6 when easy), ``I``
    the excitation field (vignetting 0.3, 10 % ripple), ``B`` a smooth
    background (0.03, +-50 %). Camera (realistic / easy): 40 / 1,500 photons
    per unit emission, gain 15 / 0.5 ADU per electron, read noise 3 / 1
    electrons, offset 100 ADU.

    Counts above 100 expected electrons are drawn from the normal
    approximation of the Poisson law. Random streams are derived from
    ``(seed, "rosella", stream)``: the same arguments give bit-identical
    output (with the same numpy and scipy on the same platform).

    References
    ----------
    .. [1] Rosado CJ, Mijaljica D, Hatzinisiriou I, Prescott M, Devenish RJ.
       Rosella: a fluorescent pH-biosensor for reporting vacuolar turnover of
       cytosol and organelles in yeast. Autophagy 4(2):205-213, 2008.
    .. [2] Zhang B, Zerubia J, Olivo-Marin J-C. Gaussian approximations of
       fluorescence microscope point-spread function models. Appl Opt
       46(10):1819-1829, 2007. :doi:`10.1364/AO.46.001819`

    Examples
    --------
    >>> s = make_rosella(0, difficulty="easy", shape=(96, 96))
    >>> s.channels, s.image.shape, s.labels is None
    (('gfp', 'rfp'), (96, 96, 2), True)
    >>> s.semantic.dtype, int(s.semantic.max()) <= 2
    (dtype('int32'), True)
    """
    seed = C.check_seed(seed)
    difficulty = C.check_difficulty(difficulty)
    shape = C.check_shape(shape, minimum=32)
    p = _PARAMS[difficulty]
    h, w = shape
    area = h * w / 65536.0
    g_rng, i_rng, b_rng, n_rng = C.streams(
        seed, "rosella", "geometry", "intensity", "background", "noise"
    )

    # ---- cells
    n = max(1, int(round(g_rng.uniform(*p.density) * area)))
    radii = g_rng.uniform(*_CELL_R_PX, n)
    clusters = None
    if p.clustered:
        k = max(1, int(round(g_rng.uniform(1.5, 3.0) * area)))
        clusters = np.column_stack([g_rng.uniform(0, h - 1, k), g_rng.uniform(0, w - 1, k)])
    centres, idx = C.place_discs(
        g_rng,
        radii,
        shape,
        gap=p.gap,
        margin=_CELL_R_PX[1] + 2 if p.gap > 0 else 0.0,
        cluster_centres=clusters,
        cluster_spread=60.0,
        tries=60,
    )
    radii = radii[idx]
    m = len(radii)
    aspect = 1.0 + g_rng.uniform(0.0, p.aspect_max - 1.0, m)
    angle = g_rng.uniform(0, np.pi, m)
    wob = g_rng.uniform(0.0, p.wobble, (m, 2))
    wob_p = g_rng.uniform(0, 2 * np.pi, (m, 2))
    stars = [
        C.Star(
            centres[i, 0],
            centres[i, 1],
            radii[i],
            aspect[i],
            angle[i],
            tuple((k + 2, wob[i, k], wob_p[i, k]) for k in range(2)) if p.wobble > 0 else (),
        )
        for i in range(m)
    ]
    expr = np.exp(i_rng.normal(0.0, p.expression_cv, m))
    expr[g_rng.random(m) < p.nonexpressing] = 0.0
    activated = g_rng.random(m) < g_rng.uniform(*_ACTIVATED)
    has_vac = g_rng.random(m) < _VACUOLE_P
    vac_frac = g_rng.uniform(*_VACUOLE_R, m)
    vac_t = g_rng.uniform(-np.pi, np.pi, m)
    vac_off = g_rng.uniform(0.0, 1.0, m)
    vac_rfp = g_rng.uniform(*_VACUOLE_RFP, m)

    # ---- compartments: vacuoles, small acidic compartments, puncta
    # columns: cell, class, y, x, radius, dz, amplitude; vacuoles first
    rows: list[tuple] = []
    vac_row: dict[int, int] = {}  # cell -> its vacuole's row
    for i in range(m):
        rmin = float(np.min(C.star_radius(stars[i], np.exp(1j * np.linspace(-np.pi, np.pi, 32)))))
        vac_r = vac_frac[i] * rmin
        vy = vx = None
        if has_vac[i]:
            off = vac_off[i] * max(rmin - vac_r - 3.0, 0.0) * 0.6
            vy = centres[i, 0] + off * math.sin(vac_t[i])
            vx = centres[i, 1] + off * math.cos(vac_t[i])
            vac_row[i] = len(rows)
            rows.append(
                (i, AUTOLYSOSOME if activated[i] else BACKGROUND, vy, vx, vac_r, 0.0, vac_rfp[i])
            )
        lam_p = _PUNCTA[int(activated[i])] * (radii[i] / 24.0) ** 2
        n_frag = g_rng.poisson(p.fragments * (radii[i] / 24.0) ** 2) if activated[i] else 0
        kinds = [AUTOLYSOSOME] * n_frag + [PHAGOPHORE] * g_rng.poisson(lam_p)
        for kind in kinds:
            lo, hi = _FRAGMENT_R_PX if kind == AUTOLYSOSOME else _PUNCTA_R_PX
            r = g_rng.uniform(lo, hi)
            for _ in range(20):  # a place in the cytosol, off the vacuole
                t = g_rng.uniform(-np.pi, np.pi)
                z = complex(math.cos(t), math.sin(t))
                rho = math.sqrt(g_rng.random()) * max(
                    float(C.star_radius(stars[i], z)) - r - 1.5, 0.0
                )
                y, x = centres[i, 0] + rho * z.imag, centres[i, 1] + rho * z.real
                if vy is None or math.hypot(y - vy, x - vx) >= vac_r + r + 1.0:
                    break
            else:
                continue
            far = g_rng.random() < p.out_of_focus
            dz = (
                g_rng.uniform(0.45, 1.0) * g_rng.choice([-1.0, 1.0])
                if far
                else (g_rng.normal(0.0, 0.1) if p.out_of_focus > 0 else 0.0)
            )
            amp = g_rng.uniform(*_PUNCTA_A) if kind == PHAGOPHORE else g_rng.uniform(*_VACUOLE_RFP)
            rows.append((i, kind, y, x, r, dz, amp))
    cell_of = np.array([r[0] for r in rows], dtype=np.int64)
    kind = np.array([r[1] for r in rows], dtype=np.int64)
    oy, ox, orad, odz, oamp = (
        np.array([r[j] for r in rows], dtype=np.float64) for j in range(2, 7)
    )
    in_focus = np.abs(odz) <= _FOCUS_UM
    is_vacuole = np.zeros(len(rows), dtype=bool)
    is_vacuole[list(vac_row.values())] = True

    sigma0 = [
        C.psf_sigma_um(wl, _NA, confocal=True) / _PIXEL_UM * p.psf_scale for wl in _WAVELENGTH_UM
    ]
    dim = 1.0 / (1.0 + (odz / _Z_R_UM) ** 2)
    bins = C.defocus_bin(sigma0[0] * np.abs(odz) / _Z_R_UM) if len(rows) else np.zeros(0, int)

    layers: dict[int, np.ndarray] = {}

    def layer(k):
        return layers.setdefault(int(k), np.zeros((2,) + shape, dtype=np.float64))

    # ---- cytosol: cells minus their vacuoles
    base = layer(0)
    cell_mask = np.zeros(shape, dtype=bool)
    for i in range(m):
        obj = stars[i]
        win = C.window(obj.cy, obj.cx, obj.reach + 1.0, shape)
        if win is None:
            continue
        sl, dy, dx = win
        s, _, _ = C.star_distance(obj, dy, dx)
        cyto = C.coverage(s)
        j = vac_row.get(i)
        if j is not None:
            vcov = C.coverage(
                np.hypot(dy + (centres[i, 0] - oy[j]), dx + (centres[i, 1] - ox[j])) - orad[j]
            )
            cyto = cyto * (1.0 - vcov)
        base[0][sl] += expr[i] * cyto
        base[1][sl] += (_RFP_RATIO * expr[i]) * cyto
        cell_mask[sl] |= s <= 0

    # ---- compartments (vectorised)
    semantic = np.zeros(shape, dtype=np.int32)
    if len(rows):
        # small acidic compartments also displace the cytosol around them
        fragment = (kind == AUTOLYSOSOME) & ~is_vacuole
        gfp = (
            (np.where(kind == PHAGOPHORE, oamp, _GFP_QUENCHED * oamp) - fragment)
            * expr[cell_of]
            * dim
        )
        rfp = _RFP_RATIO * (oamp - fragment) * expr[cell_of] * dim
        loaded = kind != BACKGROUND  # empty vacuoles emit nothing
        flat, cov, inside, which = C.splat_discs(shape, oy, ox, orad)
        pix_bin = bins[which]
        for k in np.unique(bins):
            sel = (pix_bin == k) & loaded[which]
            f, cv, wh = flat[sel], cov[sel], which[sel]
            lay = layer(k)
            lay[0] += np.bincount(f, weights=cv * gfp[wh], minlength=h * w).reshape(shape)
            lay[1] += np.bincount(f, weights=cv * rfp[wh], minlength=h * w).reshape(shape)
        # labelled: in-focus compartments of expressing cells; later rows win
        lab = inside & (in_focus & (expr[cell_of] > 0))[which]
        order = C.paint_in_order(shape, flat[lab], which[lab], np.arange(len(rows), dtype=float))
        semantic = np.where(order >= 0, kind[np.maximum(order, 0)], 0).astype(np.int32)

    illum = C.illumination(b_rng, shape, vignetting=p.vignetting, ripple=p.ripple)
    optical = C.through_optics(((C.bin_sigma(k), v) for k, v in layers.items()), sigma0, illum)
    back = p.background * illum
    if p.background_cv > 0:
        back = back * (
            1.0 + p.background_cv * np.tanh(C.smooth_field(b_rng, shape, scale_px=80.0, n_waves=6))
        )
    image = C.expose(np.moveaxis(optical + back, 0, -1), p.camera, n_rng)

    meta = {
        "source": f"synthetic:make_rosella v{GENERATOR_VERSION}",
        "seed": seed,
        "difficulty": difficulty,
        "pixel_size_um": _PIXEL_UM,
        "psf_sigma_px": C.to_builtin(dict(zip(ROSELLA_CHANNELS, sigma0, strict=True))),
        "camera": C.to_builtin(asdict(p.camera)),
        "labelled": "in-focus compartments (|dz| <= 0.35 um) of expressing cells",
        "cells": C.table(
            center_y=centres[:, 0],
            center_x=centres[:, 1],
            radius_px=radii,
            expression=expr,
            activated=activated,
            has_vacuole=has_vac,
        ),
        "compartments": C.table(
            cell=cell_of,
            **{"class": kind},
            center_y=oy,
            center_x=ox,
            radius_px=orad,
            dz_um=odz,
            in_focus=in_focus,
            labelled=in_focus & (expr[cell_of] > 0),
        ),
    }
    return Sample(
        name=f"rosella-{seed:05d}",
        image=image,
        channels=ROSELLA_CHANNELS,
        semantic=semantic,
        meta=meta,
    )
