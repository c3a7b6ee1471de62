"""The Jupyter Book: generated pages and the offline build (``bench book``).

The book's hand-written pages live in ``book/`` with ``_config.yml`` and ``_toc.yml``
at the top of the repository. Everything that depends on data or results is
*generated* by :func:`build_book`, never committed and never edited by hand:

* a card per dataset (``book/datasets/cards/<name>.md``) from the dataset registry:
  sample images as composites in the usual colours, object and class counts per
  split, provenance, licence and how to get the data;
* the leaderboards (``book/leaderboards/``) from the latest run
  (:mod:`bench.results`, :mod:`bench.leaderboard`): one sortable table per dataset
  with intervals, costs and status, the AP sweep, per-class scores, Pareto plots,
  a gallery of the best and worst test images, and the provenance of every row;
* the measured numbers of the experiments chapters (``book/_generated/``);
* the notebooks: for each method notebook the copy the runner executed for one of
  its cells, for each tutorial the run's ``tutorials/<name>.ipynb``, staged where
  the committed Colab copy lives (``notebooks/colab/<name>.ipynb``) so that the
  page's Colab button opens the right file; a notebook the run did not execute is
  shown without outputs, and says so.

:func:`build_book` copies the hand-written sources and writes the generated ones
into a staging folder (``_build/book-src``; a file is rewritten only when its
content changes, so Sphinx rebuilds only what changed), then runs ``jupyter-book
build`` there, offline and with warnings as errors (``-W -n --keep-going``), into
``_build/html``. It never executes a notebook and never trains a model. Without
any run it still builds, and the leaderboard pages say that no run has been made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import logging
import math
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "BookBuild",
    "BookBuildError",
    "build_book",
    "stage_book",
    "jupyter_book_build",
    "dataset_stats",
    "STAGE_DIR",
    "HTML_DIR",
]

logger = logging.getLogger(__name__)

#: Staging folder of the book sources, relative to the repository root.
STAGE_DIR = Path("_build") / "book-src"
#: Where ``jupyter-book build`` writes the HTML, relative to the repository root.
HTML_DIR = Path("_build") / "html"

#: Hand-written sources copied into the staging folder (relative to the root).
_SOURCES = ("_config.yml", "_toc.yml", "book")
#: Figures of the introduction (``book/_generated/intro_<key>.md``): a test image of a dataset.
_INTRO_FIGURES = (
    ("tandem", "synth-cells-puncta", "The tandem reporter. A synthetic field of the `synth-cells-puncta` dataset: "
     "cells (transmitted light, grey) with mRFP-EGFP-Atg8a puncta. Yellow puncta (green and red) are "
     "autophagosomes; red-only puncta, whose EGFP is quenched by the acidic lumen, are autolysosomes. "
     "Right: the annotated puncta, outlined by class."),
    ("lamp1", "synth-lyso", "LAMP1 endolysosomes. A synthetic field of the `synth-lyso` dataset: LAMP1 rings (red), "
     "some with cargo in their lumen (green). Right: the annotated endolysosomes, outlined by class "
     "(empty or loaded); the occupancy is the fraction outlined as loaded."),
)

#: Largest side, in pixels, of an image shown in the book.
_MAX_SIDE = 512
#: Preference among the cells of a notebook when choosing the executed copy to show.
_STATUS_ORDER = {"ok": 0, "failed": 1, "timeout": 2, "skipped": 3}


class BookBuildError(RuntimeError):
    """``jupyter-book build`` failed (the message holds its warnings and errors)."""


@dataclass(frozen=True)
class BookBuild:
    """What :func:`build_book` produced.

    Attributes
    ----------
    html : Path or None
        The built HTML folder (``None`` when only staged).
    source : Path
        The staging folder handed to ``jupyter-book``.
    run : Path or None
        The run whose results the leaderboards show.
    pages : tuple of str
        Generated files, relative to `source`.
    seconds : float
        Wall time of staging plus building.
    """

    html: Path | None
    source: Path
    run: Path | None
    pages: tuple[str, ...]
    seconds: float


# =============================================================================== build
def build_book(
    *,
    root: str | Path | None = None,
    run: str | Path | None = None,
    use_run: bool = True,
    datasets: Sequence[str] | None = None,
    output: str | Path | None = None,
    build: bool = True,
    strict: bool = True,
) -> BookBuild:
    """Render the generated pages, stage the sources and build the book offline.

    Parameters
    ----------
    root : str or Path, optional
        The repository (default :func:`bench.paths.repo_root`).
    run : str or Path, optional
        A run folder, or the name of one under :func:`bench.results.runs_root`;
        default the latest run, if there is one.
    use_run : bool, optional
        ``False`` ignores every run: the leaderboards then say no run was made.
    datasets : sequence of str, optional
        Datasets to give a card and a leaderboard page (default: every registered
        dataset, plus any other dataset of the run).
    output : str or Path, optional
        Folder under which ``_build/html`` is written (default `root`).
    build : bool, optional
        ``False`` stops after staging (no ``jupyter-book`` call).
    strict : bool, optional
        Treat warnings (broken references included) as errors.

    Returns
    -------
    BookBuild

    Raises
    ------
    FileNotFoundError
        If an explicit `run` does not exist, or `root` has no ``_config.yml``.
    BookBuildError
        If ``jupyter-book build`` fails.
    """
    from .paths import repo_root

    t0 = time.perf_counter()
    root = Path(root) if root is not None else repo_root()
    for name in ("_config.yml", "_toc.yml"):
        if not (root / name).is_file():
            raise FileNotFoundError(f"{root / name}: missing; `root` must be the repository with the book sources")
    output = Path(output) if output is not None else root
    stage = output / STAGE_DIR
    results = _load_results(run) if use_run else None
    if results is None and use_run and run is None:
        logger.info("no benchmark run found: the leaderboards will say so")
    pages = stage_book(stage, root=root, results=results, datasets=datasets)
    html_dir = None
    if build:
        html_dir = jupyter_book_build(stage, output, strict=strict)
    seconds = time.perf_counter() - t0
    logger.info("book %s in %.1f s", "built" if build else "staged", seconds)
    return BookBuild(
        html=html_dir,
        source=stage,
        run=None if results is None else Path(results.path),
        pages=tuple(pages),
        seconds=seconds,
    )


def _load_results(run: str | Path | None):
    """The adapter to :mod:`bench.results`: a loaded run, or ``None`` when there is none.

    An explicit `run` that cannot be loaded is an error; without one, the latest
    run is used when it exists.
    """
    from . import results as res

    if run is not None:
        return res.load_run(run)
    try:
        path = res.latest_run()
    except FileNotFoundError:
        return None
    return res.load_run(path)


def jupyter_book_build(source: str | Path, output: str | Path, *, strict: bool = True) -> Path:
    """Run ``jupyter-book build`` on `source`, writing ``<output>/_build/html``.

    Notebooks are never executed (``execute_notebooks: "off"`` in ``_config.yml``).
    With `strict`, Sphinx runs with ``-W -n --keep-going``: any warning, a broken
    cross-reference included, fails the build after reporting all of them.

    Returns
    -------
    Path
        The HTML folder.

    Raises
    ------
    BookBuildError
        With the warnings and errors of the build when it fails.
    """
    source, output = Path(source), Path(output)
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(source),
           "--path-output", str(output)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    env = dict(os.environ)
    # Offline: no telemetry, no network fetches by widgets or the theme at build time.
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    logger.info("jupyter-book build %s -> %s", source, output / "_build" / "html")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    text = _strip_ansi(proc.stdout + "\n" + proc.stderr)
    for line in text.splitlines():
        if "WARNING" in line or "ERROR" in line:
            logger.warning("%s", line.strip())
        else:
            logger.debug("%s", line)
    if proc.returncode != 0:
        problems = [ln.strip() for ln in text.splitlines() if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
        tail = "\n".join(problems[-40:]) or "\n".join(text.splitlines()[-40:])
        raise BookBuildError(f"jupyter-book build of {source} failed (exit {proc.returncode}):\n{tail}")
    html_dir = output / "_build" / "html"
    if not (html_dir / "index.html").is_file():
        raise BookBuildError(f"jupyter-book build reported success but wrote no {html_dir / 'index.html'}")
    return html_dir


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# ============================================================================= staging
class _Stage:
    """Writes files under the staging folder only when their content changes,
    and removes, at the end, every file that was not written this time."""

    def __init__(self, root: Path):
        self.root = root
        self.written: set[str] = set()
        self.generated: list[str] = []

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write_bytes(self, rel: str, data: bytes, *, generated: bool = True) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_file() or p.read_bytes() != data:
            tmp = p.with_name(f".{p.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, p)
        self.written.add(rel)
        if generated:
            self.generated.append(rel)
        return p

    def write_text(self, rel: str, text: str, *, generated: bool = True) -> Path:
        return self.write_bytes(rel, text.encode("utf-8"), generated=generated)

    def copy(self, src: Path, rel: str) -> Path:
        return self.write_bytes(rel, src.read_bytes(), generated=False)

    def prune(self) -> None:
        for p in sorted(self.root.rglob("*"), reverse=True):
            rel = p.relative_to(self.root).as_posix()
            if p.is_file() and rel not in self.written:
                p.unlink()
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()


def stage_book(
    stage: str | Path,
    *,
    root: str | Path,
    results=None,
    datasets: Sequence[str] | None = None,
) -> list[str]:
    """Copy the hand-written sources into `stage` and render the generated pages.

    Parameters
    ----------
    stage : str or Path
        The staging folder (created; files not produced by this call are removed).
    root : str or Path
        The repository.
    results : bench.results.RunResults, optional
        The run to show; ``None`` renders the "no run yet" pages.
    datasets : sequence of str, optional
        Datasets to render (see :func:`build_book`).

    Returns
    -------
    list of str
        The generated files, relative to `stage`.
    """
    from .data import dataset_names

    stage, root = Path(stage), Path(root)
    if datasets is not None:
        datasets = list(datasets)
        if not datasets:
            raise ValueError("`datasets` must name at least one dataset (or be None for all)")
    st = _Stage(stage)
    for name in _SOURCES:
        src = root / name
        if src.is_file():
            st.copy(src, name)
        else:
            for p in sorted(src.rglob("*")):
                if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."):
                    st.copy(p, p.relative_to(root).as_posix())
    if not (root / "book" / "metrics.md").is_file():
        logger.warning("book/metrics.md is missing: the metrics chapter says so")
        st.write_text("book/metrics.md", "# Metrics\n\n```{warning}\nThe metrics chapter (`book/metrics.md`) is "
                      "missing from this checkout.\n```\n")

    names = list(dataset_names()) if datasets is None else datasets
    if results is not None and datasets is None and len(results.cells):
        known = set(names)
        for d in dict.fromkeys(results.cells["dataset"]):
            if d in known:
                continue
            if d.startswith("folder:"):
                names.append(d)
            else:
                logger.warning("run %s has results on %r, which is no longer a registered dataset; "
                               "they are left out of the book", results.run_id, d)
    names = [n for n in names if not n.startswith("folder:")] + [n for n in names if n.startswith("folder:")]

    ctx = _Context(stage=st, root=root, results=results, datasets=names)
    _render_dataset_pages(ctx)
    _render_methods_table(ctx)
    _render_intro(ctx)
    _render_leaderboards(ctx)
    _render_experiments(ctx)
    _stage_notebooks(ctx)
    st.prune()
    return st.generated


@dataclass
class _Context:
    stage: _Stage
    root: Path
    results: Any
    datasets: list[str]
    stats: dict[str, dict] = field(default_factory=dict)
    board: Any = None  # the leaderboard DataFrame of the run (all datasets)

    def card_doc(self, dataset: str) -> str:
        return f"/book/datasets/cards/{_slug(dataset)}"

    def board_doc(self, dataset: str) -> str:
        return f"/book/leaderboards/datasets/{_slug(dataset)}"

    def board_link(self, dataset: str) -> str:
        """A markdown link to the dataset's leaderboard, or its name when it has no page."""
        if dataset in self.datasets:
            return f"[`{dataset}`]({self.board_doc(dataset)})"
        return f"`{dataset}`"

    def card_link(self, dataset: str) -> str:
        if dataset in self.datasets and not dataset.startswith("folder:"):
            return f"[`{dataset}`]({self.card_doc(dataset)})"
        return f"`{dataset}`"


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    return s or "dataset"


