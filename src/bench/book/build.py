"""``bench book``: stage the hand-written and generated sources, then run ``jupyter-book``."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .. import results as res
from ..data import dataset_names
from ..paths import repo_root
from .cards import render_dataset_pages, start_counting
from .experiments import render_experiments
from .facts import book_facts, load_configs, metrics_speed_page, substitute
from .scaling import SCALING_PAGE, scaling_page
from .intro import render_intro, render_methods_table
from .leaderboards import render_leaderboards
from .mathjax import vendor_mathjax
from .notebooks import stage_notebooks
from .staging import Context, Stage

__all__ = ["BookBuild", "BookBuildError", "build_book", "stage_book", "jupyter_book_build", "STAGE_DIR", "HTML_DIR"]

logger = logging.getLogger(__name__)


#: Staging folder of the book sources, relative to the repository root.
STAGE_DIR = Path("_build") / "book-src"


#: Where ``jupyter-book build`` writes the HTML, relative to the repository root.
HTML_DIR = Path("_build") / "html"


#: Hand-written sources copied into the staging folder (relative to the root).
SOURCES = ("_config.yml", "_toc.yml", "book")


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
    t0 = time.perf_counter()
    root = Path(root) if root is not None else repo_root()
    for name in ("_config.yml", "_toc.yml"):
        if not (root / name).is_file():
            raise FileNotFoundError(f"{root / name}: missing; `root` must be the repository with the book sources")
    output = Path(output) if output is not None else root
    stage = output / STAGE_DIR
    results = load_results(run) if use_run else None
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


def load_results(run: str | Path | None):
    """The adapter to :mod:`bench.results`: a loaded run, or ``None`` when there is none.

    An explicit `run` that cannot be loaded is an error; without one, the latest
    run is used when it exists.
    """
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
    stage, root = Path(stage), Path(root)
    if datasets is not None:
        datasets = list(datasets)
        if not datasets:
            raise ValueError("`datasets` must name at least one dataset (or be None for all)")
    st = Stage(stage)
    configs = load_configs(root)
    facts = book_facts(root, configs)
    for name in SOURCES:
        src = root / name
        if src.is_file():
            st.copy(src, name)
        else:
            for p in sorted(src.rglob("*")):
                if not p.is_file() or "__pycache__" in p.parts or p.name.startswith("."):
                    continue
                rel = p.relative_to(root).as_posix()
                if p.suffix == ".md":  # hand-written pages: their {{ facts }} filled in
                    st.write_text(rel, substitute(p.read_text(encoding="utf-8"), facts, where=str(p)),
                                  generated=False)
                else:
                    st.copy(p, rel)
    st.write_text("book/_generated/metrics_speed.md", metrics_speed_page(root))
    st.write_text(SCALING_PAGE, scaling_page(root, st))
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

    ctx = Context(stage=st, root=root, results=results, datasets=names, configs=configs)
    start_counting(ctx)  # object counts for the cards, in another process meanwhile
    render_methods_table(ctx)
    render_intro(ctx)
    render_leaderboards(ctx)
    render_experiments(ctx)
    render_dataset_pages(ctx)
    stage_notebooks(ctx)
    vendor_mathjax(st)
    st.prune()
    return st.generated
