"""The gallery of a leaderboard page: the best method's best and worst test images,
its prediction drawn on them (:func:`bench.viz.overlay`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tifffile

from ..data import UnknownDatasetError, get_dataset
from ..aggregate import match_scores, semantic_scores
from ..viz import MATCH_COLORS, figure_png, overlay
from .markup import finite, score_name, short, slug, swatch
from .staging import Context, ok_points, rows_of

__all__ = ["gallery", "overlay_legend", "per_image_scores", "overlay_image"]

logger = logging.getLogger(__name__)


def gallery(ctx: Context, g, name: str, info) -> list[str]:
    """Overlays (:func:`bench.viz.overlay`) of the best and worst test images of the best method."""
    ok = ok_points(g)
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
    per_image = per_image_scores(ctx, name, mid, cell["seed"], task)
    if not per_image:
        return out + ["The run holds no per-image scores for the best method.", ""]
    try:
        ds = get_dataset(name)
        reason = ds.unavailable_reason()
    except UnknownDatasetError as exc:  # an old run's dataset may no longer be registered: said below
        ds, reason = None, str(exc)
    if reason is not None:
        return out + [f"The images of `{name}` are not available on the machine that built this book ({reason}).", ""]
    pred_dir = Path(ctx.results.path) / "cells" / str(cell["cell_id"]) / "predictions"
    ranked = sorted(per_image.items(), key=lambda kv: (-kv[1], kv[0]))
    n = min(2, len(ranked) // 2) if len(ranked) > 1 else 1
    picks = [("best", k, v) for k, v in ranked[:n]] + [("worst", k, v) for k, v in ranked[::-1][:n]]
    score = score_name(task)
    items, missing = [], []
    for kind, image, value in picks:
        pred_path = pred_dir / f"{image}.tif"
        if not pred_path.is_file():
            logger.warning("no saved prediction %s", pred_path)
            missing.append(f"`{image}` (the run saved no prediction for it)")
            continue
        try:
            rel = overlay_image(ctx, ds, image, pred_path, f"{slug(name)}-{kind}-{slug(image)}")
        except (OSError, ValueError) as exc:  # an unreadable or mismatched prediction: named on the page
            logger.warning("overlay of %s/%s failed: %s", name, image, exc)
            missing.append(f"`{image}` ({short(str(exc), 200)})")
            continue
        items.append((kind, image, value, rel))
    if not items:
        return out + ["The run did not save the predicted label images needed for the overlays: "
                      + "; ".join(missing) + ".", ""]
    out += [f"The best method here, `{mid}` (seed {cell['seed']}), on its best and worst test images by per-image "
            f"{score}. " + overlay_legend(task), ""]
    out += ["::::{grid} 2", ":gutter: 2", ""]
    for kind, image, value, rel in items:
        out += [":::{grid-item}", f"```{{image}} /{rel}", f":alt: {kind} image {image} with {mid}", ":width: 100%",
                "```", f"**{kind}**: `{image}`, {score} {value:.3f}", ":::", ""]
    out += ["::::", ""]
    if missing:
        out += ["Not shown: " + "; ".join(missing) + ".", ""]
    return out


def overlay_legend(task: str) -> str:
    if task == "semantic":
        return "Each panel shows the image, the true pixel classes and the predicted ones."
    what = "boxes" if task == "detection" else "outlines"
    return (f"Colours of the {what}: {swatch(MATCH_COLORS['tp'])}true positive (matched at IoU ≥ 0.5), "
            f"{swatch(MATCH_COLORS['fn'])}false negative (a missed true object), "
            f"{swatch(MATCH_COLORS['fp'])}false positive (a prediction without a match).")


def per_image_scores(ctx: Context, name: str, mid: str, seed, task: str) -> dict[str, float] | None:
    if task in ("instance", "detection"):
        df = rows_of(ctx, task, name)
        df = df[(df["method_id"] == mid) & (df["seed"] == seed)]
        if not len(df):
            return None
        s = match_scores(df, threshold=0.5, by=("image",))
        return {str(i): float(v) for i, v in zip(s["image"], s["f1"]) if finite(v)}
    if task == "semantic":
        df = rows_of(ctx, "semantic", name)
        df = df[(df["method_id"] == mid) & (df["seed"] == seed)]
        if not len(df):
            return None
        s = semantic_scores(df, by=("image",))
        s = s[s["class_id"] > 0]
        return {str(i): float(v.mean()) for i, v in s.groupby("image")["iou"]}
    return None


def overlay_image(ctx: Context, ds, image: str, pred_path: Path, stem: str) -> str:
    """Stage the :func:`bench.viz.overlay` of a test image and its saved prediction."""
    sample = ds.load(image)
    pred = np.asarray(tifffile.imread(pred_path))
    if pred.shape != sample.shape:
        raise ValueError(f"{pred_path}: predicted labels of shape {pred.shape} for an image of shape {sample.shape}")
    names = ds.info.semantic_names or None
    fig = overlay(sample, pred.astype(np.int32), class_names=names)
    rel = f"book/leaderboards/datasets/img/{stem}.png"
    ctx.stage.write_bytes(rel, figure_png(fig, image_shape=sample.shape))
    return rel