# ============================================================================== images
def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    """A float RGB image in [0, 1] (:func:`bench.viz.composite`) as uint8."""
    return (np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def _downscale_factor(shape: tuple[int, int], max_side: int = _MAX_SIDE) -> int:
    return max(1, math.ceil(max(shape) / max_side))


def _shrink_rgb(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Block-average an RGB uint8 image by an integer `factor` (no aliasing of puncta)."""
    if factor == 1:
        return rgb
    y, x = (rgb.shape[0] // factor) * factor, (rgb.shape[1] // factor) * factor
    v = rgb[:y, :x].reshape(y // factor, factor, x // factor, factor, 3).astype(np.float32).mean(axis=(1, 3))
    return (v + 0.5).astype(np.uint8)


def _png_bytes(rgb: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _figure_png(fig, *, image_shape: tuple[int, int] | None = None, max_px: int = 900) -> bytes:
    """Render a :mod:`bench.viz` figure to PNG bytes and close it.

    When the figure shows an image of `image_shape`, the resolution is raised so that
    thin outlines survive (up to `max_px` pixels across the figure).
    """
    import io

    import matplotlib.pyplot as plt

    dpi = 110.0
    if image_shape is not None:
        width_in = fig.get_size_inches()[0]
        dpi = float(min(max(dpi, max(image_shape) / max(width_in, 1e-3)), max_px / max(width_in, 1e-3)))
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def _swatch(col) -> str:
    r, g, b = (int(255 * c + 0.5) for c in col)
    return f'<span class="bench-swatch" style="background: rgb({r}, {g}, {b})"></span>'


def _is_rgb(channels: Sequence[str]) -> bool:
    """Whether the channels are the planes of a merged colour image (shown as is)."""
    return tuple(c.lower() for c in channels) == ("red", "green", "blue")


def _channel_legend(channels: Sequence[str]) -> str:
    """Words for the colours :func:`bench.viz.composite` gives the channels."""
    from .viz import CHANNEL_COLORS

    if len(channels) == 1:
        return f"`{channels[0]}` in grey"
    if _is_rgb(channels):
        return "the merged colour image as distributed (its red, green and blue planes, scaled to the maximum)"
    parts = []
    for c in channels:
        col = CHANNEL_COLORS.get(c.lower())
        parts.append(f"{_swatch(col)}`{c}`" if col is not None else f"`{c}` (palette colour)")
    return ", ".join(parts)


# ======================================================================= dataset pages
def dataset_stats(name: str, *, progress: bool = False) -> dict:
    """Object and class counts per split of a dataset (loads every sample once).

    Returns
    -------
    dict
        ``{"splits": {split: {"images", "objects", "classes": {name: n},
        "pixels": {name: fraction}, "shapes": [[y, x], ...]}}, "rule", "sha256"}``.
        Only split sizes when the dataset is unavailable here.

    Examples
    --------
    >>> stats = dataset_stats("synth-lyso-easy")
    >>> [(k, v["images"]) for k, v in stats["splits"].items()]
    [('train', 24), ('val', 6), ('test', 10)]
    >>> sum(stats["splits"]["test"]["classes"].values()) == stats["splits"]["test"]["objects"]
    True
    """
    from .data import get_dataset
    from .splits import SPLITS, get_split, iter_split

    ds = get_dataset(name)
    sp = get_split(name)
    out: dict[str, Any] = {"rule": sp.rule, "sha256": sp.sha256, "splits": {}}
    available = ds.available
    for split in SPLITS:
        entry: dict[str, Any] = {"images": len(sp.ids(split))}
        if available:
            n_obj, classes, pixels, shapes = 0, {}, {}, set()
            n_pix = 0
            for s in iter_split(name, split, progress=progress):
                shapes.add(tuple(int(v) for v in s.shape))
                n_obj += s.n_objects
                if s.classes and ds.info.class_names:
                    for c in s.classes.values():
                        cname = ds.info.class_names[int(c)]
                        classes[cname] = classes.get(cname, 0) + 1
                if s.semantic is not None and ds.info.semantic_names:
                    counts = np.bincount(s.semantic.ravel(), minlength=len(ds.info.semantic_names))
                    for k, cname in enumerate(ds.info.semantic_names):
                        pixels[cname] = pixels.get(cname, 0) + int(counts[k])
                    n_pix += int(s.semantic.size)
            entry.update(objects=n_obj, classes=classes, shapes=sorted(list(s) for s in shapes))
            if n_pix:
                entry["pixels"] = {k: v / n_pix for k, v in pixels.items()}
        out["splits"][split] = entry
    return out


def _stats_cached(ctx: _Context, name: str) -> dict | None:
    """:func:`dataset_stats`, cached under ``_build/book-cache`` by data and code hash."""
    from .data import get_dataset
    from .splits import get_split

    if name in ctx.stats:
        return ctx.stats[name]
    try:
        ds = get_dataset(name)
        sp = get_split(name)
    except Exception as exc:  # noqa: BLE001 - a dataset without a split is shown without counts
        logger.warning("dataset %s: no split (%s); its card has no counts", name, exc)
        ctx.stats[name] = None
        return None
    key_parts = [name, sp.sha256, _data_code_hash()]
    if ds.available:
        key_parts.append(ds.fingerprint([*sp.train, *sp.val, *sp.test]))
    else:
        key_parts.append("unavailable")
    key = hashlib.sha256("|".join(key_parts).encode()).hexdigest()[:20]
    cache = ctx.stage.root.parent / "book-cache" / "datasets" / f"{_slug(name)}-{key}.json"
    if cache.is_file():
        stats = json.loads(cache.read_text())
    else:
        t = time.perf_counter()
        stats = dataset_stats(name)
        logger.info("counted objects of %s in %.1f s", name, time.perf_counter() - t)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".tmp")
        tmp.write_text(json.dumps(stats))
        os.replace(tmp, cache)
    ctx.stats[name] = stats
    return stats


def _data_code_hash() -> str:
    """Hash of the data layer's source code (so cached counts follow code changes)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted((here / "data").rglob("*.py")) + [here / "splits.py"]:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def _sample_figure(ctx: _Context, name: str, rel_dir: str, stem: str) -> tuple[list[str], str] | None:
    """Render the first test image of a dataset with :mod:`bench.viz`: one grey panel
    per channel, the composite, and the composite with the annotation drawn on it.
    Returns the staged image paths and the sample id (``None`` if unavailable)."""
    from .data import get_dataset
    from .splits import get_split
    from .viz import composite, show_truth

    ds = get_dataset(name)
    if not ds.available:
        return None
    sp = get_split(name)
    sid = (sp.test or sp.val or sp.train)[0]
    sample = ds.load(sid)
    factor = _downscale_factor(sample.shape)
    paths = []
    if len(sample.channels) > 1 and not _is_rgb(sample.channels):
        for k, ch in enumerate(sample.channels):
            grey = _shrink_rgb(_to_uint8(composite(sample.image[..., k : k + 1], (ch,))), factor)
            rel = f"{rel_dir}/{stem}-{_slug(ch)}.png"
            ctx.stage.write_bytes(rel, _png_bytes(grey))
            paths.append(rel)
    rel = f"{rel_dir}/{stem}-composite.png"
    ctx.stage.write_bytes(rel, _png_bytes(_shrink_rgb(_to_uint8(composite(sample)), factor)))
    paths.append(rel)
    if sample.labels is not None or sample.semantic is not None or sample.boxes is not None:
        names = ds.info.class_names or ds.info.semantic_names or None
        fig = show_truth(sample, class_names=names, title=f"{sid}: annotation")
        rel = f"{rel_dir}/{stem}-annotated.png"
        ctx.stage.write_bytes(rel, _figure_png(fig, image_shape=sample.shape))
        paths.append(rel)
    return paths, sid


def _render_dataset_pages(ctx: _Context) -> None:
    from tqdm.auto import tqdm

    from .data import get_dataset

    rows = []
    for name in tqdm(ctx.datasets, desc="book: dataset cards", leave=False, disable=None):
        if name.startswith("folder:"):
            continue
        ds = get_dataset(name)
        stats = _stats_cached(ctx, name)
        ctx.stage.write_text(f"book/datasets/cards/{_slug(name)}.md", _dataset_card(ctx, ds, stats))
        splits = (stats or {}).get("splits", {})
        rows.append(
            {
                "name": name,
                "target": ds.info.target,
                "tasks": ", ".join(ds.info.tasks),
                "channels": ", ".join(ds.info.channels),
                "images": "/".join(str(splits.get(k, {}).get("images", "?")) for k in ("train", "val", "test")),
                "objects": "/".join(str(splits.get(k, {}).get("objects", "–")) for k in ("train", "val", "test")),
                "source": ds.info.source,
                "available": "yes" if ds.available else "no",
            }
        )
    lines = [
        "## All datasets",
        "",
        "Images and annotated objects per split are train / validation / test; "
        "\"available\" refers to the machine that built this book.",
        "",
        "| Dataset | Target | Tasks | Channels | Images | Objects | Source | Available |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| [{r['name']}]({ctx.card_doc(r['name'])}) | {r['target']} | {r['tasks']} | {r['channels']} | "
            f"{r['images']} | {r['objects']} | {r['source']} | {r['available']} |"
        )
    ctx.stage.write_text("book/_generated/datasets_table.md", "\n".join(lines) + "\n")


_HOW_TO_GET = {
    "synthetic": (
        "Nothing to download: the images are generated on the fly, deterministically, from one seed per "
        "sample (the sample id). The same id gives the same image and ground truth on every machine."
    ),
    "mirror": (
        "A public dataset read from a local mirror (`$BENCH_SHARED_DATA/<folder>`, by default "
        "`../shared/data/` next to the repository). Download it from its source (link below) into that "
        "folder, keeping the file names."
    ),
    "download": "Downloaded from its public archive by `bench data fetch {name}` (resumable, checksummed).",
    "folder": "Your own folder of images and masks.",
}


def _dataset_card(ctx: _Context, ds, stats: dict | None) -> str:
    info = ds.info
    name = info.name
    out = [f"# {name}", ""]
    out += [
        f"**Target:** {info.target} · **tasks:** {', '.join(info.tasks)} · "
        f"**channels:** {', '.join(f'`{c}`' for c in info.channels)} · **source:** {info.source}",
        "",
        info.description.strip(),
        "",
    ]
    reason = ds.unavailable_reason()
    if reason is not None:
        out += ["```{note}", f"This dataset was not available on the machine that built this book: {reason}.", "```", ""]

    # sample images
    try:
        fig = _sample_figure(ctx, name, "book/datasets/cards/img", _slug(name))
    except Exception as exc:  # noqa: BLE001 - a broken sample must not hide the card; shown on the page
        logger.warning("dataset %s: could not render a sample image (%s)", name, exc)
        out += ["```{warning}", f"The sample image could not be rendered: {exc}", "```", ""]
        fig = None
    if fig is not None:
        paths, sid = fig
        out += ["## A test image", ""]
        channels = [p for p in paths if not p.endswith(("-composite.png", "-annotated.png"))]
        merged = [p for p in paths if p not in channels]
        for group in (channels, merged):
            if not group:
                continue
            out += [f"::::{{grid}} {len(group)}", ":gutter: 1", ":class-container: bench-gallery", ""]
            for p in group:
                label = Path(p).stem.removeprefix(_slug(name) + "-")
                out += [":::{grid-item}", f"```{{image}} /{p}", f":alt: {name} {sid} {label}", ":width: 100%", "```",
                        f"<small>{html.escape(label)}</small>", ":::", ""]
            out += ["::::", ""]
        out += [
            f"Test sample `{sid}`"
            + (", channel by channel in grey, then merged: " if channels else ", merged: ")
            + _channel_legend(info.channels)
            + ("" if _is_rgb(info.channels) else "; each channel stretched between its 1st and 99.8th percentile")
            + ". The last panel draws the annotation (outlines or boxes, coloured by class: see its legend).",
            "",
        ]

    # counts
    out += ["## Images and objects per split", ""]
    if stats is None:
        out += ["This dataset has no split file here, so no counts are shown.", ""]
    else:
        splits = stats["splits"]
        classes = sorted({c for s in splits.values() for c in s.get("classes", {})},
                         key=lambda c: list(info.class_names).index(c) if c in info.class_names else 99)
        pixels = [n for n in info.semantic_names if any(n in s.get("pixels", {}) for s in splits.values())]
        head = ["Split", "Images", "Objects", *[f"{c}" for c in classes], *[f"{p} (pixels)" for p in pixels]]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for split in ("train", "val", "test"):
            s = splits.get(split, {})
            cells = [split, str(s.get("images", "?")), str(s.get("objects", "–"))]
            cells += [str(s.get("classes", {}).get(c, 0)) for c in classes]
            cells += [f"{100 * s.get('pixels', {}).get(p, 0.0):.1f} %" for p in pixels]
            out.append("| " + " | ".join(cells) + " |")
        shapes = sorted({tuple(x) for s in splits.values() for x in s.get("shapes", [])})
        out += [""]
        if shapes:
            out += ["Image size(s): " + ", ".join(f"{y} x {x} px" for y, x in shapes) + "."]
        if info.pixel_size_um:
            out += [f" Pixel size: {info.pixel_size_um} µm."]
        out += ["", f"Split rule: {stats['rule']}. Split file `benchmark/splits/{name}.json`, "
                    f"SHA-256 `{stats['sha256'][:12]}…`.", ""]
        if reason is not None:
            out += ["Object counts need the data; only the split sizes are known here.", ""]

    # provenance
    out += ["## Provenance and terms", ""]
    out += [f"- **Citation:** {info.citation or 'none (generated by this project)'}"]
    out += [f"- **Licence / terms:** {info.license or 'see the source'}"]
    if info.url:
        out += [f"- **Source:** <{info.url}>"]
    out += ["", "## How to get it", "", _HOW_TO_GET.get(info.source, "").format(name=name), ""]
    out += [
        "```python",
        "from bench.splits import load_fit_data, load_test_images",
        f'train, val = load_fit_data("{name}")      # with annotations, for fitting',
        f'test = load_test_images("{name}")         # images only, for predicting',
        "```",
        "",
        f"Results on this dataset: [leaderboard]({ctx.board_doc(name)}).",
        "",
    ]
    return "\n".join(out)


# ======================================================================= methods table
def _method_family(cls) -> str:
    """``classical`` or ``deep``, from the package the method lives in."""
    mod = cls.__module__
    parts = mod.split(".")
    if "classical" in parts:
        return "classical"
    if any(p.startswith(("unet", "stardist", "cellpose", "sam")) for p in parts[2:]):
        return "deep"
    return "other"


def _render_methods_table(ctx: _Context) -> None:
    from .methods import method_class, method_names

    lines = ["## All registered methods", "",
             "Presets are named parameter settings of a method. \"Runs here\" refers to the machine that "
             "built this book: missing dependencies or pretrained weights are the usual reasons a method "
             "is skipped.", "",
             "| Method | Family | Tasks | Runs here | Reference |", "|---|---|---|---|---|"]
    for name in method_names():
        cls = method_class(name)
        missing = cls.missing_dependencies()
        here = "yes" if not missing else f"no: needs {', '.join(missing)}" + (f" (`bench[{cls.extra}]`)" if cls.extra else "")
        ref = (cls.reference or "").replace("|", "/")
        label = f"`{name}`" if name == cls.name else f"`{name}` (preset of `{cls.name}`)"
        lines.append(f"| {label} | {_method_family(cls)} | {', '.join(cls.tasks)} | {here} | {ref} |")
    if len(lines) == 6:
        lines.append("| (none registered) | | | | |")
    ctx.stage.write_text("book/_generated/methods_table.md", "\n".join(lines) + "\n")


# =========================================================================== the intro
def _render_intro(ctx: _Context) -> None:
    from .data import get_dataset

    for key, name, caption in _INTRO_FIGURES:
        out: list[str] = []
        try:
            ds = get_dataset(name)
            reason = ds.unavailable_reason()
            fig = None if reason else _sample_figure(ctx, name, "book/_generated/img", f"intro-{_slug(name)}")
        except Exception as exc:  # noqa: BLE001 - the figure is illustrative; the page says why it is missing
            logger.warning("intro figure from %s not rendered: %s", name, exc)
            reason, fig = str(exc), None
        if fig is None:
            out += ["```{note}", f"The illustration from `{name}` could not be rendered here: {reason}.", "```", ""]
        else:
            paths, sid = fig
            keep = [p for p in paths if p.endswith(("-composite.png", "-annotated.png"))]
            out += ["::::{grid} 2", ":gutter: 1", ""]
            for p in keep:
                out += [":::{grid-item}", f"```{{image}} /{p}", f":alt: {name} sample {sid}", ":width: 100%", "```",
                        ":::", ""]
            out += ["::::", "", f"*{caption}*", ""]
        ctx.stage.write_text(f"book/_generated/intro_{key}.md", "\n".join(out) + "\n")

    board = _board(ctx)
    lines = ["## Latest results", ""]
    if board is None:
        lines += _no_run_text()
    else:
        lines += [f"From run `{ctx.results.run_id}` ({_run_profile(ctx)}); the full tables are in "
                  "{doc}`/book/leaderboards/index`.", "",
                  "| Dataset | Best method | Score | 95% interval | Methods ok / run |", "|---|---|---|---|---|"]
        for ds_name, g in board.groupby("dataset", sort=True):
            ok = g[g["status"] == "ok"]
            best = ok.iloc[0] if len(ok) and _finite(ok.iloc[0]["score"]) else None
            if best is None:
                lines.append(f"| {ctx.board_link(ds_name)} | – | – | – | 0 / {len(g)} |")
                continue
            ci = (f"{best['f1_low']:.3f} – {best['f1_high']:.3f}" if _finite(best.get("f1_low")) else "–")
            lines.append(
                f"| {ctx.board_link(ds_name)} | `{best['method_id']}` | "
                f"{_score_name(best['task'])} {best['score']:.3f} | {ci} | {len(ok)} / {len(g)} |"
            )
    ctx.stage.write_text("book/_generated/headline.md", "\n".join(lines) + "\n")


def _no_run_text() -> list[str]:
    return [
        "```{important}",
        "**No benchmark run has been made yet**, so there are no results to show: this book was built "
        "without any run under `benchmark/runs/`. Nothing on these pages is a placeholder number.",
        "",
        "To make one and rebuild the book:",
        "",
        "    bench run benchmark/configs/quick.yaml",
        "    bench book",
        "",
        "or, on a fresh machine, `bash scripts/run.sh main`, which does both.",
        "```",
        "",
    ]


# ====================================================================== leaderboards
def _board(ctx: _Context):
    """The leaderboard DataFrame of the run (all datasets), or None without a run."""
    if ctx.results is None or not len(ctx.results.cells):
        return None
    if ctx.board is None:
        from .leaderboard import leaderboard

        board = leaderboard(ctx.results)
        if "method" not in board.columns:
            names = ctx.results.cells.drop_duplicates("method_id").set_index("method_id")["method"]
            board = board.assign(method=board["method_id"].map(names))
        ctx.board = board
    return ctx.board


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _score_name(task: str) -> str:
    return {"semantic": "mIoU", "instance": "F1@0.5", "detection": "box F1@0.5"}.get(str(task), "score")


def _fmt_num(v, digits: int = 3) -> str:
    return f"{float(v):.{digits}f}" if _finite(v) else "–"


def _fmt_seconds(v) -> str:
    if not _finite(v):
        return "–"
    s = float(v)
    if s < 1e-3:
        return "< 1 ms"
    if s < 1:
        return f"{1000 * s:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(round(s % 60))} s"
    return f"{s / 3600:.1f} h"


def _fmt_mem(v) -> str:
    return f"{float(v):,.0f} MiB" if _finite(v) else "–"


def _status_badge(status: str) -> str:
    kind = str(status).split()[0] if status else "unknown"
    cls = {"ok": "ok", "skipped": "skipped"}.get(kind, "failed")
    return f'<span class="bench-status {cls}">{html.escape(str(status))}</span>'


def _run_profile(ctx: _Context) -> str:
    cfg = ctx.results.manifest.get("config") or {}
    prof = cfg.get("profile") or ",".join(sorted({str(p) for p in ctx.results.cells["profile"].dropna()}))
    return f"profile `{prof}`"


@dataclass(frozen=True)
class _Col:
    """A column of an HTML table: header, tooltip, value -> (html, sort key)."""

    header: str
    cell: Callable[[Mapping[str, Any]], tuple[str, str]]
    title: str = ""
    text: bool = False
    sort: bool = True
    wrap: bool = False


def _num_cell(key: str, fmt: Callable[[Any], str] = _fmt_num) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    def cell(r):
        v = r.get(key)
        return (fmt(v), f"{float(v):.6g}") if _finite(v) else ("–", "")
    return cell


def _html_table(cols: Sequence[_Col], rows: Sequence[Mapping[str, Any]], *, table_id: str,
                row_class: Callable[[Mapping[str, Any]], str] | None = None, sortable: bool = True) -> str:
    head = []
    for c in cols:
        cls = " ".join(x for x in ("text" if c.text else "", "" if c.sort else "no-sort") if x)
        attrs = (f' class="{cls}"' if cls else "") + (f' title="{html.escape(c.title)}"' if c.title else "")
        head.append(f"<th{attrs}>{c.header}</th>")
    body = []
    for r in rows:
        tds = []
        for c in cols:
            text, key = c.cell(r)
            names = " ".join(n for n, on in (("text", c.text), ("wrap", c.wrap)) if on)
            cls = f' class="{names}"' if names else ""
            tds.append(f'<td{cls} data-sort="{html.escape(key)}">{text}</td>')
        rc = row_class(r) if row_class else ""
        body.append(f'<tr{f" class={chr(34)}{rc}{chr(34)}" if rc else ""}>' + "".join(tds) + "</tr>")
    classes = "bench-table sortable" if sortable else "bench-table"
    return (f'<div class="bench-table-wrap bench-wide"><table class="{classes}" id="{table_id}">'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _raw(htm: str) -> list[str]:
    return ["```{raw} html", htm, "```", ""]


def _rel(from_doc_dir: str, target: str) -> str:
    """Relative URL from the HTML page of a document in `from_doc_dir` to `target` (both staging-relative)."""
    return posixpath.relpath(target, from_doc_dir)


def _run_banner(ctx: _Context) -> list[str]:
    m = ctx.results.manifest
    cfg = m.get("config") or {}
    git = m.get("git") or {}
    hw = m.get("hardware") or {}
    cells = ctx.results.cells
    counts = cells["status"].value_counts().to_dict() if len(cells) else {}
    sha = str(git.get("sha") or "unknown")
    hw_text = ", ".join(f"{k} {v}" for k, v in hw.items() if v not in (None, "", [])) or "not recorded"
    pk = m.get("packages") or {}
    pk_rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in sorted(pk.items()))
    parts = [
        f"<b>Run</b> <code>{html.escape(ctx.results.run_id)}</code>",
        f"configuration <code>{html.escape(str(cfg.get('name', m.get('config_path', '?'))))}</code>"
        f" (<code>{html.escape(str(m.get('config_path', '')))}</code>, hash <code>{html.escape(str(m.get('config_hash', ''))[:12])}</code>)",
        f"profile <code>{html.escape(str(cfg.get('profile', '?')))}</code>, seeds {html.escape(str(cfg.get('seeds', '?')))},"
        f" split <code>{html.escape(str(cfg.get('split', 'test')))}</code>",
        f"git <code>{html.escape(sha[:12])}</code>{' (with uncommitted changes)' if git.get('dirty') else ''},"
        f" code version <code>{html.escape(str(m.get('code_version', ''))[:12])}</code>",
        f"hardware: {html.escape(hw_text)}",
        f"created {html.escape(str(m.get('created', '?')))}, updated {html.escape(str(m.get('updated', '?')))}",
        "cells: " + ", ".join(f"{v} {html.escape(str(k))}" for k, v in sorted(counts.items())),
    ]
    details = (f"<details><summary>Package versions ({len(pk)})</summary><table class=\"bench-table\">"
               f"<tbody>{pk_rows}</tbody></table></details>") if pk else ""
    return _raw('<div class="bench-run">' + "<br/>".join(parts) + details + "</div>")


def _render_leaderboards(ctx: _Context) -> None:
    from tqdm.auto import tqdm

    board = _board(ctx)
    idx = [*_WIDE, "# Leaderboards", ""]
    if board is None:
        idx += _no_run_text()
        idx += ["Each dataset still has its page below, so links stay stable; they too say that no run "
                "has been made.", ""]
        for name in ctx.datasets:
            ctx.stage.write_text(f"book/leaderboards/datasets/{_slug(name)}.md",
                                 "\n".join([f"# {name}", "", *_no_run_text(),
                                            f"About the data: {ctx.card_link(name)}.", ""]))
        ctx.stage.write_text("book/leaderboards/index.md", "\n".join(idx))
        return

    idx += [
        "Every table on these pages is generated from the raw counts of the run below by "
        "`bench book` (through `bench.leaderboard`); none is edited by hand. Scores are pooled over "
        "the test images (counts summed, then ratios) and come with 95% bootstrap intervals over "
        "images. A method that could not run is listed as *skipped* with its reason, one that crashed "
        "or ran out of time as *failed* or *timeout*, with the error.",
        "",
    ]
    idx += _run_banner(ctx)
    idx += ["## Methods at a glance", "",
            "One row per method in the run. *Rank* is the method's rank on each dataset where it ran (1 = "
            "best); the median is over those datasets. Click a header to sort.", ""]
    idx += _raw(_glance_table(board))
    idx += ["## Datasets", ""]
    idx += ["| Dataset | Task | Best method | Score | Methods ok / in run |", "|---|---|---|---|---|"]
    in_run = set(board["dataset"])
    for name in ctx.datasets:
        if name not in in_run:
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | – | not in this run | – | 0 / 0 |")
            continue
        g = board[board["dataset"] == name]
        ok = g[(g["status"] == "ok") & g["score"].map(_finite)]
        if len(ok):
            b = ok.iloc[0]
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | {b['task']} | `{b['method_id']}` | "
                       f"{_score_name(b['task'])} {b['score']:.3f} | {len(ok)} / {len(g)} |")
        else:
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | – | none succeeded | – | 0 / {len(g)} |")
    idx += [""]
    figs = _overview_pareto(ctx, board)
    if figs:
        n_panels = sum(1 for _, g in board.groupby("dataset") if len(_ok_points(g)))
        idx += ["## Accuracy against cost", "",
                "Each panel is one dataset: the primary score of each method that ran (F1 at IoU 0.5, or mean "
                "IoU over foreground classes for pixel-wise datasets) against its prediction time per image, "
                "on a log scale. Methods on the step line are Pareto-optimal: no other method is both faster "
                "and more accurate.", ""]
        idx += [f"```{{figure}} /{figs}", ":alt: accuracy against prediction time, per dataset",
                f":width: {min(100, 40 * min(3, n_panels))}%",
                "", "Score against prediction time per image, per dataset (Pareto front: step line).", "```", ""]
    skipped = ctx.results.cells[ctx.results.cells["status"] != "ok"]
    if len(skipped):
        idx += ["## Cells that did not produce scores", "",
                "Grouped by reason; the leaderboard of each dataset lists them too.", ""]
        rows = []
        for (status, reason), g in skipped.groupby(["status", "reason"], dropna=False, sort=True):
            rows.append({"status": status, "reason": reason if isinstance(reason, str) else "",
                         "cells": ", ".join(f"{m} on {d}" for m, d in zip(g["method_id"], g["dataset"]))})
        cols = [_Col("Status", lambda r: (_status_badge(r["status"]), r["status"]), text=True),
                _Col("Reason", lambda r: (html.escape(_short(r["reason"], 300)), r["reason"]), text=True, wrap=True),
                _Col("Method on dataset", lambda r: (html.escape(r["cells"]), r["cells"]), text=True, wrap=True)]
        idx += _raw(_html_table(cols, rows, table_id="not-scored"))
    ctx.stage.write_text("book/leaderboards/index.md", "\n".join(idx))

    for name in tqdm(ctx.datasets, desc="book: leaderboards", leave=False, disable=None):
        ctx.stage.write_text(f"book/leaderboards/datasets/{_slug(name)}.md", _dataset_board(ctx, board, name))


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _glance_table(board) -> str:
    rows = []
    for mid, g in board.groupby("method_id", sort=True):
        ok = g[g["status"] == "ok"]
        ranks = [float(r) for r in ok["rank"] if r is not None and not (isinstance(r, float) and math.isnan(r)) and str(r) != "<NA>"]
        wins = sum(1 for r in ranks if r == 1)
        rows.append({
            "method_id": mid,
            "ok": len(ok),
            "skipped": int((g["status"] == "skipped").sum()),
            "failed": int((~g["status"].isin(["ok", "skipped"])).sum()),
            "median_rank": float(np.median(ranks)) if ranks else float("nan"),
            "wins": wins,
            "datasets": ", ".join(sorted(ok["dataset"])),
            "fit_s": float(np.nanmedian(ok["fit_s"].astype(float))) if len(ok) and ok["fit_s"].notna().any() else float("nan"),
            "predict_s": float(np.nanmedian(ok["predict_s_per_image"].astype(float))) if len(ok) and ok["predict_s_per_image"].notna().any() else float("nan"),
        })
    cols = [
        _Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True),
        _Col("Datasets ok", _num_cell("ok", lambda v: str(int(v))), "datasets with scores"),
        _Col("Skipped", _num_cell("skipped", lambda v: str(int(v)))),
        _Col("Failed", _num_cell("failed", lambda v: str(int(v))), "failed or timed out"),
        _Col("Median rank", _num_cell("median_rank", lambda v: f"{float(v):g}"), "1 = best on a dataset"),
        _Col("Wins", _num_cell("wins", lambda v: str(int(v))), "datasets where it ranks first"),
        _Col("Median fit", _num_cell("fit_s", _fmt_seconds), "median training time over datasets"),
        _Col("Median predict / image", _num_cell("predict_s", _fmt_seconds)),
        _Col("Scored on", lambda r: (html.escape(r["datasets"]) or "–", r["datasets"]), text=True, wrap=True),
    ]
    return _html_table(cols, rows, table_id="methods-at-a-glance")


