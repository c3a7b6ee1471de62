"""The one helper the figure modules share."""

from __future__ import annotations


def subplots(ax=None, **kw):
    """``(fig, ax)``: the figure of `ax` when given, else a new ``plt.subplots(**kw)``."""
    import matplotlib.pyplot as plt  # pyplot only when a figure is drawn: importing bench.viz picks no backend

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(**kw)
