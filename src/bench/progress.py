"""Progress bars: on for a person watching, off when the runner executes a notebook.

Every progress bar of the library goes through :func:`progress_bar`. One setting
decides whether bars are drawn: the environment variable ``BENCH_PROGRESS``
(:data:`PROGRESS_ENV`). The runner sets it to ``0`` for the kernels that execute
the notebooks (:mod:`bench.runner.execute`), so stored notebooks, and the book
pages made from them, hold no bars and no ``TqdmWarning``; in a terminal or an
interactive notebook bars show as usual (``tqdm.auto``).
"""

from __future__ import annotations

import os

__all__ = ["PROGRESS_ENV", "progress_enabled", "progress_bar"]

#: Set to ``0`` (or ``false``/``off``/``no``) to switch every progress bar of bench off.
PROGRESS_ENV = "BENCH_PROGRESS"


def progress_enabled() -> bool:
    """Whether progress bars may be drawn (``$BENCH_PROGRESS`` is not ``0``/``false``/``off``/``no``)."""
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


def progress_bar(iterable=None, **kwargs):
    """A tqdm bar, or a silent one when :func:`progress_enabled` is False.

    Parameters
    ----------
    iterable : iterable, optional
    **kwargs
        Passed to :class:`tqdm.auto.tqdm` (``desc``, ``total``, ``disable``...).

    Notes
    -----
    When bars are off the plain :class:`tqdm.std.tqdm` is used with
    ``disable=True`` whatever the caller asked: it draws nothing, and, unlike the
    notebook bar, never warns that ipywidgets is missing.
    """
    if not progress_enabled():
        from tqdm.std import tqdm

        kwargs["disable"] = True
        return tqdm(iterable, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