#: Front matter of the wide pages: no right-hand sidebar, so the tables get the room.
_WIDE = ["---", "html_theme.sidebar_secondary.remove: true", "---", ""]


def _dataset_board(ctx: _Context, board, name: str) -> str:
    from .data import get_dataset

    doc_dir = "book/leaderboards/datasets"
    out = [*_WIDE, f"# {name}", ""]
    g = board[board["dataset"] == name].copy()
    try:
        info = get_dataset(name).info
    except Exception:  # noqa: BLE001 - a dataset of an old run may no longer be registered
        info = None
    if not len(g):
        out += ["```{note}", f"Dataset `{name}` is not part of run `{ctx.results.run_id}`: its configuration "
                "did not include it. The nightly configuration covers every dataset.", "```", ""]
        out += [f"About the data: {ctx.card_link(name)}.", ""]
        return "\n".join(out)
    task = next((t for t in g["task"] if t), "")
    n_img = next((int(v) for v in g["n_images"] if _finite(v)), None)
    out += [f"Task **{task or '?'}**, scored on the `{_split_of(ctx, name)}` split"
            + (f" ({n_img} images)" if n_img else "") + f"; about the data: {ctx.card_link(name)}. "
            f"Run `{ctx.results.run_id}`, {_run_profile(ctx)}; its provenance is on "
            "{doc}`the leaderboards' front page </book/leaderboards/index>`.", ""]
    out += ["## Leaderboard", "",
            "Sorted by the primary score (" + _score_name(task) + "); click any header to re-sort. "
            "Intervals are 95% bootstrap intervals over test images. Times are wall-clock on the machine "
            "of the run; memory is the peak resident memory of the process that ran the notebook.", ""]
    rows = [dict(r) for _, r in g.iterrows()]
    nb_links = _stage_cell_notebooks(ctx, name, doc_dir)
    for r in rows:
        r["_nb"] = nb_links.get(r["method_id"], "")
    out += _raw(_main_table(rows, task, name))

    sem_long = _semantic_long(ctx, name, info)
    if sem_long is not None:
        out += ["## Per-class IoU", "", "IoU of each pixel class, confusion counts pooled over the test images.", ""]
        out += _raw(_per_class_table(_pivot_classes(sem_long, "iou"), "per-class-iou"))
    cls_long = _classification_long(ctx, name, info)
    if cls_long is not None:
        out += ["## Per-class F1", "",
                "How well the objects found are classified: among the true objects matched at IoU ≥ 0.5, the "
                "one-vs-rest F1 of each class (precision and recall of predicting that class). The overall "
                "accuracy is the *Class acc.* column of the leaderboard.", ""]
        out += _raw(_per_class_table(_pivot_classes(cls_long, "f1"), "per-class-f1"))
    long = sem_long if sem_long is not None else cls_long
    fig = _per_class_figure(ctx, long, name, "iou" if sem_long is not None else "f1")
    if fig:
        what = "IoU" if sem_long is not None else "F1"
        out += [f"```{{figure}} /{fig}", f":alt: per-class {what} on {name}", ":width: 50%", "",
                f"Per-class {what} of each method.", "```", ""]

    match_rows = _match_rows(ctx, name)
    if match_rows is not None:
        from .results import ap_sweep

        sweep = ap_sweep(match_rows, by=("method_id",))
        out += ["## AP sweep", "",
                "TP / (TP + FP + FN) at each IoU threshold from 0.50 to 0.95, counts pooled over images. It is "
                "the quantity Cellpose calls \"average precision\" and StarDist \"accuracy\", not COCO's AP "
                "(see {doc}`/book/metrics`). The last column is its mean over the ten thresholds.", ""]
        out += _raw(_sweep_table(sweep))
        fig = _sweep_figure(ctx, match_rows, name)
        if fig:
            out += [f"```{{figure}} /{fig}", f":alt: AP sweep on {name}", ":width: 50%", "",
                    "TP / (TP + FP + FN) against the IoU threshold (0.1 to 0.95).", "```", ""]
        fig = _distribution_figure(ctx, match_rows, name, task)
        if fig:
            out += ["## Per-image scores", "",
                    "The pooled score hides how much it varies from image to image; each dot is one test image "
                    "(F1 at IoU 0.5).", "", f"```{{figure}} /{fig}", f":alt: per-image F1 on {name}", ":width: 50%",
                    "", "F1 at IoU 0.5 of each test image, per method.", "```", ""]

    fig = _pareto_figure(ctx, g, name)
    if fig:
        out += ["## Accuracy against cost", "",
                "Left: score against training time; right: against prediction time per image (log scales). "
                "The step line joins the Pareto front: no method is both cheaper and better than a method on it. "
                "Methods with no recorded time (below the timer's resolution) are left out of a panel.",
                "", f"```{{figure}} /{fig}", f":alt: accuracy against time on {name}", ":width: 100%", "",
                "Accuracy against cost.", "```", ""]

    out += _gallery(ctx, g, name, info)

    out += ["## Provenance", "",
            "Where each row comes from: the cell (one method, dataset and seed, executed as one notebook), "
            "the commit and code version that ran it, the machine and the training budget. Package versions "
            "and hardware of the run are on {doc}`the front page </book/leaderboards/index>`.", ""]
    out += _raw(_provenance_table(ctx, name, nb_links))
    return "\n".join(out)


