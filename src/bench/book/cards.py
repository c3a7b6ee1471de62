"""The dataset cards (``book/datasets/cards/<name>.md``) and the table of all datasets."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Sequence

from ..progress import progress_bar

from ..data import DataError, get_dataset
from ..data.stats import split_stats
from ..runner.provenance import code_version
from ..splits import get_split
from ..viz import CHANNEL_COLORS
from .figures import is_rgb, sample_figure
from .markup import slug, swatch
from .staging import Context

__all__ = ["dataset_stats", "render_dataset_pages", "dataset_card", "stats_cached", "start_counting",
           "channel_legend"]

logger = logging.getLogger(__name__)


HOW_TO_GET = {
    "synthetic": (
        "Nothing to download: the images are generated on the fly, deterministically, from one seed per "
        "sample (the sample id). The same id gives the same image and ground truth on every machine."
    ),
    "mirror": (
        "A public dataset read from a local mirror (`$BENCH_SHARED_DATA/<folder>`, by default "
        "`../shared/data/` next to the repository) when there is one; elsewhere `bench data fetch {name}` "
        "downloads it from its public archive (resumable, every file checked against the digests "
        "committed in `benchmark/splits/{name}.sha256.json`)."
    ),
    "download": "Downloaded from its public archive by `bench data fetch {name}` (resumable, checksummed).",
    "folder": "Your own folder of images and masks.",
}


def dataset_stats(name: str, *, progress: bool = False) -> dict:
    """:func:`bench.data.stats.split_stats` of a dataset's committed split, by name.

    Raises
    ------
    bench.data.DataError
        If the dataset has no valid split file.
    """
    return split_stats(get_split(name), progress=progress)


def channel_legend(channels: Sequence[str]) -> str:
    """Words for the colours :func:`bench.viz.composite` gives the channels."""
    if len(channels) == 1:
        return f"`{channels[0]}` in grey"
    if is_rgb(channels):
        return "the merged colour image as distributed (its red, green and blue planes, scaled to the maximum)"
    parts = []
    for c in channels:
        col = CHANNEL_COLORS.get(c.lower())
        parts.append(f"{swatch(col)}`{c}`" if col is not None else f"`{c}` (palette colour)")
    return ", ".join(parts)


def _stats_cache(ctx: Context, name: str) -> tuple[Path | None, str | None]:
    """The cache file of a dataset's counts under ``_build/book-cache``, keyed by data and
    code hash; ``(None, why)`` when the dataset has no valid split. Worked out once per build
    (the key hashes the data files and the code), kept in ``ctx.stats_files``."""
    if name not in ctx.stats_files:
        ctx.stats_files[name] = _stats_cache_file(ctx, name)
    return ctx.stats_files[name]


def _stats_cache_file(ctx: Context, name: str) -> tuple[Path | None, str | None]:
    try:
        ds = get_dataset(name)
        sp = get_split(name)
    except DataError as exc:
        return None, str(exc)
    # the counts follow the data (split, file fingerprint) and the code that reads it
    key_parts = [name, sp.sha256, code_version(families=())]
    if ds.available:
        key_parts.append(ds.fingerprint([*sp.train, *sp.val, *sp.test]))
    else:
        key_parts.append("unavailable")
    key = hashlib.sha256("|".join(key_parts).encode()).hexdigest()[:20]
    return ctx.stage.root.parent / "book-cache" / "datasets" / f"{slug(name)}-{key}.json", None


def start_counting(ctx: Context) -> None:
    """Count the objects of every dataset whose counts are not cached, in one other process,
    while this one renders the leaderboards (:func:`stats_cached` waits for the result).

    Counting generates every synthetic sample again and is bound by one core (about 25 s
    for the registered datasets on a cold cache); the rest of the staging is another
    single-threaded job, so on a machine with two cores or more the two overlap. With
    one core, or one dataset to count, nothing starts and the counts are made in line.
    """
    missing = []
    for name in ctx.datasets:
        if name.startswith("folder:") or name in ctx.stats or name in ctx.counting:
            continue
        cache, _ = _stats_cache(ctx, name)
        if cache is not None and not cache.is_file():
            missing.append(name)
    if len(missing) < 2 or (os.cpu_count() or 1) < 2:
        return
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    ctx.counting.update({name: pool.submit(dataset_stats, name) for name in missing})
    pool.shutdown(wait=False)  # the submitted counts still run; the process ends after the last


def stats_cached(ctx: Context, name: str) -> dict | None:
    """:func:`bench.data.stats.split_stats`, cached under ``_build/book-cache`` by data and
    code hash (:func:`bench.runner.provenance.code_version` of the code outside the method families).

    The counts come from the process :func:`start_counting` started, when it has them.
    ``None`` when the dataset has no valid split; the reason is kept in ``ctx.stats_errors``.
    """
    if name in ctx.stats:
        return ctx.stats[name]
    cache, error = _stats_cache(ctx, name)
    if cache is None:  # no valid split file: the card shows no counts and says why
        logger.warning("dataset %s: no split (%s); its card has no counts", name, error)
        ctx.stats[name] = None
        ctx.stats_errors[name] = error
        return None
    pending = ctx.counting.pop(name, None)
    if cache.is_file():
        stats = json.loads(cache.read_text())
    else:
        t = time.perf_counter()
        try:
            stats = pending.result() if pending is not None else dataset_stats(name)
        except BrokenProcessPool:  # the counting process died (memory?): count here instead
            logger.warning("dataset %s: the counting process ended early; counting in this one", name)
            stats = dataset_stats(name)
        logger.info("counted objects of %s (%.1f s waited)", name, time.perf_counter() - t)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".tmp")
        tmp.write_text(json.dumps(stats))
        os.replace(tmp, cache)
    ctx.stats[name] = stats
    return stats


def render_dataset_pages(ctx: Context) -> None:
    """A card per dataset and the table of all datasets (``book/_generated/datasets_table.md``)."""
    rows = []
    for name in progress_bar(ctx.datasets, desc="book: dataset cards", leave=False, disable=None):
        if name.startswith("folder:"):
            continue
        ds = get_dataset(name)
        stats = stats_cached(ctx, name)
        ctx.stage.write_text(f"book/datasets/cards/{slug(name)}.md", dataset_card(ctx, ds, stats))
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


def dataset_card(ctx: Context, ds, stats: dict | None) -> str:
    """The card of a dataset (markdown): sample images, counts per split, provenance, how to get it."""
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
        fig = sample_figure(ctx, name, "book/datasets/cards/img", slug(name))
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
                label = Path(p).stem.removeprefix(slug(name) + "-")
                out += [":::{grid-item}", f"```{{image}} /{p}", f":alt: {name} {sid} {label}", ":width: 100%", "```",
                        f"<small>{html.escape(label)}</small>", ":::", ""]
            out += ["::::", ""]
        out += [
            f"Test sample `{sid}`"
            + (", channel by channel in grey, then merged: " if channels else ", merged: ")
            + channel_legend(info.channels)
            + ("" if is_rgb(info.channels) else "; each channel stretched between its 1st and 99.8th percentile")
            + ". The last panel draws the annotation (outlines or boxes, coloured by class: see its legend).",
            "",
        ]

    # counts
    out += ["## Images and objects per split", ""]
    if stats is None:
        out += [f"This dataset has no valid split file here ({ctx.stats_errors.get(name, 'no split')}), "
                "so no counts are shown.", ""]
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
    out += ["", "## How to get it", "", HOW_TO_GET.get(info.source, "").format(name=name), ""]
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
