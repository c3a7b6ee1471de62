"""The staging folder and what every page generator shares: the run, its leaderboard
and the datasets the book shows."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..leaderboard import leaderboard
from .markup import finite, slug
from ..pixel_scores import pixel_scores
from ..ranking import rank_uncertainty

__all__ = ["Stage", "Context", "run_board", "no_run_text", "run_profile", "ok_points", "rows_of", "path_or_none"]


class Stage:
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


@dataclass
class Context:
    """One build's shared state: the stage, the repository, the run (or ``None``), the
    datasets shown, and what is computed once per build (counts, the leaderboard)."""

    stage: Stage
    root: Path
    results: Any
    datasets: list[str]
    stats: dict[str, dict | None] = field(default_factory=dict)
    stats_errors: dict[str, str] = field(default_factory=dict)  # why a dataset has no counts
    board: Any = None  # the leaderboard DataFrame of the run (all datasets)
    configs: dict[str, Any] = field(default_factory=dict)  # bench.book.facts.load_configs
    ranks: dict[str, Any] = field(default_factory=dict)  # dataset -> bench.ranking.RankUncertainty or None
    pixels: Any = None  # bench.pixel_scores.pixel_scores of the run (all datasets)
    counting: dict[str, Any] = field(default_factory=dict)  # dataset -> Future of its counts (cards.start_counting)
    stats_files: dict[str, Any] = field(default_factory=dict)  # dataset -> (cache file or None, why) (cards)

    def card_doc(self, dataset: str) -> str:
        return f"/book/datasets/cards/{slug(dataset)}"

    def board_doc(self, dataset: str) -> str:
        return f"/book/leaderboards/datasets/{slug(dataset)}"

    def board_link(self, dataset: str) -> str:
        """A markdown link to the dataset's leaderboard, or its name when it has no page."""
        if dataset in self.datasets:
            return f"[`{dataset}`]({self.board_doc(dataset)})"
        return f"`{dataset}`"

    def card_link(self, dataset: str) -> str:
        if dataset in self.datasets and not dataset.startswith("folder:"):
            return f"[`{dataset}`]({self.card_doc(dataset)})"
        return f"`{dataset}`"


def run_board(ctx: Context):
    """The leaderboard DataFrame of the run (all datasets), or None without a run."""
    if ctx.results is None or not len(ctx.results.cells):
        return None
    if ctx.board is None:
        board = leaderboard(ctx.results)
        if "method" not in board.columns:
            names = ctx.results.cells.drop_duplicates("method_id").set_index("method_id")["method"]
            board = board.assign(method=board["method_id"].map(names))
        ctx.board = board
    return ctx.board


def run_ranks(ctx: Context, dataset: str):
    """The rank uncertainty of a dataset of the run (:func:`bench.ranking.rank_uncertainty`,
    1000 resamples, seed 0), computed once per build; None with fewer than two ranked methods."""
    if ctx.results is None or not len(ctx.results.cells):
        return None
    if dataset not in ctx.ranks:
        ctx.ranks[dataset] = rank_uncertainty(ctx.results, dataset, n_resamples=1000, rng=0)
    return ctx.ranks[dataset]


def run_pixels(ctx: Context):
    """The papers' pixel scores of every (dataset, method) of the run
    (:func:`bench.pixel_scores.pixel_scores`), computed once per build; None without a run."""
    if ctx.results is None or not len(ctx.results.cells):
        return None
    if ctx.pixels is None:
        ctx.pixels = pixel_scores(ctx.results.rows["pixels"]).set_index(["dataset", "method_id"])
    return ctx.pixels


def pixel_row(ctx: Context, dataset: str, method_id: str):
    """The pixel scores of one (dataset, method) of the run, or None (not scored, or a run
    made before scoring stored the ``pixels`` table)."""
    px = run_pixels(ctx)
    if px is None or (dataset, method_id) not in px.index:
        return None
    return px.loc[(dataset, method_id)]


def no_run_text() -> list[str]:
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


def run_profile(ctx: Context) -> str:
    cfg = ctx.results.manifest.get("config") or {}
    prof = cfg.get("profile") or ",".join(sorted({str(p) for p in ctx.results.cells["profile"].dropna()}))
    return f"profile `{prof}`"


def ok_points(g):
    return g[(g["status"] == "ok") & g["score"].map(finite)]


def rows_of(ctx: Context, table: str, name: str):
    df = ctx.results.rows[table]
    return df[df["dataset"] == name] if len(df) else df


def path_or_none(value) -> Path | None:
    """A path from a results column (``None``/NaN/empty: ``None``)."""
    return Path(value) if isinstance(value, (str, os.PathLike)) and str(value) else None