def _split_of(ctx: _Context, name: str) -> str:
    c = ctx.results.cells
    s = c[c["dataset"] == name]["split"].dropna()
    return str(s.iloc[0]) if len(s) else "test"


def _status_cell(r: Mapping[str, Any]) -> tuple[str, str]:
    """The status badge, with the reason under it when the method has no score."""
    reason = str(r.get("reason") or "")
    text = _status_badge(r["status"])
    if reason and r["status"] != "ok":
        text += f'<span class="reason" title="{html.escape(reason)}">{html.escape(_short(reason, 240))}</span>'
    return text, str(r["status"])


def _main_table(rows: list[dict], task: str, dataset: str) -> str:
    def method_cell(r):
        mid = html.escape(str(r["method_id"]))
        link = f' <a class="bench-nb" href="{html.escape(r["_nb"])}" title="executed notebook">notebook</a>' if r.get("_nb") else ""
        return f"<code>{mid}</code>{link}", str(r["method_id"])

    def score_cell(key: str, low: str | None = None, high: str | None = None):
        def cell(r):
            v = r.get(key)
            if not _finite(v):
                return "–", ""
            text = f"{float(v):.3f}"
            if low and _finite(r.get(low)) and _finite(r.get(high)):
                text += f'<span class="ci">[{float(r[low]):.3f}, {float(r[high]):.3f}]</span>'
            return text, f"{float(v):.6g}"
        return cell

    def has(key):
        return any(_finite(r.get(key)) for r in rows)

    cols = [
        _Col("#", lambda r: (str(r["rank"]) if _finite(r.get("rank")) else "–",
                             f"{float(r['rank']):g}" if _finite(r.get("rank")) else ""), "rank by the primary score"),
        _Col("Method", method_cell, text=True),
        _Col("Status", _status_cell, "ok, or why the method has no score", text=True),
    ]
    if task == "semantic":
        cols.append(_Col("mIoU", score_cell("miou"), "mean IoU over the foreground pixel classes"))
    else:
        label = "Box F1@0.5" if task == "detection" else "F1@0.5"
        cols += [
            _Col(label, score_cell("f1", "f1_low", "f1_high"), "F1 at IoU 0.5, pooled; 95% bootstrap interval"),
            _Col("Precision", score_cell("precision")),
            _Col("Recall", score_cell("recall")),
            _Col("Mean IoU", score_cell("mean_iou"), "mean IoU of the objects matched at IoU 0.5"),
            _Col("AP 0.5:0.95", score_cell("ap_dsb"), "TP/(TP+FP+FN) averaged over IoU 0.50:0.05:0.95 (not COCO AP)"),
        ]
    for key, label, title in (("class_accuracy", "Class acc.", "accuracy of the class of matched objects"),
                              ("count_mae", "Count MAE", "mean absolute error of the object count per image"),
                              ("occupancy_mae", "Occup. MAE", "mean absolute error of the occupancy (fraction loaded) per image")):
        if has(key):
            cols.append(_Col(label, score_cell(key), title))
    cols += [
        _Col("Fit", _num_cell("fit_s", _fmt_seconds), "training / tuning wall time (median over seeds)"),
        _Col("Predict/img", _num_cell("predict_s_per_image", _fmt_seconds), "median prediction time per image"),
        _Col("Memory", _num_cell("peak_mem_mb", _fmt_mem), "peak resident memory of the notebook process"),
    ]

    def row_class(r):
        kind = str(r["status"]).split()[0]
        best = " best" if _finite(r.get("rank")) and float(r["rank"]) == 1 else ""
        return f"status-{kind}{best}"

    return _html_table(cols, rows, table_id=f"leaderboard-{_slug(dataset)}", row_class=row_class)


