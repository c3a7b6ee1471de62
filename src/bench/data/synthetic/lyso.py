"""LysoQuant-like endolysosomes: LAMP1 ring membranes, some loaded with cargo."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np

from bench.data.sample import Sample

from . import _common as C
from ._version import GENERATOR_VERSION

__all__ = ["make_lyso", "LYSO_CHANNELS", "LYSO_CLASS_NAMES"]

LYSO_CHANNELS = ("lamp1", "cargo")
LYSO_CLASS_NAMES = ("empty", "loaded")


@dataclass(frozen=True)
class _LysoParams:
    density: tuple[float, float]  # organelles per 256 x 256 px, uniform range
    psf_scale: float  # multiplies the diffraction-limited sigma
    aspect_max: float
    brightness_cv: float  # sigma of log-normal brightness per organelle
    patchiness: float  # amplitude of the angular modulation of the membrane
    partial_fill: float  # probability that a loaded lumen is only partly filled
    gap: float  # px between organelles (< 0: they may overlap by that much)
    n_clusters: tuple[float, float]  # per 256 x 256 px; 0 = uniform placement
    out_of_focus: float  # fraction of organelles away from the focal plane
    vesicles: float  # unlabelled sub-resolution LAMP1 puncta per organelle
    footprint: bool  # cell outline with cytosol inside, dark outside
    cyto_lamp1: float
    cyto_cargo: float
    background: float
    background_cv: float
    vignetting: float
    ripple: float
    camera: C.Camera


_PARAMS = MappingProxyType(
    {
        "easy": _LysoParams(
            density=(10, 14),
            psf_scale=0.5,
            aspect_max=1.0,
            brightness_cv=0.08,
            patchiness=0.0,
            partial_fill=0.0,
            gap=6.0,
            n_clusters=(0, 0),
            out_of_focus=0.0,
            vesicles=0.0,
            footprint=False,
            cyto_lamp1=0.02,
            cyto_cargo=0.0,
            background=0.02,
            background_cv=0.0,
            vignetting=0.0,
            ripple=0.0,
            camera=C.Camera(photons=1500.0, adu_per_e=1.0, offset_adu=100.0, read_noise_e=1.0),
        ),
        "realistic": _LysoParams(
            density=(22, 38),
            psf_scale=1.0,
            aspect_max=1.35,
            brightness_cv=0.4,
            patchiness=0.35,
            partial_fill=0.4,
            gap=-1.0,
            n_clusters=(2, 4),
            out_of_focus=0.25,
            vesicles=0.5,
            footprint=True,
            cyto_lamp1=0.06,
            cyto_cargo=0.07,
            background=0.03,
            background_cv=0.5,
            vignetting=0.35,
            ripple=0.1,
            camera=C.Camera(photons=45.0, adu_per_e=25.0, offset_adu=100.0, read_noise_e=3.0),
        ),
    }
)

_PIXEL_UM = 0.06
_NA = 1.4
_WAVELENGTH_UM = (0.52, 0.61)  # emission of the green (LAMP1) and red (cargo) dyes
_RADIUS_PX = (4.0, 14.0)
_THICKNESS_PX = (1.5, 2.5)
_LOADED = (0.3, 0.5)
_Z_R_UM = 0.4  # axial half-width of the confocal section (defocus scale)
_FOCUS_UM = 0.35  # organelles with |dz| <= this are in focus and labelled
_CARGO_BRIGHTNESS = 0.8


def make_lyso(
    seed: int,
    *,
    difficulty: str = "realistic",
    shape: tuple[int, int] = (256, 256),
) -> Sample:
    """A LysoQuant-like confocal image of LAMP1 endolysosomes, with exact labels.

    Endolysosomes (ELs) are drawn as LAMP1-positive rings (channel ``lamp1``,
    green) of varied size; 30-50 % of them carry cargo in their lumen (channel
    ``cargo``, red), the rest are empty. The task is to segment each EL
    (membrane + lumen) and to classify it as empty or loaded.

    Parameters
    ----------
    seed : int
        Non-negative seed; it fully determines the image and its labels.
    difficulty : {"realistic", "easy"}, optional
        ``"easy"``: few well-separated round ELs of uniform brightness, all in
        focus, flat illumination, half the diffraction blur (as after
        deconvolution) and about 1,500 photons per unit emission.
        ``"realistic"``: clustered, touching, slightly elliptical ELs with
        heterogeneous, patchy membranes, partly filled lumens, out-of-focus ELs,
        unlabelled sub-resolution LAMP1 vesicles, a cell outline with diffuse
        cytosolic LAMP1 and reticular (ER-like) cargo, vignetting, uneven
        background and about 45 photons per unit emission.
    shape : (int, int), optional
        ``(Y, X)`` in pixels, each at least 32. The number of ELs scales with
        the area (about 10-14 easy, 22-38 realistic per 256 x 256 px).

    Returns
    -------
    Sample
        ``image``: ``(Y, X, 2)`` float32 with channels ``("lamp1", "cargo")``,
        in units of the camera's full scale (12-bit ADC: ``ADU / 4095``);
        ``labels``: ``(Y, X)`` int32, one id per in-focus EL (membrane and
        lumen), consecutive from 1, 0 = background; ``classes``: ``{id: 0
        (empty) or 1 (loaded)}``; ``meta``: ``source``, ``seed``,
        ``difficulty``, ``pixel_size_um`` (0.06), ``psf_sigma_px`` per channel,
        ``camera`` and ``objects``: a column table (dict of equal-length
        lists) with one entry per generated EL: ``label`` (0 when unlabelled),
        ``class``, ``center_y``, ``center_x``, ``radius_px``,
        ``thickness_px``, ``aspect``, ``dz_um``, ``in_focus`` and
        ``cargo_fill`` (filled fraction of the lumen).

    Raises
    ------
    ValueError
        If ``difficulty`` is not ``"easy"`` or ``"realistic"``, ``shape`` is not
        two ints >= 32, or ``seed`` is negative.
    TypeError
        If ``seed`` is not an integer.

    Notes
    -----
    Scene. ELs are spheres of radius ``R`` (log-uniform in [4, 14] px, i.e.
    0.24-0.84 µm at 0.06 µm/px) seen in a confocal section. The LAMP1 membrane
    projects to a ring of apparent thickness ``t`` in [1.5, 2.5] px (the optical
    section integrates the curved membrane over ~0.6 µm of depth). The radius
    is modulated into an ellipse of equal area (aspect ratio up to 1.35,
    realistic) and the membrane brightness along the ring by
    ``1 + a cos(k phi + p)`` (``a <= 0.35``, ``k`` in 1..3; LAMP1 is patchy).
    Each EL has a log-normal brightness (sigma 0.4 realistic, 0.08 easy).
    A loaded EL's lumen (the disc of radius ``R - t``) is filled with cargo of
    brightness 0.8 (times its own log-normal factor), or, with probability
    0.4 (realistic), only a disc of 40-85 % of the lumen radius pushed against
    the membrane. Empty ELs have no cargo of their own.

    Placement. Random sequential placement, largest first. Realistic: 2-4
    clusters per 256 x 256 px (Gaussian, 40 px spread) inside a cell outline
    (a thresholded smooth random field covering at least 70 % of the field);
    neighbours may touch and overlap by up to 1 px. Easy: uniform, 6 px apart.

    Focus. A fraction (25 %, realistic) of ELs lie ``|dz|`` in [0.45, 1.2] µm
    from the focal plane, the others ``dz ~ N(0, 0.12 µm)``. Defocus scales
    the emission by ``1 / (1 + (dz / z_R)^2)`` and adds a Gaussian blur of
    ``sigma_0 |dz| / z_R`` (``z_R = 0.4 µm``, ``sigma_0`` the in-focus PSF
    sigma), approximated by the nearest of a few blur layers. **Only ELs with
    ``|dz| <= 0.35 µm`` are labelled**: the others are visible as dim blurred
    rings but are background in ``labels`` (they are listed in
    ``meta["objects"]`` with ``in_focus=False``), as a LysoQuant annotator
    would skip them. Sub-resolution LAMP1 vesicles (filled discs of radius
    1-2.5 px, half as many as ELs, realistic) are never labelled.

    Image formation, per channel ``c``::

        mu_c(x)  = photons * [sum_k PSF_c * D_k * (I O_c,k)(x) + B(x) I(x)]   (electrons)
        ADU(x)   = round(g Poisson(mu_c(x)) + N(0, (g sigma_r)^2) + offset)
        image(x) = clip(ADU(x), 0, 4095) / 4095

    where ``O_c,k`` is the emission in defocus layer ``k`` (blur ``D_k``;
    layer 0 also holds the diffuse cytosolic LAMP1, 0.06, and the ER-like
    cargo, 0.07 times a thresholded fine random texture, inside the cell
    outline; easy: a uniform 0.02 LAMP1 haze only), ``I`` the excitation
    field (vignetting ``1 - 0.35 d^2`` times a 10 % smooth ripple), ``B`` a
    smooth autofluorescence background (0.03, +-50 %). ``PSF_c`` is a
    Gaussian with ``sigma = 0.21 lambda / (sqrt(2) NA)`` (confocal, small
    pinhole; Zhang et al. 2007) for NA 1.4, ``lambda`` = 0.52 µm (LAMP1) and
    0.61 µm (cargo): 0.92 px and 1.08 px (halved when easy). All
    convolutions are done at once in Fourier space, zero-padded so nothing
    wraps around. Camera (realistic / easy): ``photons`` 45 / 1500 electrons
    per unit emission, gain ``g`` 25 / 1 ADU per electron, read noise
    ``sigma_r`` 3 / 1 electrons, offset 100 ADU, 12-bit ADC (the
    Poisson-Gaussian model of Foi et al. 2008).

    Counts above 100 expected electrons are drawn from the normal
    approximation of the Poisson law. Random streams (geometry, intensity,
    background, noise) are derived from ``(seed, "lyso", stream)``, so the
    output is bit-identical for the same arguments (with the same numpy and
    scipy on the same platform).

    References
    ----------
    .. [1] Morone D, Marazza A, Bergmann TJ, Molinari M. Deep learning approach
       for quantification of organelles and misfolded polypeptide delivery
       within degradative compartments. Mol Biol Cell 31(14):1512-1524, 2020.
       :doi:`10.1091/mbc.E20-04-0269`
    .. [2] Zhang B, Zerubia J, Olivo-Marin J-C. Gaussian approximations of
       fluorescence microscope point-spread function models. Appl Opt
       46(10):1819-1829, 2007. :doi:`10.1364/AO.46.001819`
    .. [3] Foi A, Trimeche M, Katkovnik V, Egiazarian K. Practical
       Poissonian-Gaussian noise modeling and fitting for single-image raw-data.
       IEEE Trans Image Process 17(10):1737-1754, 2008.
       :doi:`10.1109/TIP.2008.2001399`

    Examples
    --------
    >>> s = make_lyso(0, difficulty="easy", shape=(64, 64))
    >>> s.name, s.channels, s.image.shape, s.image.dtype
    ('lyso-00000', ('lamp1', 'cargo'), (64, 64, 2), dtype('float32'))
    >>> sorted(s.classes) == list(range(1, s.labels.max() + 1))
    True
    """
    seed = C.check_seed(seed)
    difficulty = C.check_difficulty(difficulty)
    shape = C.check_shape(shape, minimum=32)
    p = _PARAMS[difficulty]
    h, w = shape
    area = h * w / 65536.0
    g_rng, i_rng, b_rng, n_rng = C.streams(
        seed, "lyso", "geometry", "intensity", "background", "noise"
    )

    # ---- cell outline and diffuse cytosol
    if p.footprint:
        field = C.smooth_field(b_rng, shape, scale_px=60.0, n_waves=6)
        # the cell covers ~75 % of a large field and at least 70 % of a small one
        edge = min(-0.7, float(np.quantile(field[::4, ::4], 0.3)))
        inside = 1.0 / (1.0 + np.exp(-(field - edge) / 0.15))
    else:
        inside = np.ones(shape)

    # ---- organelles
    n = int(round(g_rng.uniform(*p.density) * area))
    radii = np.exp(g_rng.uniform(math.log(_RADIUS_PX[0]), math.log(_RADIUS_PX[1]), n))
    clusters = None
    spread = 40.0
    if p.n_clusters[1] > 0:
        k = max(1, int(round(g_rng.uniform(*p.n_clusters) * area)))
        cand = np.column_stack([g_rng.uniform(0, h - 1, 20 * k), g_rng.uniform(0, w - 1, 20 * k)])
        ok = inside[cand[:, 0].astype(int), cand[:, 1].astype(int)] > 0.9
        clusters = (cand[ok] if ok.any() else cand)[:k]

    def accept(y, x):
        return inside[int(y), int(x)] > 0.8

    centres, idx = C.place_discs(
        g_rng,
        radii,
        shape,
        gap=p.gap,
        margin=16.0 if p.gap > 0 else 0.0,
        accept=accept if p.footprint else None,
        cluster_centres=clusters,
        cluster_spread=spread,
        tries=60,
    )
    radii = radii[idx]
    m = len(radii)
    thickness = g_rng.uniform(*_THICKNESS_PX, m)
    aspect = 1.0 + g_rng.uniform(0.0, p.aspect_max - 1.0, m) if p.aspect_max > 1 else np.ones(m)
    angle = g_rng.uniform(0, np.pi, m)
    p_loaded = g_rng.uniform(*_LOADED)
    loaded = g_rng.random(m) < p_loaded
    away = g_rng.random(m) < p.out_of_focus
    dz = np.where(
        away,
        g_rng.uniform(0.45, 1.2, m) * g_rng.choice([-1.0, 1.0], m),
        g_rng.normal(0.0, 0.12, m) if p.out_of_focus > 0 else 0.0,
    )
    in_focus = np.abs(dz) <= _FOCUS_UM
    patch_k = g_rng.integers(1, 4, m)
    patch_a = g_rng.uniform(0.0, p.patchiness, m)
    patch_p = g_rng.uniform(0, 2 * np.pi, m)
    partial = loaded & (g_rng.random(m) < p.partial_fill)
    fill_r = g_rng.uniform(0.4, 0.85, m)
    fill_t = g_rng.uniform(0, 2 * np.pi, m)

    bright = np.exp(i_rng.normal(0.0, p.brightness_cv, m))
    cargo_bright = _CARGO_BRIGHTNESS * np.exp(i_rng.normal(0.0, p.brightness_cv, m))

    sigma0 = [
        C.psf_sigma_um(wl, _NA, confocal=True) / _PIXEL_UM * p.psf_scale for wl in _WAVELENGTH_UM
    ]
    dim = 1.0 / (1.0 + (dz / _Z_R_UM) ** 2)
    extra = sigma0[0] * np.abs(dz) / _Z_R_UM

    layers: dict[int, np.ndarray] = {}

    def layer(k):
        return layers.setdefault(int(k), np.zeros((2,) + shape, dtype=np.float64))

    index_image = np.full(shape, -1, dtype=np.int64)
    depth_order = np.argsort(-np.abs(dz), kind="stable")  # nearest to focus painted last
    fill_fraction = np.zeros(m)
    bins = C.defocus_bin(extra)
    for i in depth_order:
        obj = C.Star(centres[i, 0], centres[i, 1], radii[i], aspect[i], angle[i])
        win = C.window(obj.cy, obj.cx, obj.reach + 1.5, shape)
        if win is None:
            continue
        sl, dy, dx = win
        s, z, _ = C.star_distance(obj, dy, dx)
        outer = C.coverage(s)
        lumen = C.coverage(s + thickness[i])
        patch = np.clip(1.0 + patch_a[i] * C.harmonic(z, patch_k[i], patch_p[i]), 0.2, None)
        lay = layer(bins[i])
        lay[0][sl] += (bright[i] * dim[i]) * (outer - lumen) * patch
        if loaded[i]:
            cargo = lumen
            if partial[i]:
                rl = max(radii[i] - thickness[i], 0.5)
                rc = fill_r[i] * rl
                off = rl - rc
                sc = np.hypot(dy - off * math.sin(fill_t[i]), dx - off * math.cos(fill_t[i])) - rc
                cargo = lumen * C.coverage(sc)
            fill_fraction[i] = float(cargo.sum() / max(lumen.sum(), 1e-9))
            lay[1][sl] += (cargo_bright[i] * dim[i]) * cargo
        if in_focus[i]:
            index_image[sl][s <= 0] = i

    # ---- unlabelled sub-resolution LAMP1 vesicles
    nv = int(round(p.vesicles * m))
    if nv:
        vy = g_rng.uniform(0, h - 1, nv)
        vx = g_rng.uniform(0, w - 1, nv)
        keep = inside[vy.astype(int), vx.astype(int)] > 0.5
        vy, vx = vy[keep], vx[keep]
        vr = g_rng.uniform(1.0, 2.5, len(vy))
        vb = 0.6 * np.exp(i_rng.normal(0.0, p.brightness_cv, len(vy)))
        flat, cov, _, which = C.splat_discs(shape, vy, vx, vr)
        layer(0)[0] += np.bincount(flat, weights=cov * vb[which], minlength=h * w).reshape(shape)

    # ---- diffuse cytosol (LAMP1 on small vesicles / Golgi, cargo in the ER)
    base = layer(0)
    if p.cyto_lamp1 > 0:
        base[0] += p.cyto_lamp1 * inside * (1.0 + 0.3 * C.fine_texture(b_rng, shape, scale_px=6.0))
    if p.cyto_cargo > 0:
        reticulum = np.clip(C.fine_texture(b_rng, shape, scale_px=1.5), 0.0, None)
        base[1] += p.cyto_cargo * inside * (0.4 + reticulum)

    illum = C.illumination(b_rng, shape, vignetting=p.vignetting, ripple=p.ripple)
    optical = C.through_optics(((C.bin_sigma(k), v) for k, v in layers.items()), sigma0, illum)
    back = p.background * illum
    if p.background_cv > 0:
        back = back * (
            1.0 + p.background_cv * np.tanh(C.smooth_field(b_rng, shape, scale_px=80.0, n_waves=6))
        )
    image = C.expose(np.moveaxis(optical + back, 0, -1), p.camera, n_rng)

    classes_of = loaded.astype(np.int64)
    labels, classes, label_of = C.relabel(index_image, classes_of, min_pixels=5)
    objects = C.table(
        label=label_of,
        **{"class": classes_of},
        center_y=centres[:, 0],
        center_x=centres[:, 1],
        radius_px=radii,
        thickness_px=thickness,
        aspect=aspect,
        dz_um=dz,
        in_focus=in_focus,
        cargo_fill=fill_fraction,
    )
    meta = {
        "source": f"synthetic:make_lyso v{GENERATOR_VERSION}",
        "seed": seed,
        "difficulty": difficulty,
        "pixel_size_um": _PIXEL_UM,
        "psf_sigma_px": C.to_builtin(dict(zip(LYSO_CHANNELS, sigma0, strict=True))),
        "camera": C.to_builtin(asdict(p.camera)),
        "labelled": "in-focus endolysosomes (|dz| <= 0.35 um); membrane + lumen",
        "objects": objects,
    }
    return Sample(
        name=f"lyso-{seed:05d}",
        image=image,
        channels=LYSO_CHANNELS,
        labels=labels,
        classes=classes,
        meta=meta,
    )
