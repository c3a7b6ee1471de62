"""CELLULAR-like widefield fields: S2 cells with the tandem mRFP-EGFP-Atg8a reporter."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np

from bench.data.sample import Sample

from . import _common as C
from ._version import GENERATOR_VERSION

__all__ = ["make_cells", "CELLS_CHANNELS", "CELL_CLASS_NAMES", "PUNCTA_CLASS_NAMES", "TARGETS"]

CELLS_CHANNELS = ("gfp", "rfp", "transmitted")
CELL_CLASS_NAMES = ("basal", "activated", "unknown")
PUNCTA_CLASS_NAMES = ("autophagosome", "autolysosome")
TARGETS = ("cells", "puncta")

BASAL, ACTIVATED, UNKNOWN = 0, 1, 2
YELLOW, RED = 0, 1


@dataclass(frozen=True)
class _CellsParams:
    density: tuple[float, float]  # cells per 512 x 512 px, uniform range
    aspect_max: float
    wobble: float  # max amplitude of each boundary harmonic (k = 2, 3, 4)
    gap: float  # spacing rule of the placement (see place_discs)
    overlap: float
    expression_cv: float  # sigma of the log-normal reporter expression
    defocused_unknown: float  # fraction of `unknown` cells that are out of focus
    puncta_dz_um: float  # sigma of puncta depths around the focal plane
    haze: float  # fraction of cytosol light seen as out-of-focus haze
    haze_sigma_px: float
    granularity: float  # rad of phase texture inside cells (transmitted light)
    refractile: float  # fraction of reporter-negative cells that are dying and refractile
    background: float
    background_cv: float
    vignetting: float
    ripple: float
    tl_vignetting: float
    tl_ripple: float
    fluo_camera: C.Camera
    tl_camera: C.Camera


_PARAMS = MappingProxyType(
    {
        "easy": _CellsParams(
            density=(45, 60),
            aspect_max=1.15,
            wobble=0.03,
            gap=4.0,
            overlap=0.0,
            expression_cv=0.25,
            defocused_unknown=0.0,
            puncta_dz_um=0.0,
            haze=0.1,
            haze_sigma_px=3.0,
            granularity=0.05,
            refractile=0.0,
            background=0.02,
            background_cv=0.0,
            vignetting=0.0,
            ripple=0.0,
            tl_vignetting=0.0,
            tl_ripple=0.0,
            fluo_camera=C.Camera(photons=1200.0, adu_per_e=0.5, offset_adu=100.0, read_noise_e=1.0),
            tl_camera=C.Camera(photons=8000.0, adu_per_e=0.2, offset_adu=100.0, read_noise_e=1.0),
        ),
        "realistic": _CellsParams(
            density=(120, 220),
            aspect_max=1.4,
            wobble=0.07,
            gap=0.0,
            overlap=0.25,
            expression_cv=0.8,
            defocused_unknown=0.35,
            puncta_dz_um=1.0,
            haze=0.55,
            haze_sigma_px=8.0,
            granularity=0.15,
            refractile=0.06,
            background=0.04,
            background_cv=0.4,
            vignetting=0.25,
            ripple=0.08,
            tl_vignetting=0.08,
            tl_ripple=0.06,
            fluo_camera=C.Camera(photons=150.0, adu_per_e=2.0, offset_adu=100.0, read_noise_e=1.6),
            tl_camera=C.Camera(photons=2500.0, adu_per_e=0.6, offset_adu=100.0, read_noise_e=1.6),
        ),
    }
)

_PIXEL_UM = 0.65
_NA = 0.75
_WAVELENGTH_UM = (0.51, 0.61)  # EGFP, mRFP emission
_CLASS_P = (0.32, 0.23, 0.45)  # basal, activated, unknown (CELLULAR counts 4539/3191/6294)
_RADIUS_MEDIAN_PX, _RADIUS_CV, _RADIUS_PX = 15.0, 0.2, (11.0, 25.0)
_HEIGHT_UM = (6.0, 10.0)
_RFP_RATIO = 0.35  # mRFP / EGFP signal of the same amount of reporter
_NONEXPRESSING = 0.02  # residual expression of reporter-negative cells
_DEFOCUS_PX_PER_UM = 0.5 * (_NA / math.sqrt(1 - _NA**2)) / _PIXEL_UM  # geometric blur sigma
_PUNCTA_FOCUS_UM = 1.5
# mean puncta per cell of radius 15 px: (yellow, red), and their radius ranges (px)
_PUNCTA_N = {BASAL: (4.0, 0.5), ACTIVATED: (4.0, 16.0)}
_PUNCTA_R = {YELLOW: (0.8, 1.5), RED: (1.0, 2.2)}
# punctum emission relative to the cytosol at the cell centre (yellow, red)
_PUNCTA_A = ((1.0, 2.5), (2.0, 5.0))
_NUCLEUS_DIM = 0.35  # the nucleus holds less reporter than the cytoplasm
_NUCLEUS_PHASE = 0.3  # ... and is optically denser
_REFRACTILE_PHASE = 3.0  # dying, rounded cells (a share of `unknown`)
_DROPLETS = 3.0  # refractile granules per cell of radius 15 px (transmitted light)
_DROPLET_PHASE = 1.0
_ABSORPTION = 0.004  # per um of thickness
# transmitted light (transport-of-intensity contrast)
_TL_WAVELENGTH_UM = 0.55
_DELTA_N = 0.025
_TL_DEFOCUS_UM = 1.5
_TL_SIGMA_PX = 1.1


def make_cells(
    seed: int,
    *,
    difficulty: str = "realistic",
    shape: tuple[int, int] = (512, 512),
    target: str = "cells",
) -> Sample:
    """A CELLULAR-like widefield field of S2 cells with Atg8a puncta, with exact labels.

    Drosophila S2 cells expressing the tandem mRFP-EGFP-Atg8a reporter, seen
    at 40x in three channels: ``gfp``, ``rfp`` and ``transmitted`` light. Each
    cell is ``basal`` (a few small yellow GFP+RFP puncta: autophagosomes),
    ``activated`` (many larger red-only puncta: autolysosomes, whose acidic
    lumen quenches EGFP, plus some yellow ones) or ``unknown`` (no reporter
    expression, or out of focus). The same seed always gives the same field;
    ``target`` only chooses which objects are returned as ``labels``.

    Parameters
    ----------
    seed : int
        Non-negative seed; it fully determines the field and its labels.
    difficulty : {"realistic", "easy"}, optional
        ``"easy"``: 45-60 well-separated, nearly round cells per 512 x 512 px,
        homogeneous expression, every punctum in focus and apart from the
        others, flat illumination, about 1,200 photons per unit emission.
        ``"realistic"``: 120-220 touching and overlapping cells with irregular
        outlines, log-normal expression (sigma 0.8; bright cells saturate),
        out-of-focus and dying refractile unknown cells, puncta at random
        depths, out-of-focus glow, vignetting, uneven background and about 150
        photons per unit emission.
    shape : (int, int), optional
        ``(Y, X)`` in pixels, each at least 64. The number of cells scales with
        the area; 512 x 512 at 0.65 µm/px covers one 2048 x 2048 CELLULAR field
        (0.1625 µm/px) binned 4x, i.e. 333 x 333 µm.
    target : {"cells", "puncta"}, optional
        ``"cells"``: ``labels`` are cells (class 0 basal, 1 activated,
        2 unknown); ``"puncta"``: ``labels`` are in-focus puncta (class
        0 autophagosome = yellow, 1 autolysosome = red-only).

    Returns
    -------
    Sample
        ``image``: ``(Y, X, 3)`` float32, channels ``("gfp", "rfp",
        "transmitted")``, each in units of its camera's full scale (12-bit ADC:
        ``ADU / 4095``); ``labels``: ``(Y, X)`` int32, consecutive from 1;
        ``classes``: ``{id: class}``; ``meta``: ``source``, ``seed``,
        ``difficulty``, ``pixel_size_um`` (0.65), ``target``, the cameras,
        and two column tables (dicts of equal-length lists, one entry per
        generated object): ``cells`` (``label`` under ``target="cells"``, 0 if
        dropped; ``class``; ``center_y``/``center_x``; ``radius_px``;
        ``expression``; ``dz_um``; ``in_focus``; ``n_yellow_puncta``;
        ``n_red_puncta``) and ``puncta`` (``label`` under
        ``target="puncta"``, 0 if unlabelled; ``class``; ``cell_label``;
        centre; ``radius_px``; ``dz_um``; ``in_focus``).

    Raises
    ------
    ValueError
        If ``difficulty``, ``shape`` or ``target`` is invalid, or ``seed`` is
        negative.
    TypeError
        If ``seed`` is not an integer.

    Notes
    -----
    Cells. Radii are log-normal (median 15 px, sigma 0.2, clipped to 11-25 px),
    turned into equal-area ellipses (aspect up to 1.4; easy 1.15) with
    boundary harmonics ``k = 2, 3, 4`` (amplitude up to 0.07; easy 0.03).
    Random sequential placement, largest first; realistic cells may overlap
    by up to 25 % of the sum of their radii (easy: 4 px apart). Each cell is a
    dome of height ``H`` in [6, 10] µm, thickness ``h = H sqrt(1 - (rho /
    r(phi))^2)``, with a nucleus (a disc of 38-50 % of the radius, up to 20 %
    off-centre). Overlaps are resolved by a random depth order: the upper cell
    owns the shared pixels in ``labels`` while the fluorescence and optical
    path of both cells add up. A cell left with fewer than 20 visible pixels
    is dropped from the labels (it stays in the image).

    Classes follow CELLULAR's proportions (basal 32 %, activated 23 %, unknown
    45 %). Reporter expression ``e`` is log-normal (median 1, sigma 0.8; easy
    0.25). Unknown cells are reporter-negative (``e = 0.02``; 6 % of these are
    dying, rounded cells with 3x the optical path: dark, refractile in
    transmitted light) or, for 35 % of them (realistic), expressing but 4-10
    µm out of focus, blurred by ``sigma = 0.87 px/µm * |dz|`` (the geometric
    defocus ``|dz| tan(asin NA) / 2`` of an NA 0.75 dry objective). Cytosolic
    emission is ``e h / H`` in GFP and ``0.35 e h / H`` in RFP (0.65 of that in
    the nucleus). A fraction (55 % realistic, 10 % easy) of it is out-of-focus
    light, spread by a Gaussian of 8 px (3 px): the glow around bright cells.

    Puncta. Per cell of radius 15 px (scaled by area): basal 4 yellow and
    0.5 red, activated 4 yellow and 16 red (Poisson means). Yellow puncta
    have radius 0.8-1.5 px, red 1.0-2.2 px; they lie in the cytoplasm, at a
    radial position ``sqrt(U(0.3, 1))`` of the room left inside the cell
    (at least 1 px from its edge), at centre distances ``>= 0.8 (r_i + r_j)``
    (realistic: they may touch) or ``>= r_i + r_j + 2`` px (easy). A yellow
    punctum emits ``A sqrt(e)`` in GFP and ``0.35 A sqrt(e)`` in RFP with
    ``A`` in [1, 2.5] times the cytosol at the cell centre; a red punctum
    emits only the RFP part, with ``A`` in [2, 5] (EGFP is quenched at
    lysosomal pH). Depths ``dz ~ N(0, 1 µm)`` (realistic; clipped to the cell)
    blur them as above. **Only puncta with ``|dz| <= 1.5 µm`` in in-focus
    cells are labelled** (``target="puncta"``); the others are visible but
    background. Overlapping puncta are resolved by a random order.

    Fluorescence image, per channel ``c`` (GFP, RFP)::

        mu_c(x)  = photons * [sum_k PSF_c * D_k * (I E_c,k)(x) + B(x) I(x)]
        image_c  = clip(round(g Poisson(mu_c) + N(0, (g sigma_r)^2) + offset), 0, 4095) / 4095

    with ``E_c,k`` the emission in defocus layer ``k`` (blur ``D_k``: each
    object goes to the layer whose sigma is nearest to its own), ``I`` the
    excitation field (vignetting 0.25, 8 % ripple), ``B`` a smooth background
    (0.04, +-40 %) and ``PSF_c`` a Gaussian of sigma ``0.21 lambda / NA``
    (widefield; NA 0.75, lambda 0.51 / 0.61 µm: 0.22 / 0.26 px). Camera
    (realistic / easy): 150 / 1,200 photons per unit emission, gain 2 / 0.5
    ADU per electron, read noise 1.6 / 1 electrons, offset 100 ADU.

    Transmitted light (bright field, slightly defocused; transport of
    intensity, first order)::

        phi(x) = (2 pi / lambda) dn h(x) + grain(x) + granules(x)
        T(x)   = T0(x) (1 - 0.6 tanh(C(x) / 0.6)) exp(-0.004 h(x))
        C(x)   = (dz_tl lambda / 2 pi) laplacian(G_1.1 * phi)(x)

    with ``dn = 0.025``, ``lambda = 0.55 µm``, ``dz_tl = 1.5 µm`` (out-of-focus
    cells: 8.5 µm and a 3 px Gaussian), a nucleus 30 % optically denser than
    the cytoplasm, white phase noise of 0.15 rad (easy 0.05) inside cells and
    3 refractile granules (1 rad) per cell; ``tanh`` soft-limits the
    contrast, ``T0`` is the lamp field (vignetting 0.08, 6 % ripple;
    easy flat). Recorded with 2,500 / 8,000 photons at ``T0 = 1``.

    Counts above 100 expected electrons are drawn from the normal
    approximation of the Poisson law (see :func:`expose`). Random streams
    are derived from ``(seed, "cells", stream)``: the same arguments give
    bit-identical output (with the same numpy and scipy on the same platform).

    References
    ----------
    .. [1] Al Outa A, Hicks S, Thambawita V, et al. CELLULAR, a cell autophagy
       imaging dataset. Sci Data 10:806, 2023.
       :doi:`10.1038/s41597-023-02687-x`
    .. [2] Kimura S, Noda T, Yoshimori T. Dissection of the autophagosome
       maturation process by a novel reporter protein, tandem fluorescent-tagged
       LC3. Autophagy 3(5):452-460, 2007. :doi:`10.4161/auto.4451`
    .. [3] Teague MR. Deterministic phase retrieval: a Green's function
       solution. J Opt Soc Am 73(11):1434-1441, 1983.
       :doi:`10.1364/JOSA.73.001434`
    .. [4] Zhang B, Zerubia J, Olivo-Marin J-C. Gaussian approximations of
       fluorescence microscope point-spread function models. Appl Opt
       46(10):1819-1829, 2007. :doi:`10.1364/AO.46.001819`

    Examples
    --------
    >>> cells = make_cells(0, difficulty="easy", shape=(128, 128))
    >>> puncta = make_cells(0, difficulty="easy", shape=(128, 128), target="puncta")
    >>> cells.channels, cells.image.shape
    (('gfp', 'rfp', 'transmitted'), (128, 128, 3))
    >>> bool((cells.image == puncta.image).all())
    True
    >>> bool((cells.labels[puncta.labels > 0] > 0).all())  # puncta lie in cells
    True
    """
    seed = C.check_seed(seed)
    difficulty = C.check_difficulty(difficulty)
    shape = C.check_shape(shape, minimum=64)
    if not isinstance(target, str) or target not in TARGETS:
        raise ValueError(f"`target` must be one of {', '.join(map(repr, TARGETS))}, got {target!r}")
    p = _PARAMS[difficulty]
    h, w = shape
    area = h * w / 512.0**2
    g_rng, i_rng, b_rng, n_rng = C.streams(
        seed, "cells", "geometry", "intensity", "background", "noise"
    )

    # ---- cells: geometry, classes, expression, depth
    n = int(round(g_rng.uniform(*p.density) * area))
    radii = np.clip(_RADIUS_MEDIAN_PX * np.exp(g_rng.normal(0.0, _RADIUS_CV, n)), *_RADIUS_PX)
    centres, idx = C.place_discs(
        g_rng,
        radii,
        shape,
        gap=p.gap,
        overlap=p.overlap,
        margin=_RADIUS_PX[1] + 2 if p.gap > 0 else -4.0,
        tries=30,
    )
    radii = radii[idx]
    m = len(radii)
    aspect = 1.0 + g_rng.uniform(0.0, p.aspect_max - 1.0, m)
    angle = g_rng.uniform(0, np.pi, m)
    wob = g_rng.uniform(0.0, p.wobble, (m, 3))
    wob_p = g_rng.uniform(0, 2 * np.pi, (m, 3))
    height = g_rng.uniform(*_HEIGHT_UM, m)
    cls = g_rng.choice(3, size=m, p=_CLASS_P)
    defocused = (cls == UNKNOWN) & (g_rng.random(m) < p.defocused_unknown)
    refractile = (cls == UNKNOWN) & ~defocused & (g_rng.random(m) < p.refractile)
    cell_dz = np.where(defocused, g_rng.uniform(4.0, 10.0, m), 0.0)
    depth = g_rng.random(m)  # painting priority: higher is on top
    # nucleus: an ellipse of ~45 % of the cell radius, off-centre by up to 20 %
    nuc_r = g_rng.uniform(0.38, 0.5, m) * radii
    nuc_t = g_rng.uniform(-np.pi, np.pi, m)
    nuc_off = g_rng.uniform(0.0, 0.2, m) * radii
    expr = np.exp(i_rng.normal(0.0, p.expression_cv, m))
    expr = np.where((cls == UNKNOWN) & ~defocused, _NONEXPRESSING * expr, expr)
    stars = [
        C.Star(
            centres[i, 0],
            centres[i, 1],
            radii[i],
            aspect[i],
            angle[i],
            tuple((k + 2, wob[i, k], wob_p[i, k]) for k in range(3)),
        )
        for i in range(m)
    ]

    # ---- puncta: per cell counts, positions in the cytoplasm, depths
    pc, py, px, pr, pk = [], [], [], [], []
    for i in range(m):
        if cls[i] == UNKNOWN and not defocused[i]:
            continue  # no reporter, nothing to see
        host = int(cls[i]) if cls[i] != UNKNOWN else int(g_rng.integers(2))
        scale = (radii[i] / 15.0) ** 2
        lam_y, lam_r = _PUNCTA_N[host]
        kinds = np.concatenate(
            [
                np.full(g_rng.poisson(lam_y * scale), YELLOW),
                np.full(g_rng.poisson(lam_r * scale), RED),
            ]
        ).astype(np.int64)
        if not len(kinds):
            continue
        kinds = kinds[g_rng.permutation(len(kinds))]
        lo = np.array([_PUNCTA_R[k][0] for k in kinds])
        hi = np.array([_PUNCTA_R[k][1] for k in kinds])
        rad = g_rng.uniform(lo, hi)
        phi = g_rng.uniform(-np.pi, np.pi, len(kinds))
        z = np.exp(1j * phi)
        u = np.sqrt(g_rng.uniform(0.3, 1.0, len(kinds)))  # mostly around the nucleus
        rmax = np.maximum(C.star_radius(stars[i], z) - rad - 1.0, 0.0)
        yy = centres[i, 0] + u * rmax * z.imag
        xx = centres[i, 1] + u * rmax * z.real
        acc_y: list[float] = []
        acc_x: list[float] = []
        acc_r: list[float] = []
        for j in range(len(kinds)):
            ok = True
            for ay, ax, ar in zip(acc_y, acc_x, acc_r, strict=True):
                d = math.hypot(yy[j] - ay, xx[j] - ax)
                if d < (rad[j] + ar + 2.0 if p.gap > 0 else 0.8 * (rad[j] + ar)):
                    ok = False
                    break
            if ok:
                acc_y.append(yy[j])
                acc_x.append(xx[j])
                acc_r.append(rad[j])
                pc.append(i)
                pk.append(kinds[j])
        py += acc_y
        px += acc_x
        pr += acc_r
    npn = len(pc)
    pc = np.array(pc, dtype=np.int64)
    py, px, pr = np.array(py, dtype=float), np.array(px, dtype=float), np.array(pr, dtype=float)
    pk = np.array(pk, dtype=np.int64)
    if p.puncta_dz_um > 0 and npn:
        half = height[pc] / 2.0
        pdz = np.clip(g_rng.normal(0.0, p.puncta_dz_um, npn), -half, half)
    else:
        pdz = np.zeros(npn)
    p_in_focus = (np.abs(pdz) <= _PUNCTA_FOCUS_UM) & ~defocused[pc]
    amp_lo = np.where(pk == YELLOW, _PUNCTA_A[YELLOW][0], _PUNCTA_A[RED][0])
    amp_hi = np.where(pk == YELLOW, _PUNCTA_A[YELLOW][1], _PUNCTA_A[RED][1])
    p_amp = g_rng.uniform(amp_lo, amp_hi) * np.sqrt(expr[pc])

    # ---- render cells: emission layers, thickness maps, labels
    layers: dict[int, np.ndarray] = {}

    def layer(k):
        return layers.setdefault(int(k), np.zeros((2,) + shape, dtype=np.float64))

    haze = np.zeros((2,) + shape, dtype=np.float64)
    thick = np.zeros(shape, dtype=np.float64)  # optical thickness, in-focus cells (um)
    thick_defocus = np.zeros(shape, dtype=np.float64)
    cell_index = np.full(shape, -1, dtype=np.int64)
    cell_bins = C.defocus_bin(_DEFOCUS_PX_PER_UM * cell_dz)
    layer(0)
    for i in np.argsort(depth, kind="stable"):
        obj = stars[i]
        win = C.window(obj.cy, obj.cx, obj.reach + 1.0, shape)
        if win is None:
            continue
        sl, dy, dx = win
        s, _, r = C.star_distance(obj, dy, dx)
        inside = s <= 0
        prof = np.sqrt(np.clip(1.0 - (1.0 + s / r) ** 2, 0.0, None)) * (s < 0.5)
        ny = dy - nuc_off[i] * math.sin(nuc_t[i])
        nx = dx - nuc_off[i] * math.cos(nuc_t[i])
        nuc = C.coverage(np.hypot(ny, nx) - nuc_r[i])
        opt = prof * (1.0 + _NUCLEUS_PHASE * nuc)
        if refractile[i]:
            opt = opt * _REFRACTILE_PHASE
        (thick_defocus if defocused[i] else thick)[sl] += height[i] * opt
        e = expr[i] * prof * (1.0 - _NUCLEUS_DIM * nuc)
        lay = layer(cell_bins[i])
        lay[0][sl] += (1.0 - p.haze) * e
        lay[1][sl] += ((1.0 - p.haze) * _RFP_RATIO) * e
        haze[0][sl] += p.haze * e
        haze[1][sl] += (p.haze * _RFP_RATIO) * e
        cell_index[sl][inside] = i

    # ---- render puncta (vectorised), binned by defocus
    if npn:
        bins = C.defocus_bin(_DEFOCUS_PX_PER_UM * np.hypot(pdz, cell_dz[pc]))
        flat, cov, inside, which = C.splat_discs(shape, py, px, pr)
        gfp_w = np.where(pk == YELLOW, p_amp, 0.0)
        rfp_w = _RFP_RATIO * p_amp
        pix_bin = bins[which]
        for k in np.unique(bins):
            sel = pix_bin == k
            f, cv, wh = flat[sel], cov[sel], which[sel]
            lay = layer(k)
            lay[0] += np.bincount(f, weights=cv * gfp_w[wh], minlength=h * w).reshape(shape)
            lay[1] += np.bincount(f, weights=cv * rfp_w[wh], minlength=h * w).reshape(shape)
        lab_sel = inside & p_in_focus[which]
        punct_index = C.paint_in_order(shape, flat[lab_sel], which[lab_sel], g_rng.random(npn))
    else:
        punct_index = np.full(shape, -1, dtype=np.int64)

    # ---- fluorescence image
    sigma0 = [C.psf_sigma_um(wl, _NA, confocal=False) / _PIXEL_UM for wl in _WAVELENGTH_UM]
    illum = C.illumination(b_rng, shape, vignetting=p.vignetting, ripple=p.ripple)
    parts = [(C.bin_sigma(k), v) for k, v in layers.items()] + [(p.haze_sigma_px, haze)]
    fluo = C.through_optics(parts, sigma0, illum)
    back = np.full(shape, p.background)
    if p.background_cv > 0:
        back = back * (
            1.0 + p.background_cv * np.tanh(C.smooth_field(b_rng, shape, scale_px=150.0, n_waves=6))
        )
    fluo += back * illum

    # ---- transmitted light (transport of intensity)
    k0 = 2 * np.pi / _TL_WAVELENGTH_UM * _DELTA_N  # rad per um of cell thickness
    grain = (p.granularity * b_rng.standard_normal(shape, dtype=np.float32)) * (thick > 0)
    n_drop = int(round(_DROPLETS * float(np.sum(radii[~defocused] ** 2)) / 225.0))
    dy_ = g_rng.uniform(0, h - 1, n_drop)
    dx_ = g_rng.uniform(0, w - 1, n_drop)
    on = thick[dy_.astype(int), dx_.astype(int)] > 2.0
    flat, cov, _, which = C.splat_discs(shape, dy_[on], dx_[on], np.full(int(on.sum()), 0.8))
    drops = np.bincount(flat, weights=cov, minlength=h * w).reshape(shape)
    phase = k0 * thick + grain + _DROPLET_PHASE * drops
    um2 = _TL_WAVELENGTH_UM / (2 * np.pi) / _PIXEL_UM**2  # laplacian px^-2 -> intensity
    contrast = C.log_filter(
        [phase, k0 * thick_defocus],
        [_TL_SIGMA_PX, 3.0],
        [_TL_DEFOCUS_UM * um2, (_TL_DEFOCUS_UM + 7.0) * um2],
    )
    lamp = C.illumination(b_rng, shape, vignetting=p.tl_vignetting, ripple=p.tl_ripple)
    tl = (
        lamp
        * (1.0 - 0.6 * np.tanh(contrast / 0.6))
        * np.exp(-_ABSORPTION * (thick + thick_defocus))
    )

    f_rng, t_rng = n_rng.spawn(2)
    image = np.concatenate(
        [
            C.expose(np.moveaxis(fluo, 0, -1), p.fluo_camera, f_rng),
            C.expose(tl[..., None], p.tl_camera, t_rng),
        ],
        axis=2,
    )

    # ---- labels for both targets
    cell_labels, cell_classes, cell_label_of = C.relabel(cell_index, cls, min_pixels=20)
    punct_labels, punct_classes, punct_label_of = C.relabel(punct_index, pk, min_pixels=1)
    n_yellow = np.bincount(pc[pk == YELLOW], minlength=m)
    n_red = np.bincount(pc[pk == RED], minlength=m)
    cells_meta = C.table(
        label=cell_label_of,
        **{"class": cls},
        center_y=centres[:, 0],
        center_x=centres[:, 1],
        radius_px=radii,
        expression=expr,
        dz_um=cell_dz,
        in_focus=~defocused,
        n_yellow_puncta=n_yellow,
        n_red_puncta=n_red,
    )
    puncta_meta = C.table(
        label=punct_label_of,
        **{"class": pk},
        cell_label=cell_label_of[pc],
        center_y=py,
        center_x=px,
        radius_px=pr,
        dz_um=pdz,
        in_focus=p_in_focus,
    )
    if target == "cells":
        labels, classes = cell_labels, cell_classes
    else:
        labels, classes = punct_labels, punct_classes
    meta = {
        "source": f"synthetic:make_cells v{GENERATOR_VERSION}",
        "seed": seed,
        "difficulty": difficulty,
        "pixel_size_um": _PIXEL_UM,
        "target": target,
        "psf_sigma_px": C.to_builtin(dict(zip(CELLS_CHANNELS[:2], sigma0, strict=True))),
        "fluorescence_camera": C.to_builtin(asdict(p.fluo_camera)),
        "transmitted_camera": C.to_builtin(asdict(p.tl_camera)),
        "labelled": (
            "cells (upper cell owns overlaps)"
            if target == "cells"
            else "in-focus puncta (|dz| <= 1.5 um) of in-focus cells"
        ),
        "cells": cells_meta,
        "puncta": puncta_meta,
    }
    return Sample(
        name=f"cells-{seed:05d}",
        image=image,
        channels=CELLS_CHANNELS,
        labels=labels,
        classes=classes,
        meta=meta,
    )
