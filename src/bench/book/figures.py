"""Figures of the pages, drawn by :mod:`bench.viz` and staged as PNG files."""

from __future__ import annotations

from typing import Sequence

from ..data import get_dataset
from ..splits import get_split
from ..viz import (
    budget_curve,
    composite,
    cost_panels,
    figure_png,
    pareto_grid,
    per_class_bars,
    png_bytes,
    rank_blobs,
    score_distribution,
    show_truth,
    significance_grid,
    threshold_curve,
)
from ..viz.encode import downscale_factor, shrink_rgb, to_uint8
from .markup import slug
from .staging import Context, ok_points
from ..methods import parse_method_id

__all__ = ["is_rgb", "sample_figure", "save_figure", "cost_figure", "overview_pareto", "per_class_figure",
           "sweep_figure", "distribution_figure", "rank_figures", "png_width"]


def is_rgb(channels: Sequence[str]) -> bool:
    """Whether the channels are the planes of a merged colour image (shown as is)."""
    return tuple(c.lower() for c in channels) == ("red", "green", "blue")


def sample_figure(ctx: Context, name: str, rel_dir: str, stem: str) -> tuple[list[str], str] | None:
    """Render the first test image of a dataset with :mod:`bench.viz`: one grey panel
    per channel, the composite, and the composite with the annotation drawn on it.
    Returns the staged image paths and the sample id (``None`` if unavailable)."""
    ds = get_dataset(name)
    if not ds.available:
        return None
    sp = get_split(name)
    sid = (sp.test or sp.val or sp.train)[0]
    sample = ds.load(sid)
    factor = downscale_factor(sample.shape)
    paths = []
    if len(sample.channels) > 1 and not is_rgb(sample.channels):
        for k, ch in enumerate(sample.channels):
            grey = shrink_rgb(to_uint8(composite(sample.image[..., k : k + 1], (ch,))), factor)
            rel = f"{rel_dir}/{stem}-{slug(ch)}.png"
            ctx.stage.write_bytes(rel, png_bytes(grey))
            paths.append(rel)
    rel = f"{rel_dir}/{stem}-composite.png"
    ctx.stage.write_bytes(rel, png_bytes(shrink_rgb(to_uint8(composite(sample)), factor)))
    paths.append(rel)
    if sample.labels is not None or sample.semantic is not None or sample.boxes is not None:
        names = ds.info.class_names or ds.info.semantic_names or None
        fig = show_truth(sample, class_names=names, title=f"{sid}: annotation")
        rel = f"{rel_dir}/{stem}-annotated.png"
        ctx.stage.write_bytes(rel, figure_png(fig, image_shape=sample.shape))
        paths.append(rel)
    return paths, sid


def save_figure(ctx: Context, fig, rel: str) -> str:
    """Stage a figure as PNG at `rel` (closing it) and return `rel`."""
    ctx.stage.write_bytes(rel, figure_png(fig))
    return rel


def cost_figure(ctx: Context, g, name: str) -> str | None:
    """Score against training and prediction time (:func:`bench.viz.cost_panels`);
    ``None`` when no method of the dataset has a score."""
    if not len(ok_points(g)):
        return None
    fig = cost_panels(g, title=name)
    return save_figure(ctx, fig, f"book/leaderboards/datasets/img/{slug(name)}-pareto.png")


def overview_pareto(ctx: Context, board) -> tuple[str | None, int]:
    """Small multiples of :func:`bench.viz.pareto`, one panel per dataset
    (:func:`bench.viz.pareto_grid`): the staged file and its number of panels."""
    fig, n_panels = pareto_grid(board)
    if fig is None:
        return None, 0
    return save_figure(ctx, fig, "book/leaderboards/img/pareto-overview.png"), n_panels


def per_class_figure(ctx: Context, df, name: str, value: str) -> str | None:
    """:func:`bench.viz.per_class_bars` of a per-class score table."""
    if df is None or not len(df):
        return None
    fig = per_class_bars(df, value=value)
    return save_figure(ctx, fig, f"book/leaderboards/datasets/img/{slug(name)}-per-class.png")


def sweep_figure(ctx: Context, rows, name: str) -> str | None:
    """:func:`bench.viz.threshold_curve` of TP / (TP + FP + FN) against the IoU threshold."""
    if rows is None or not len(rows):
        return None
    fig = threshold_curve(rows, score="ap_dsb")
    return save_figure(ctx, fig, f"book/leaderboards/datasets/img/{slug(name)}-ap-sweep.png")


def distribution_figure(ctx: Context, rows, name: str, task: str) -> str | None:
    """:func:`bench.viz.score_distribution` of per-image scores, one strip per method."""
    if rows is None or not len(rows) or task == "semantic":
        return None
    fig = score_distribution(rows, score="f1", threshold=0.5)
    return save_figure(ctx, fig, f"book/leaderboards/datasets/img/{slug(name)}-per-image.png")


def png_width(ctx: Context, rel: str) -> int:
    """Pixel width of a staged PNG (from its IHDR header), to show a figure at its own size."""
    data = ctx.stage.path(rel).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{rel}: not a PNG file")
    return int.from_bytes(data[16:20], "big")


def rank_figures(ctx: Context, ru, name: str) -> tuple[str, str]:
    """:func:`bench.viz.rank_blobs` and :func:`bench.viz.significance_grid` of a
    :class:`bench.ranking.RankUncertainty`: the two staged files."""
    iv = ru.intervals()
    blobs = save_figure(ctx, rank_blobs(iv, ru.frequencies()), f"book/leaderboards/datasets/img/{slug(name)}-ranks.png")
    grid = save_figure(ctx, significance_grid(ru.pairs(), iv["method_id"].tolist()),
                       f"book/leaderboards/datasets/img/{slug(name)}-significance.png")
    return blobs, grid


#: Parameters that only change a method's training budget (a budget curve varies these alone).
BUDGET_PARAMS = frozenset({"epochs", "iterations", "steps_per_epoch"})


def budget_series(g):
    """The rows of one dataset's leaderboard that form budget curves: the ids that differ from a
    plain method or preset id (``stardist``, ``unet7x16``) only in :data:`BUDGET_PARAMS`, the plain
    id included, when there are at least two per plain id. The ``method`` column of the result is
    that plain id (one curve each)."""
    import pandas as pd

    ok = ok_points(g)
    base = {}
    for mid in ok["method_id"]:
        try:
            name, raw = parse_method_id(str(mid))
        except ValueError:
            continue
        if set(raw) <= BUDGET_PARAMS:
            base[mid] = name
    keep = [ok[ok["method_id"].isin(ids)].assign(method=name)
            for name, ids in pd.Series(base).groupby(pd.Series(base)).groups.items() if len(ids) >= 2]
    return pd.concat(keep) if keep else g.iloc[:0]


def budget_figure(ctx: Context, series, name: str) -> str | None:
    """Accuracy against fit time of each method at several budgets (:func:`bench.viz.budget_curve`)."""
    if not len(series):
        return None
    fig = budget_curve(series, title=f"{name}: accuracy against training budget")
    return save_figure(ctx, fig, f"book/leaderboards/datasets/img/{slug(name)}-budget.png")