def _rows_of(ctx: _Context, table: str, name: str):
    df = ctx.results.rows[table]
    return df[df["dataset"] == name] if len(df) else df


def _semantic_long(ctx: _Context, name: str, info):
    """Per-method, per-class IoU (:func:`bench.results.semantic_scores`), or None."""
    from .results import semantic_scores

    df = _rows_of(ctx, "semantic", name)
    if not len(df):
        return None
    names = info.semantic_names if info is not None else None
    return semantic_scores(df, class_names=names, by=("method_id",))


def _classification_long(ctx: _Context, name: str, info):
    """Per-method, per-class one-vs-rest scores (:func:`bench.results.classification_scores`), or None."""
    from .results import classification_scores

    df = _rows_of(ctx, "classification", name)
    if not len(df):
        return None
    names = info.class_names if info is not None else None
    s = classification_scores(df, class_names=names, by=("method_id",))
    s = s[s["class_name"] != "all"]
    return s if len(s) else None


def _pivot_classes(s, key: str) -> list[dict]:
    rows = []
    for mid, g in s.groupby("method_id", sort=True):
        r = {"method_id": mid, "_classes": {}}
        for _, x in g.iterrows():
            r["_classes"][str(x["class_name"])] = float(x[key])
        rows.append(r)
    return rows


