"""The leaderboard pages: ``book/leaderboards/index.md`` and one page per dataset."""

from __future__ import annotations

import html

from ..progress import progress_bar

from ..data import UnknownDatasetError, get_dataset
from ..aggregate import ap_sweep, classification_scores, semantic_scores
from .downloads import run_archive, tidy_table_links
from .figures import (budget_figure, budget_series, cost_figure, distribution_figure, overview_pareto, per_class_figure, png_width, rank_figures,
                      sweep_figure)
from .facts import configs_listing
from .gallery import gallery
from .markup import WIDE, Col, finite, fmt_seconds, html_table, raw, score_name, short, slug, status_badge
from ..curves import UNDERTRAINED_RULE
from .notebooks import stage_cell_notebooks
from .tables import UNDERTRAINED_MARK
from .staging import Context, no_run_text, rows_of, run_board, run_profile, run_ranks
from .tables import glance_table, main_table, per_class_table, pivot_classes, provenance_table, run_banner, sweep_table

__all__ = ["render_leaderboards", "dataset_board"]


def render_leaderboards(ctx: Context) -> None:
    board = run_board(ctx)
    idx = [*WIDE, "# Leaderboards", ""]
    if board is None:
        idx += no_run_text()
        idx += ["Each dataset still has its page below, so links stay stable; they too say that no run "
                "has been made.", ""]
        for name in ctx.datasets:
            ctx.stage.write_text(f"book/leaderboards/datasets/{slug(name)}.md",
                                 "\n".join([f"# {name}", "", *no_run_text(),
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
    idx += run_banner(ctx)
    archive = run_archive(ctx, "book/leaderboards")
    if archive:
        idx += [f"**Take the results away:** {archive}", ""]
    ranks = {d: run_ranks(ctx, d) for d in ctx.datasets if d in set(board["dataset"])}
    idx += ["## Methods at a glance", "",
            "One row per method in the run. *Rank* is the method's rank on each dataset where it ran (1 = "
            "best); the median is over those datasets. A rank is only as firm as the test set allows: the "
            "last columns give, per dataset, the rank on all test images and, in brackets, the range of ranks "
            "the method took in 95% of bootstrap resamples of those images. Click a header to sort.", ""]
    idx += raw(glance_table(board, ranks))
    idx += ["## Datasets", ""]
    idx += ["| Dataset | Task | Best method | Score | Methods ok / in run |", "|---|---|---|---|---|"]
    in_run = set(board["dataset"])
    for name in ctx.datasets:
        if name not in in_run:
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | – | not in this run | – | 0 / 0 |")
            continue
        g = board[board["dataset"] == name]
        ok = g[(g["status"] == "ok") & g["score"].map(finite)]
        if len(ok):
            b = ok.iloc[0]
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | {b['task']} | `{b['method_id']}` | "
                       f"{score_name(b['task'])} {b['score']:.3f} | {len(ok)} / {len(g)} |")
        else:
            idx.append(f"| [{name}]({ctx.board_doc(name)}) | – | none succeeded | – | 0 / {len(g)} |")
    idx += [""]
    figs, n_panels = overview_pareto(ctx, board)
    if figs:
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
        cols = [Col("Status", lambda r: (status_badge(r["status"]), r["status"]), text=True),
                Col("Reason", lambda r: (html.escape(short(r["reason"], 300)), r["reason"]), text=True, wrap=True),
                Col("Method on dataset", lambda r: (html.escape(r["cells"]), r["cells"]), text=True, wrap=True)]
        idx += raw(html_table(cols, rows, table_id="not-scored"))
    ctx.stage.write_text("book/leaderboards/index.md", "\n".join(idx))

    for name in progress_bar(ctx.datasets, desc="book: leaderboards", leave=False, disable=None):
        ctx.stage.write_text(f"book/leaderboards/datasets/{slug(name)}.md", dataset_board(ctx, board, name))


def budget_verdicts(series) -> list[str]:
    """For each budget curve: does a longer budget score clearly higher than the plain id's (the
    quick-configuration cell)? "Clearly": the longer budget's 95% interval lies above the plain
    id's. Where it does, the sentence says so and why the quick budget is kept anyway."""
    out, undersold = [], False
    for method, g in series.groupby("method"):
        base = g[g["method_id"] == method]
        longer = g[g["method_id"] != method]
        if not len(base) or not len(longer) or not finite(base["f1_high"].iloc[0]):
            continue
        b = base.iloc[0]
        best = longer.loc[longer["score"].idxmax()]
        if finite(best.get("f1_low")) and best["f1_low"] > b["f1_high"]:
            undersold = True
            out.append(f"- **`{method}`: the quick budget undersells it.** {b['score']:.3f} "
                       f"[{b['f1_low']:.3f}, {b['f1_high']:.3f}] at the quick budget (fit {fmt_seconds(b['fit_s'])}), "
                       f"{best['score']:.3f} [{best['f1_low']:.3f}, {best['f1_high']:.3f}] as `{best['method_id']}` "
                       f"(fit {fmt_seconds(best['fit_s'])}): the intervals do not overlap.")
        else:
            out.append(f"- `{method}`: no longer budget here scores clearly higher than the quick one "
                       f"({b['score']:.3f} [{b['f1_low']:.3f}, {b['f1_high']:.3f}]; best longer budget "
                       f"`{best['method_id']}` {best['score']:.3f}).")
    if undersold:
        out += ["", "The quick budget is kept all the same: it is what lets the README's run, every method on every "
                "dataset, finish in minutes on a laptop's CPU, and a longer budget for one method would make the "
                "comparison unequal unless every deep method got it. Read the quick rows of a leaderboard as what "
                "that budget buys, and this curve for what the method does with more; `benchmark/configs/deep.yaml` "
                "runs these budgets, and the `full` profile (a GPU's) is the papers' training length."]
    return ([""] + out + [""]) if out else []


def dataset_board(ctx: Context, board, name: str) -> str:
    """The leaderboard page of one dataset (markdown)."""
    doc_dir = "book/leaderboards/datasets"
    out = [*WIDE, f"# {name}", ""]
    g = board[board["dataset"] == name].copy()
    try:
        info = get_dataset(name).info
    except UnknownDatasetError as exc:  # a dataset of an old run may no longer be registered: the page says so
        info = None
        out += ["```{warning}", f"{exc}: the per-class tables show class numbers instead of names.", "```", ""]
    if not len(g):
        out += ["```{note}", f"Dataset `{name}` is not part of run `{ctx.results.run_id}`: its configuration "
                f"did not include it ({configs_listing(ctx.configs, lambda c: name in c.datasets)}).", "```", ""]
        out += [f"About the data: {ctx.card_link(name)}.", ""]
        return "\n".join(out)
    task = next((t for t in g["task"] if t), "")
    n_img = next((int(v) for v in g["n_images"] if finite(v)), None)
    out += [f"Task **{task or '?'}**, scored on the `{split_of(ctx, name)}` split"
            + (f" ({n_img} images)" if n_img else "") + f"; about the data: {ctx.card_link(name)}. "
            f"Run `{ctx.results.run_id}`, {run_profile(ctx)}; its provenance is on "
            "{doc}`the leaderboards' front page </book/leaderboards/index>`.", ""]
    out += ["## Leaderboard", "",
            "Sorted by the primary score (" + score_name(task) + "); click any header to re-sort. "
            "Intervals are 95% bootstrap intervals over test images. Times are wall-clock on the machine "
            "of the run; memory is the peak resident memory of the process that ran the notebook.", ""]
    rows = [dict(r) for _, r in g.iterrows()]
    nb_links = stage_cell_notebooks(ctx, name, doc_dir)
    for r in rows:
        r["_nb"] = nb_links.get(r["method_id"], "")
    out += raw(main_table(rows, task, name))
    flagged = [r for r in rows if isinstance(r.get("undertrained"), str) and r["undertrained"]]
    if flagged:
        out += [f"{UNDERTRAINED_MARK} **Under-trained at this budget.** Rule: {UNDERTRAINED_RULE}. Flagged here: "
                + "; ".join(f"`{r['method_id']}` ({r['undertrained']})" for r in flagged)
                + ". The score of a flagged method says what its budget buys, not what the method can do; "
                "its learning curve is plotted in its notebook.", ""]
    links = tidy_table_links(ctx, name, doc_dir)
    if links:
        out += ["The run's tidy tables for this dataset (raw counts, one row per image; columns in "
                "{doc}`/book/metrics`): " + ", ".join(links) + ".", ""]
    out += rank_section(ctx, name, task)

    sem_long = semantic_long(ctx, name, info)
    if sem_long is not None:
        out += ["## Per-class IoU", "", "IoU of each pixel class, confusion counts pooled over the test images.", ""]
        out += raw(per_class_table(pivot_classes(sem_long, "iou"), "per-class-iou"))
    cls_long = classification_long(ctx, name, info)
    if cls_long is not None:
        out += ["## Per-class F1", "",
                "How well the objects found are classified: among the true objects matched at IoU ≥ 0.5, the "
                "one-vs-rest F1 of each class (precision and recall of predicting that class). The overall "
                "accuracy is the *Class acc.* column of the leaderboard.", ""]
        out += raw(per_class_table(pivot_classes(cls_long, "f1"), "per-class-f1"))
    long = sem_long if sem_long is not None else cls_long
    fig = per_class_figure(ctx, long, name, "iou" if sem_long is not None else "f1")
    if fig:
        what = "IoU" if sem_long is not None else "F1"
        out += [f"```{{figure}} /{fig}", f":alt: per-class {what} on {name}", ":width: 80%", "",
                f"Per-class {what} of each method.", "```", ""]

    match_rows = scored_match_rows(ctx, name)
    if match_rows is not None:
        sweep = ap_sweep(match_rows, by=("method_id",))
        out += ["## AP sweep", "",
                "TP / (TP + FP + FN) at each IoU threshold from 0.50 to 0.95, counts pooled over images. It is "
                "the quantity Cellpose calls \"average precision\" and StarDist \"accuracy\", not COCO's AP "
                "(see {doc}`/book/metrics`). The last column is its mean over the ten thresholds.", ""]
        out += raw(sweep_table(sweep))
        fig = sweep_figure(ctx, match_rows, name)
        if fig:
            out += [f"```{{figure}} /{fig}", f":alt: AP sweep on {name}", ":width: 50%", "",
                    "TP / (TP + FP + FN) against the IoU threshold (0.1 to 0.95).", "```", ""]
        fig = distribution_figure(ctx, match_rows, name, task)
        if fig:
            out += ["## Per-image scores", "",
                    "The pooled score hides how much it varies from image to image; each dot is one test image "
                    "(F1 at IoU 0.5).", "", f"```{{figure}} /{fig}", f":alt: per-image F1 on {name}", ":width: 50%",
                    "", "F1 at IoU 0.5 of each test image, per method.", "```", ""]

    fig = cost_figure(ctx, g, name)
    if fig:
        out += ["## Accuracy against cost", "",
                "Left: score against training time; right: against prediction time per image (log scales). "
                "The step line joins the Pareto front: no method is both cheaper and better than a method on it. "
                "Methods with no recorded time (below the timer's resolution) are left out of a panel.",
                "", f"```{{figure}} /{fig}", f":alt: accuracy against time on {name}", ":width: 100%", "",
                "Accuracy against cost.", "```", ""]

    series = budget_series(g)
    fig = budget_figure(ctx, series, name)
    if fig:
        out += ["## Accuracy against training budget", "",
                "The same method trained for longer (ids that differ only in `epochs`, `iterations` or "
                "`steps_per_epoch`): score with its 95% interval against the fit time. A curve still rising at "
                "the right says the quick budget undersells the method.", "",
                "| Method | F1@0.5 [95% CI] | Fit | Under-trained at this budget? |", "|---|---|---|---|"]
        for _, r in series.sort_values(["method", "fit_s"]).iterrows():
            ci = f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]" if finite(r.get("f1_low")) else ""
            flag = r.get("undertrained")
            out.append(f"| `{r['method_id']}` | {r['score']:.3f}{ci} | {fmt_seconds(r['fit_s'])} | "
                       + (f"{UNDERTRAINED_MARK} {flag}" if isinstance(flag, str) and flag else "no") + " |")
        out += ["", f"```{{figure}} /{fig}", f":alt: accuracy against training budget on {name}", ":width: 70%", "",
                "Score against fit time (log scale), one line per method, one point per budget.", "```", ""]
        out += budget_verdicts(series)

    out += gallery(ctx, g, name, info)

    out += ["## Provenance", "",
            "Where each row comes from: the cell (one method, dataset and seed, executed as one notebook), "
            "the commit and code version that ran it, the machine and the training budget. Package versions "
            "and hardware of the run are on {doc}`the front page </book/leaderboards/index>`.", ""]
    out += raw(provenance_table(ctx, name, nb_links))
    return "\n".join(out)


def rank_section(ctx: Context, name: str, task: str) -> list[str]:
    """How stable the order is: rank blob plot, significance map and a sentence per finding."""
    ru = run_ranks(ctx, name)
    if ru is None:
        return []
    n = len(ru.images)
    iv = ru.intervals()
    out = ["## How stable is this ranking?", "",
           f"The order above comes from {n} test image{'s' if n != 1 else ''}. To see how much it depends on "
           f"which images happened to be in the test set, the {n} images were resampled with replacement "
           f"{ru.bootstrap.n_resamples} times (the same images for every method), each method's "
           f"{score_name(task)} was recomputed as the leaderboard computes it, and the methods were ranked again. "
           "Below, each dot's area is the share of resamples in which the method took that rank; the bar spans "
           "its 95% rank interval. The map below marks the pairs of methods whose difference is "
           "significant: a one-sided Wilcoxon signed-rank test on the paired per-image scores, "
           f"Holm-corrected over all {len(ru.methods) * (len(ru.methods) - 1)} ordered pairs at 5%.", ""]
    blobs, grid = rank_figures(ctx, ru, name)
    # shown at their own pixel size (drawn for the page width; the theme shrinks them on narrow screens)
    out += [f"```{{figure}} /{blobs}", f":alt: bootstrap rank distribution of each method on {name}",
            f":width: {png_width(ctx, blobs)}px", "", "Rank of each method in bootstrap resamples of the test images.",
            "```", ""]
    out += [f"```{{figure}} /{grid}", f":alt: significance map of the methods on {name}",
            f":width: {png_width(ctx, grid)}px", "",
            "Filled: the row's method is significantly better than the column's.", "```", ""]
    top = iv[iv["rank"] == 1]["method_id"].tolist()
    firm = [m for m in top if float(iv.set_index("method_id").loc[m, "p_first"]) >= 0.95]
    pairs = ru.pairs()
    sig = pairs[pairs["significant"]]
    lines = []
    if firm:
        lines.append(", ".join(f"`{m}`" for m in firm) + (" ranks" if len(firm) == 1 else " rank")
                     + " first in at least 95% of resamples" + (" (tied)." if len(firm) > 1 else "."))
    else:
        shares = ", ".join(f"`{r.method_id}` {r.p_first:.0%}" for r in iv.itertuples() if r.p_first > 0)
        lines.append(f"No method ranks first in 95% of resamples (share of resamples ranked first: {shares}).")
    if len(sig):
        lines.append(f"{len(sig)} of {len(pairs)} ordered pairs differ significantly.")
    else:
        small = " (with 5 images or fewer, no one-sided signed-rank test can reach 5%)" if n <= 5 else ""
        lines.append(f"**No pair of methods differs significantly** on these {n} images{small}: "
                     "the order above is not evidence that one method is better than another here.")
    if ru.excluded:
        lines.append("Not ranked: " + "; ".join(f"`{m}` ({why})" for m, why in sorted(ru.excluded.items())) + ".")
    return out + [" ".join(lines), ""]


def split_of(ctx: Context, name: str) -> str:
    c = ctx.results.cells
    s = c[c["dataset"] == name]["split"].dropna()
    return str(s.iloc[0]) if len(s) else "test"


def semantic_long(ctx: Context, name: str, info):
    """Per-method, per-class IoU (:func:`bench.aggregate.semantic_scores`), or None."""
    df = rows_of(ctx, "semantic", name)
    if not len(df):
        return None
    names = info.semantic_names if info is not None else None
    return semantic_scores(df, class_names=names, by=("method_id",))


def classification_long(ctx: Context, name: str, info):
    """Per-method, per-class one-vs-rest scores (:func:`bench.aggregate.classification_scores`), or None."""
    df = rows_of(ctx, "classification", name)
    if not len(df):
        return None
    names = info.class_names if info is not None else None
    s = classification_scores(df, class_names=names, by=("method_id",))
    s = s[s["class_name"] != "all"]
    return s if len(s) else None


def scored_match_rows(ctx: Context, name: str):
    """The ``instance`` (else ``detection``) rows of a dataset, or None."""
    for table in ("instance", "detection"):
        df = rows_of(ctx, table, name)
        if len(df):
            return df
    return None
