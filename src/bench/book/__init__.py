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

Modules, each importing only those above it:

* :mod:`~bench.book.markup` -- number formats, badges, the sortable HTML table;
* :mod:`~bench.book.staging` -- the staging folder and the build's shared context;
* :mod:`~bench.book.facts` -- the ``{{ facts }}`` of the hand-written pages, from the configurations,
  splits and committed measurements;
* :mod:`~bench.book.figures` -- figures drawn by :mod:`bench.viz`, staged as PNG;
* :mod:`~bench.book.cards` -- the dataset cards;
* :mod:`~bench.book.intro` -- the introduction's figures, headline and methods table;
* :mod:`~bench.book.tables` -- the HTML tables of the leaderboards;
* :mod:`~bench.book.gallery` -- the best and worst test images of a dataset;
* :mod:`~bench.book.notebooks` -- notebooks staged for the book;
* :mod:`~bench.book.leaderboards` -- the leaderboard pages;
* :mod:`~bench.book.experiments` -- the experiments chapters' measured numbers;
* :mod:`~bench.book.build` -- staging and ``jupyter-book build``;
* :mod:`~bench.book.cli` -- the ``bench book`` command.
"""

from __future__ import annotations

from .build import HTML_DIR, STAGE_DIR, BookBuild, BookBuildError, build_book, jupyter_book_build, stage_book
from .cards import dataset_stats

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