def _per_class_table(rows: list[dict], table_id: str) -> str:
    classes = list(dict.fromkeys(c for r in rows for c in r["_classes"]))
    cols = [_Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True)]
    for c in classes:
        cols.append(_Col(html.escape(c), (lambda c_: lambda r: (_fmt_num(r["_classes"].get(c_)),
                                                                  f"{r['_classes'][c_]:.6g}" if _finite(r["_classes"].get(c_)) else ""))(c)))
    return _html_table(cols, rows, table_id=table_id)


def _match_rows(ctx: _Context, name: str):
    """The ``instance`` (else ``detection``) rows of a dataset, or None."""
    for table in ("instance", "detection"):
        df = _rows_of(ctx, table, name)
        if len(df):
            return df
    return None


def _sweep_table(sweep) -> str:
    thresholds = sorted(set(float(t) for t in sweep["threshold"]))
    rows = []
    for mid, g in sweep.groupby("method_id", sort=True):
        vals = {float(t): float(v) for t, v in zip(g["threshold"], g["ap_dsb"])}
        rows.append({"method_id": mid, "_v": vals, "mean": float(np.mean(list(vals.values())))})
    rows.sort(key=lambda r: -r["mean"] if _finite(r["mean"]) else 1)
    cols = [_Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True)]
    for t in thresholds:
        cols.append(_Col(f"{t:.2f}", (lambda t_: lambda r: (_fmt_num(r["_v"].get(t_)),
                                                            f"{r['_v'][t_]:.6g}" if _finite(r["_v"].get(t_)) else ""))(t)))
    cols.append(_Col("Mean", _num_cell("mean"), "mean over the thresholds"))
    return _html_table(cols, rows, table_id="ap-sweep")


# ------------------------------------------------------------------------------ figures
def _save_figure(ctx: _Context, fig, rel: str) -> str:
    ctx.stage.write_bytes(rel, _figure_png(fig))
    return rel


def _ok_points(g):
    return g[(g["status"] == "ok") & g["score"].map(_finite)]


def _pareto_figure(ctx: _Context, g, name: str) -> str | None:
    """Score against training and prediction time (:func:`bench.viz.pareto`)."""
    import matplotlib.pyplot as plt

    from .viz import pareto

    ok = _ok_points(g)
    if not len(ok):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, x in zip(axes, ("fit_s", "predict_s_per_image")):
        pts = ok[ok[x].map(_finite) & (pd_to_float(ok[x]) > 0)]
        if len(pts):
            pareto(pts.drop(columns=["dataset"]), x=x, ax=ax)
        else:
            ax.text(0.5, 0.5, f"no {x.replace('_', ' ')} > 0 recorded", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
        ax.set_ylabel(_score_name(next((t for t in g["task"] if t), "")))
        ax.set_ylim(-0.02, 1.02)
        # less than a decade of times: only minor ticks are labelled, keep them legible
        ax.tick_params(axis="x", which="both", labelsize=7, labelrotation=30)
    fig.suptitle(name, fontsize=10)
    fig.tight_layout()
    return _save_figure(ctx, fig, f"book/leaderboards/datasets/img/{_slug(name)}-pareto.png")


def pd_to_float(series):
    """A pandas Series as floats (non-numbers become NaN)."""
    import pandas as pd

    return pd.to_numeric(series, errors="coerce")


def _overview_pareto(ctx: _Context, board) -> str | None:
    """Small multiples of :func:`bench.viz.pareto`, one panel per dataset."""
    import matplotlib.pyplot as plt

    from .viz import pareto

    groups = []
    for d, g in board.groupby("dataset", sort=True):
        ok = _ok_points(g)
        ok = ok[pd_to_float(ok["predict_s_per_image"]) > 0]
        if len(ok):
            groups.append((d, ok))
    if not groups:
        return None
    ncols = min(3, len(groups))
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (d, ok) in zip(axes.ravel(), groups):
        ax.set_axis_on()
        pareto(ok.drop(columns=["dataset"]), x="predict_s_per_image", ax=ax)
        ax.set_title(d, fontsize=9)
        ax.set_xlabel("prediction time per image (s)", fontsize=8)
        ax.set_ylabel(_score_name(next((t for t in ok["task"] if t), "")), fontsize=8)
        ax.set_ylim(-0.02, 1.02)
    fig.tight_layout()
    return _save_figure(ctx, fig, "book/leaderboards/img/pareto-overview.png")


def _per_class_figure(ctx: _Context, df, name: str, value: str) -> str | None:
    """:func:`bench.viz.per_class_bars` of a per-class score table."""
    from .viz import per_class_bars

    if df is None or not len(df):
        return None
    fig = per_class_bars(df, value=value)
    return _save_figure(ctx, fig, f"book/leaderboards/datasets/img/{_slug(name)}-per-class.png")


def _sweep_figure(ctx: _Context, rows, name: str) -> str | None:
    """:func:`bench.viz.threshold_curve` of TP / (TP + FP + FN) against the IoU threshold."""
    from .viz import threshold_curve

    if rows is None or not len(rows):
        return None
    fig = threshold_curve(rows, score="ap_dsb")
    return _save_figure(ctx, fig, f"book/leaderboards/datasets/img/{_slug(name)}-ap-sweep.png")


def _distribution_figure(ctx: _Context, rows, name: str, task: str) -> str | None:
    """:func:`bench.viz.score_distribution` of per-image scores, one strip per method."""
    from .viz import score_distribution

    if rows is None or not len(rows) or task == "semantic":
        return None
    fig = score_distribution(rows, score="f1", threshold=0.5)
    return _save_figure(ctx, fig, f"book/leaderboards/datasets/img/{_slug(name)}-per-image.png")


# ------------------------------------------------------------------------------ gallery
def _gallery(ctx: _Context, g, name: str, info) -> list[str]:
    """Overlays (:func:`bench.viz.overlay`) of the best and worst test images of the best method."""
    ok = _ok_points(g)
    out = ["## Best and worst test images", ""]
    if not len(ok):
        return out + ["No method produced scores on this dataset, so there is nothing to show.", ""]
    best = ok.iloc[0]
    mid = str(best["method_id"])
    task = str(best["task"])
    cells = ctx.results.cells
    cell = cells[(cells["dataset"] == name) & (cells["method_id"] == mid) & (cells["status"] == "ok")]
    if not len(cell):
        return out + ["The cell of the best method is missing from the run.", ""]
    cell = cell.sort_values("seed").iloc[0]
    per_image = _per_image_scores(ctx, name, mid, cell["seed"], task)
    if not per_image:
        return out + ["The run holds no per-image scores for the best method.", ""]
    try:
        from .data import get_dataset

        ds = get_dataset(name)
        reason = ds.unavailable_reason()
    except Exception as exc:  # noqa: BLE001 - an old run's dataset may no longer be registered
        ds, reason = None, str(exc)
    if reason is not None:
        return out + [f"The images of `{name}` are not available on the machine that built this book ({reason}).", ""]
    pred_dir = Path(ctx.results.path) / "cells" / str(cell["cell_id"]) / "predictions"
    ranked = sorted(per_image.items(), key=lambda kv: (-kv[1], kv[0]))
    n = min(2, len(ranked) // 2) if len(ranked) > 1 else 1
    picks = [("best", k, v) for k, v in ranked[:n]] + [("worst", k, v) for k, v in ranked[::-1][:n]]
    score = _score_name(task)
    items = []
    for kind, image, value in picks:
        pred_path = pred_dir / f"{image}.tif"
        if not pred_path.is_file():
            logger.warning("no saved prediction %s", pred_path)
            continue
        try:
            rel = _overlay_image(ctx, ds, image, pred_path, f"{_slug(name)}-{kind}-{_slug(image)}")
        except Exception as exc:  # noqa: BLE001 - logged; the page says which overlays are missing
            logger.warning("overlay of %s/%s failed: %s", name, image, exc)
            continue
        items.append((kind, image, value, rel))
    if not items:
        return out + ["The run did not save the predicted label images needed for the overlays.", ""]
    out += [f"The best method here, `{mid}` (seed {cell['seed']}), on its best and worst test images by per-image "
            f"{score}. " + _overlay_legend(task), ""]
    out += ["::::{grid} 2", ":gutter: 2", ""]
    for kind, image, value, rel in items:
        out += [":::{grid-item}", f"```{{image}} /{rel}", f":alt: {kind} image {image} with {mid}", ":width: 100%",
                "```", f"**{kind}**: `{image}`, {score} {value:.3f}", ":::", ""]
    out += ["::::", ""]
    return out


def _overlay_legend(task: str) -> str:
    from .viz import MATCH_COLORS

    if task == "semantic":
        return "Each panel shows the image, the true pixel classes and the predicted ones."
    what = "boxes" if task == "detection" else "outlines"
    return (f"Colours of the {what}: {_swatch(MATCH_COLORS['tp'])}true positive (matched at IoU ≥ 0.5), "
            f"{_swatch(MATCH_COLORS['fn'])}false negative (a missed true object), "
            f"{_swatch(MATCH_COLORS['fp'])}false positive (a prediction without a match).")


def _per_image_scores(ctx: _Context, name: str, mid: str, seed, task: str) -> dict[str, float] | None:
    from .results import match_scores, semantic_scores

    if task in ("instance", "detection"):
        df = _rows_of(ctx, task, name)
        df = df[(df["method_id"] == mid) & (df["seed"] == seed)]
        if not len(df):
            return None
        s = match_scores(df, threshold=0.5, by=("image",))
        return {str(i): float(v) for i, v in zip(s["image"], s["f1"]) if _finite(v)}
    if task == "semantic":
        df = _rows_of(ctx, "semantic", name)
        df = df[(df["method_id"] == mid) & (df["seed"] == seed)]
        if not len(df):
            return None
        s = semantic_scores(df, by=("image",))
        s = s[s["class_id"] > 0]
        return {str(i): float(v.mean()) for i, v in s.groupby("image")["iou"]}
    return None


def _overlay_image(ctx: _Context, ds, image: str, pred_path: Path, stem: str) -> str:
    """Stage the :func:`bench.viz.overlay` of a test image and its saved prediction."""
    import tifffile

    from .viz import overlay

    sample = ds.load(image)
    pred = np.asarray(tifffile.imread(pred_path))
    if pred.shape != sample.shape:
        raise ValueError(f"{pred_path}: predicted labels of shape {pred.shape} for an image of shape {sample.shape}")
    names = ds.info.semantic_names or None
    fig = overlay(sample, pred.astype(np.int32), class_names=names)
    rel = f"book/leaderboards/datasets/img/{stem}.png"
    ctx.stage.write_bytes(rel, _figure_png(fig, image_shape=sample.shape))
    return rel


# ---------------------------------------------------------------------------- provenance
def _stage_cell_notebooks(ctx: _Context, name: str, doc_dir: str) -> dict[str, str]:
    """Copy the executed notebook of every ok cell of a dataset into ``_static`` (for
    download) and return method_id -> relative link (first seed)."""
    cells = ctx.results.cells
    links: dict[str, str] = {}
    sel = cells[(cells["dataset"] == name)].sort_values(["method_id", "seed"])
    for _, c in sel.iterrows():
        nb = _path_or_none(c.get("notebook_path"))
        if nb is None or not nb.is_file():
            continue
        rel = f"book/_static/runs/{_slug(ctx.results.run_id)}/{_slug(str(c['cell_id']))}.ipynb"
        ctx.stage.write_bytes(rel, Path(nb).read_bytes())
        links.setdefault(str(c["method_id"]), _rel(doc_dir, "_static/" + rel.removeprefix("book/_static/")))
        links[f"cell:{c['cell_id']}"] = _rel(doc_dir, "_static/" + rel.removeprefix("book/_static/"))
    return links


def _path_or_none(value) -> Path | None:
    """A path from a results column (``None``/NaN/empty: ``None``)."""
    return Path(value) if isinstance(value, (str, os.PathLike)) and str(value) else None


def _provenance_table(ctx: _Context, name: str, links: Mapping[str, str]) -> str:
    cells = ctx.results.cells
    sel = cells[cells["dataset"] == name].sort_values(["method_id", "seed"])
    rows = [dict(r) for _, r in sel.iterrows()]

    def nb_cell(r):
        link = links.get(f"cell:{r['cell_id']}")
        return (f'<a href="{html.escape(link)}">executed notebook</a>' if link else "–"), ("1" if link else "")

    def txt(key, n=None):
        def cell(r):
            v = r.get(key)
            s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            return (f"<code>{html.escape(s[:n] if n else s)}</code>" if s else "–"), s
        return cell

    cols = [
        _Col("Method", lambda r: (f"<code>{html.escape(str(r['method_id']))}</code>", str(r["method_id"])), text=True),
        _Col("Seed", _num_cell("seed", lambda v: str(int(v)))),
        _Col("Status", lambda r: (_status_badge(r["status"]), str(r["status"])), text=True),
        _Col("Profile", txt("profile"), text=True),
        _Col("Git SHA", txt("git_sha", 10), "commit of the checkout that ran the cell", text=True),
        _Col("Code version", txt("code_version", 10), "hash of the package source and notebooks", text=True),
        _Col("Data hash", txt("data_hash", 10), "fingerprint of the split's data", text=True),
        _Col("Host", txt("host"), text=True),
        _Col("Finished", txt("finished"), text=True),
        _Col("Wall time", _num_cell("wall_s", _fmt_seconds), "whole cell, kernel start included"),
        _Col("Notebook", nb_cell, text=True, sort=False),
    ]
    return _html_table(cols, rows, table_id=f"provenance-{_slug(name)}")


# ========================================================================= experiments
def _load_paper_numbers(root: Path) -> dict:
    import yaml

    path = root / "book" / "experiments" / "papers.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (the papers' reported numbers for the experiments chapters)")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc


def _render_experiments(ctx: _Context) -> None:
    papers = _load_paper_numbers(ctx.root)
    board = _board(ctx)
    ctx.stage.write_text("book/_generated/experiments/lysoquant.md", _exp_lysoquant(ctx, board, papers))
    ctx.stage.write_text("book/_generated/experiments/cdl_mdl.md", _exp_cdl_mdl(ctx, board, papers))
    ctx.stage.write_text("book/_generated/experiments/classical_vs_deep.md", _exp_classical_vs_deep(ctx, board))


def _measured(board, dataset: str, method_ids: Sequence[str]):
    if board is None:
        return None
    g = board[(board["dataset"] == dataset) & (board["method_id"].isin(method_ids))]
    return g.iloc[0] if len(g) else None


def _measured_cells(r) -> tuple[str, str, str]:
    """(F1 with interval, mean IoU, status) of a leaderboard row, as markdown."""
    if r is None:
        return "not run", "–", "not in this run"
    if r["status"] != "ok":
        return "–", "–", f"{r['status']}: {_short(r['reason'] or '', 80)}"
    f1 = _fmt_num(r["f1"])
    if _finite(r.get("f1_low")):
        f1 += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
    return f1, _fmt_num(r["mean_iou"]), "ok"


def _datasets_in_run(board, datasets: Sequence[str]) -> list[str]:
    """The `datasets` of an experiment that the run covered (all of them when it covered none,
    so that the table still says what would be measured).

    >>> import pandas as pd
    >>> _datasets_in_run(pd.DataFrame({"dataset": ["synth-lyso"]}), ["synth-lyso", "synth-lyso-easy"])
    ['synth-lyso']
    >>> _datasets_in_run(None, ["synth-lyso", "synth-lyso-easy"])
    ['synth-lyso', 'synth-lyso-easy']
    """
    datasets = list(datasets)
    if board is None:
        return datasets
    present = set(board["dataset"])
    return [d for d in datasets if d in present] or datasets


def _exp_lysoquant(ctx: _Context, board, papers: dict) -> str:
    spec = papers.get("lysoquant_tools") or {}
    out = []
    if board is None:
        out += _no_run_text()
    datasets = _datasets_in_run(board, spec.get("datasets", []))
    out += ["### Conventional tools", "",
            f"Paper: {spec.get('where', '')} {{cite:p}}`{spec.get('cite', 'morone2020')}`. Measured: test split of "
            + ", ".join(ctx.board_link(d) for d in datasets)
            + (f", run `{ctx.results.run_id}` ({_run_profile(ctx)})." if board is not None else "."), ""]
    head = ["Paper's method", "Paper IoU", "Paper F1", "2·IoU/(1+IoU)", "Method here"]
    for d in datasets:
        head += [f"F1@0.5 on {d} [95% CI]", f"mean IoU on {d}"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in spec.get("rows", []):
        iou, f1 = row.get("iou"), row.get("f1")
        check = f"{2 * iou / (1 + iou):.3f}" if _finite(iou) else "–"
        mids = [row["method"]] if row.get("method") else []
        cells = [row["paper"], _fmt_num(iou), _fmt_num(f1), check, f"`{row['method']}`" if mids else "no counterpart"]
        for d in datasets:
            if not mids:
                cells += ["–", "–"]
                continue
            f1m, iou_m, status = _measured_cells(_measured(board, d, mids))
            cells += [f1m if status == "ok" else f"{f1m} ({status})", iou_m]
        out.append("| " + " | ".join(cells) + " |")
    out += [""]

    arch = papers.get("lysoquant_architectures") or {}
    out += ["### U-Net architectures", "", f"Paper: {arch.get('claim', '')} {{cite:p}}`{arch.get('cite', 'morone2020')}`.", ""]
    head = ["Architecture", "Method here"]
    arch_datasets = _datasets_in_run(board, arch.get("datasets", []))
    for d in arch_datasets:
        head += [f"F1@0.5 on {d} [95% CI]", f"mean IoU on {d}", f"fit time on {d}"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in arch.get("rows", []):
        cells = [row["label"], f"`{row['method']}`"]
        for d in arch_datasets:
            r = _measured(board, d, [row["method"]])
            f1m, iou_m, status = _measured_cells(r)
            cells += [f1m if status == "ok" else f"{f1m} ({status})", iou_m,
                      _fmt_seconds(r["fit_s"]) if r is not None and status == "ok" else "–"]
        out.append("| " + " | ".join(cells) + " |")
    out += [""]
    return "\n".join(out)


def _params_of(ctx: _Context, dataset: str, method_id: str) -> dict:
    c = ctx.results.cells
    sel = c[(c["dataset"] == dataset) & (c["method_id"] == method_id)]
    p = sel["params"].iloc[0] if len(sel) else None
    return p if isinstance(p, dict) else {}


def _exp_cdl_mdl(ctx: _Context, board, papers: dict) -> str:
    """CIP / CDL / MDL triples: every network trained on weak labels (``labels="weak:X"``),
    the conventional method ``X`` that made them, and the same network with the same
    settings trained on the ground truth."""
    spec = papers.get("cdl_mdl") or {}
    if board is None:
        return "\n".join(_no_run_text())
    param = spec.get("label_param", "labels")
    network = spec.get("network", "unet")
    out: list[str] = []
    for d in spec.get("datasets", []):
        g = board[(board["dataset"] == d) & (board["method"] == network)]
        params = {mid: dict(_params_of(ctx, d, mid)) for mid in g["method_id"]}
        for _, cdl in g.iterrows():
            labels = str(params[cdl["method_id"]].get(param, "truth"))
            if not labels.startswith("weak:"):
                continue
            rest = {k: v for k, v in params[cdl["method_id"]].items() if k != param}
            mdl = next((r for _, r in g.iterrows() if str(params[r["method_id"]].get(param, "truth")) == "truth"
                        and {k: v for k, v in params[r["method_id"]].items() if k != param} == rest), None)
            rows = [("CIP", "the conventional pipeline that made the weak labels", _measured(board, d, [labels[5:]])),
                    ("CDL", f"{network} trained on the labels `{labels[5:]}` made on the training images", cdl),
                    ("MDL", f"the same {network}, trained on the ground truth", mdl)]
            task = next((t for t in g["task"] if t), "")
            score = "miou" if task == "semantic" else "f1"
            out += [f"### {ctx.board_link(d)}: `{cdl['method_id']}`", "",
                    f"| Approach | What it is | Method | {_score_name(task)} | Fit time | Status |",
                    "|---|---|---|---|---|---|"]
            for kind, what, r in rows:
                if r is None:
                    out.append(f"| {kind} | {what} | – | not run | – | not in this run |")
                    continue
                val = _fmt_num(r[score])
                if score == "f1" and _finite(r.get("f1_low")):
                    val += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
                status = r["status"] if r["status"] == "ok" else f"{r['status']}: {_short(r['reason'] or '', 80)}"
                out.append(f"| {kind} | {what} | `{r['method_id']}` | {val} | {_fmt_seconds(r['fit_s'])} | {status} |")
            out += [""]
    if not out:
        out += ["```{note}", f"Run `{ctx.results.run_id}` has no {network} trained on weak labels "
                f"(`{param}=\"weak:<method>\"`) on " + ", ".join(f"`{d}`" for d in spec.get("datasets", []))
                + ", so this comparison was not measured here. The nightly configuration includes it.", "```", ""]
    out += [f"Paper: {spec.get('claim', '')} {{cite:p}}`{spec.get('cite', 'garciasantacruz2022')}`.", ""]
    return "\n".join(out)


def _exp_classical_vs_deep(ctx: _Context, board) -> str:
    from .methods import method_class

    if board is None:
        return "\n".join(_no_run_text())

    def family(method: str) -> str:
        try:
            return _method_family(method_class(method))
        except Exception:  # noqa: BLE001 - a method of an old run may be gone; shown as "other"
            return "other"

    out = ["| Dataset | Best classical | Score [95% CI] | Fit / predict | Best deep | Score [95% CI] | "
           "Fit / predict | Clear difference? |", "|---|---|---|---|---|---|---|---|"]
    for d, g in board.groupby("dataset", sort=True):
        ok = _ok_points(g)
        if not len(ok):
            continue
        fam = ok["method"].map(family)
        best = {}
        for f in ("classical", "deep"):
            sub = ok[fam == f]
            best[f] = sub.iloc[0] if len(sub) else None
        cells = [ctx.board_link(d)]
        for f in ("classical", "deep"):
            r = best[f]
            if r is None:
                cells += ["none ran", "–", "–"]
                continue
            val = f"{_score_name(r['task'])} {r['score']:.3f}"
            if r["task"] != "semantic" and _finite(r.get("f1_low")):
                val += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
            cells += [f"`{r['method_id']}`", val, f"{_fmt_seconds(r['fit_s'])} / {_fmt_seconds(r['predict_s_per_image'])}"]
        c, dp = best["classical"], best["deep"]
        if c is None or dp is None:
            verdict = "–"
        elif all(_finite(x.get(k)) for x in (c, dp) for k in ("f1_low", "f1_high")) and c["task"] != "semantic":
            if c["f1_low"] > dp["f1_high"]:
                verdict = "classical"
            elif dp["f1_low"] > c["f1_high"]:
                verdict = "deep"
            else:
                verdict = "no (intervals overlap)"
        else:
            verdict = "no interval"
        cells.append(verdict)
        out.append("| " + " | ".join(cells) + " |")
    if len(out) == 2:
        out.append("| (no dataset with scores in this run) | | | | | | | |")
    return "\n".join(out) + "\n"


# =========================================================================== notebooks
def _stage_notebooks(ctx: _Context) -> None:
    """Stage one notebook per source: the executed copy of the run when there is one,
    else the committed Colab copy (without outputs), at ``notebooks/colab/<name>.ipynb``."""
    import nbformat

    from .runner.notebooks import colab_path, list_notebooks, notebook_meta

    nb_dir = ctx.root / "notebooks"
    if not nb_dir.is_dir():
        return
    cells = ctx.results.cells if ctx.results is not None else None
    for src in list_notebooks(root=nb_dir):
        meta = notebook_meta(src) or {}
        rel_src = src.relative_to(ctx.root).as_posix()
        dst_rel = colab_path(Path(rel_src)).as_posix()
        executed, cell = _executed_copy(ctx, cells, rel_src, meta)
        if executed is not None:
            nb = nbformat.read(executed, as_version=4)
            note = _provenance_note(ctx, cell)
        else:
            committed = ctx.root / dst_rel
            if committed.is_file():
                nb = nbformat.read(committed, as_version=4)
            else:
                from .runner.notebooks import to_notebook

                nb = to_notebook(src)
            note = ("```{note}\nThis page shows the notebook **without outputs**: "
                    + ("no run has been made yet" if ctx.results is None else
                       f"run `{ctx.results.run_id}` has no executed copy of it")
                    + ". Open it in Colab (button above) or run the benchmark to see its results.\n```")
        _insert_note(nb, note)
        _local_badges(nb, dst_rel)
        ctx.stage.write_text(dst_rel, nbformat.writes(nb))


def _executed_copy(ctx: _Context, cells, rel_src: str, meta: dict) -> tuple[Path | None, dict | None]:
    """The executed copy of a source notebook in the run, and its record.

    A method notebook: the first cell that ran it, preferring ``ok`` cells, then the
    configuration's order (methods, datasets, seed). A tutorial: the run's
    ``tutorials/<name>.ipynb`` with its ``tutorials/<name>.json`` record.
    """
    if ctx.results is None:
        return None, None
    if meta.get("kind") == "tutorial":
        stem = Path(rel_src).stem
        base = Path(ctx.results.path) / "tutorials"
        record = None
        if (base / f"{stem}.json").is_file():
            record = {"kind": "tutorial", **json.loads((base / f"{stem}.json").read_text())}
        nb = base / f"{stem}.ipynb"
        return (nb if nb.is_file() else None), record
    if cells is None or not len(cells):
        return None, None
    sel = cells[(cells["notebook"] == rel_src) & cells["notebook_path"].map(lambda v: _path_or_none(v) is not None)]
    if not len(sel):
        return None, None
    cfg = ctx.results.manifest.get("config") or {}
    m_order = {(m if isinstance(m, str) else m.get("id")): i for i, m in enumerate(cfg.get("methods", []))}
    d_order = {d: i for i, d in enumerate(cfg.get("datasets", []))}
    best = min(
        (dict(r) for _, r in sel.iterrows()),
        key=lambda r: (_STATUS_ORDER.get(str(r["status"]), 9), m_order.get(r["method_id"], 999),
                       d_order.get(r["dataset"], 999), r["seed"]),
    )
    return _path_or_none(best["notebook_path"]), best


def _provenance_note(ctx: _Context, cell: Mapping[str, Any] | None) -> str:
    status = str((cell or {}).get("status") or "")
    problem = ""
    if status and status != "ok":
        problem = (f" It did **not** finish: status **{status}**"
                   + (f" ({_short(str(cell.get('reason') or ''), 200)})" if cell.get("reason") else "")
                   + "; the outputs stop where it stopped.")
    if cell is None or cell.get("kind") == "tutorial":
        what = ""
        if cell is not None:
            params = cell.get("params") or cell.get("parameters") or {}
            if isinstance(params, dict) and params:
                what = " with parameters " + ", ".join(f"`{k}={v!r}`" for k, v in sorted(params.items())
                                                       if k != "output_dir")
        return (f"```{{note}}\nExecuted top to bottom by the benchmark runner in run `{ctx.results.run_id}`{what}; "
                f"the outputs below are that execution's.{problem}\n```")
    return (
        "```{note}\n"
        f"Executed top to bottom by the benchmark runner: method `{cell['method_id']}` on dataset "
        f"{ctx.card_link(str(cell['dataset']))}, seed {cell['seed']}, profile "
        f"`{cell['profile']}`, run `{ctx.results.run_id}`, commit "
        f"`{str(cell.get('git_sha') or '')[:10]}`.{problem} The other methods and datasets this notebook ran on are "
        f"on the leaderboards ({ctx.board_link(str(cell['dataset']))}).\n```"
    )


#: The "Open in Colab" badge image of the notebooks, served by Google.
_REMOTE_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _local_badges(nb, rel: str) -> None:
    """Point the notebook's Colab badge images at the book's own copy, so that pages load
    nothing from third parties (the links themselves still go to Colab)."""
    local = posixpath.relpath("book/_static/colab-badge.svg", posixpath.dirname(rel))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _REMOTE_BADGE in cell.source:
            cell.source = cell.source.replace(_REMOTE_BADGE, local)


def _insert_note(nb, text: str) -> None:
    """Insert a markdown cell after the notebook's title cell (or first)."""
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text)
    cell["metadata"]["tags"] = ["bench-book-note"]
    pos = 0
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown" and c.source.lstrip().startswith("# "):
            pos = i + 1
            break
    nb.cells.insert(pos, cell)


# ================================================================================ CLI
def _configure(parser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--run", default=None, help="run folder or name under benchmark/runs (default: the latest)")
    g.add_argument("--no-run", action="store_true", help="ignore runs: leaderboards say no run was made")
    parser.add_argument("--datasets", nargs="+", metavar="NAME", default=None,
                        help="only these datasets get a card and a leaderboard page (default: all)")
    parser.add_argument("--output", default=None, help="folder receiving _build/ (default: the repository)")
    parser.add_argument("--stage-only", action="store_true", help="render and stage the sources, do not build")
    parser.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")


def _run(args) -> int:
    try:
        res = build_book(run=args.run, use_run=not args.no_run, datasets=args.datasets, output=args.output,
                         build=not args.stage_only, strict=not args.no_strict)
    except BookBuildError as exc:
        print(f"bench book: error: {exc}", file=sys.stderr)
        return 1
    where = res.html if res.html is not None else res.source
    print(f"book {'built' if res.html is not None else 'staged'} in {res.seconds:.1f} s: {where}"
          + (f" (results of run {res.run.name})" if res.run is not None else " (no benchmark run: leaderboards empty)"))
    if res.html is not None:
        print(f"open {res.html / 'index.html'}")
    return 0


def _register() -> None:
    from .cli import add_command

    add_command("book", "render the generated pages and build the Jupyter Book offline", _configure, _run)


_register()
