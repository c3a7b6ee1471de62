"""The ``bench`` command line: every command, its options and the function that runs it.

    bench datasets [--stats]          list datasets (tasks, size, channels, source, provider, availability)
    bench methods                     list methods (provider, dependencies and weights present here?)
    bench splits [--write NAME|--all] show or (re)write split files
    bench data fetch NAME|all         download, verify and unpack upstream data (resumable)
    bench run CONFIG [...]            run a benchmark configuration
    bench merge RUN... --into RUN     merge the shard runs of one configuration
    bench score --pred DIR [...]      score a folder of predicted label images
    bench leaderboard [RUN] [...]     print the leaderboard of a run
    bench book [...]                  render and build the Jupyter Book

:data:`COMMANDS` is the whole table, written out here: each command's name, help,
the function declaring its options (in this module) and the function that runs
it, named ``"module:function"``. A command's module is imported only when that
command runs, so ``bench --help`` and ``bench methods`` never import the book's
or the runner's dependencies.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable, NamedTuple

from .text_table import format_table

__all__ = ["main", "build_parser", "format_table", "Command", "COMMANDS"]


class Command(NamedTuple):
    """One sub-command of ``bench`` (a named tuple: importing :mod:`dataclasses` would
    double the time ``import bench.cli`` takes).

    Attributes
    ----------
    name, help : str
        What ``bench --help`` shows.
    configure : callable
        ``configure(parser)`` adds the command's arguments.
    target : str
        ``"module:function"``; ``function(args) -> int`` runs the command.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    target: str

    def load(self) -> Callable[[argparse.Namespace], int]:
        """The function that runs the command (importing its module now)."""
        module, _, func = self.target.partition(":")
        return getattr(importlib.import_module(module), func)


# ------------------------------------------------------------ options: catalog
def _configure_datasets(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stats", action="store_true", help="also count objects (loads every split)")


def _configure_methods(p: argparse.ArgumentParser) -> None:
    pass


def _configure_splits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--write", nargs="+", metavar="DATASET", help="(re)write these split files")
    p.add_argument("--all", action="store_true", help="(re)write every registered dataset's split")


def _configure_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["fetch", "manifest"])
    p.add_argument("dataset", help="nih3t3, nih3t3-full, gowt1, gowt1-full, cellular, cellular-boxes, or all")
    p.add_argument("--dest", default=None, help="target folder (default: $BENCH_CACHE/<dataset>)")
    p.add_argument(
        "--base-url", default=None,
        help="fetch every file from this server instead of upstream (default: $BENCH_DATA_URL)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


# ------------------------------------------------------------- options: runner
def _configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="run configuration (benchmark/configs/*.yaml)")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="cells run at once locally (default: the CPU cores, at most 4; each cell gets "
                        "cores // jobs threads)")
    p.add_argument("--executor", choices=["local", "dask"], default="local", help="where cells run")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (with --executor dask)")
    p.add_argument("--run-id", default=None, help="run folder name (default: <config name>-<config hash>)")
    p.add_argument("--root", default=None, help="folder of runs (default: benchmark/runs or $BENCH_RUNS)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--force", action="store_true", help="re-run every cell, ignoring the cache")
    g.add_argument("--retry-failed", action="store_true", help="re-run failed and timed-out cells")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="run only the K-th of N parts of the configuration (balanced by estimated time; "
                        "the run folder gets the suffix -shardKofN; put them together with `bench merge`)")
    p.add_argument("--only", action="append", default=None, metavar="PATTERN",
                   help="run only the cells whose id (DATASET__METHOD__seedN, as --dry-run lists them) matches "
                        "this shell pattern, e.g. 'synth-lyso__unet*'; repeatable; the run folder and its cache "
                        "are the whole configuration's, so later runs reuse these cells")
    p.add_argument("--dry-run", action="store_true",
                   help="list the cells and whether they are cached, and the estimated wall time of each shard; "
                        "run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-leaderboard", action="store_true", help="do not print the leaderboard at the end")


def _configure_merge(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="shard run folders or ids (from `bench run CONFIG --shard K/N`); one that does not "
                        "exist is recorded as a missing shard")
    p.add_argument("--into", required=True, metavar="RUN", help="the merged run: a new folder, or a run id")
    p.add_argument("--root", default=None, help="folder of runs (default: benchmark/runs or $BENCH_RUNS)")
    p.add_argument("--shards", type=int, default=None, metavar="N",
                   help="the number of shards expected (checked against the shards' own)")


def _configure_score(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pred", required=True, help="folder of predicted label images named <sample>.tif/.png")
    p.add_argument("--true", default=None, help="folder of true label images with the same names")
    p.add_argument("--dataset", default=None, help="score against this dataset's split instead of --true")
    p.add_argument("--split", default="test", choices=["test", "val"], help="split of --dataset (default test)")
    p.add_argument("--name", default=None, help="method id shown in tables (default: external:<pred folder>)")
    p.add_argument("--seed", type=int, default=0, help="seed recorded with the rows (default 0)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--run", default=None, help="add the result as a cell of this run (joins its leaderboard)")
    g.add_argument("--out", default=None, help="write tables and cell.json to this folder")
    p.add_argument("--format", default="markdown", choices=["markdown", "csv", "html"], help="summary format")


def _configure_leaderboard(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", nargs="?", default=None, help="run folder or id (default: the latest run)")
    p.add_argument("--dataset", default=None, help="only this dataset")
    p.add_argument("--format", default="markdown", choices=["markdown", "csv", "html"])
    p.add_argument("--all-columns", action="store_true", help="every column, not the short set")
    p.add_argument("--no-ci", action="store_true", help="skip the bootstrap intervals (faster)")


# --------------------------------------------------------------- options: book
def _configure_book(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--run", default=None, help="run folder or name under benchmark/runs (default: the latest)")
    g.add_argument("--no-run", action="store_true", help="ignore runs: leaderboards say no run was made")
    p.add_argument("--datasets", nargs="+", metavar="NAME", default=None,
                   help="only these datasets get a card and a leaderboard page (default: all)")
    p.add_argument("--output", default=None, help="folder receiving _build/ (default: the repository)")
    p.add_argument("--stage-only", action="store_true", help="render and stage the sources, do not build")
    p.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")


#: every ``bench`` command, in the order ``bench --help`` lists them
COMMANDS: tuple[Command, ...] = (
    Command("datasets", "list datasets", _configure_datasets, "bench.commands:datasets"),
    Command("methods", "list methods", _configure_methods, "bench.commands:methods"),
    Command("splits", "show or write split files", _configure_splits, "bench.commands:splits"),
    Command("data", "download data (fetch NAME|all) or rewrite its digests (manifest NAME, maintainers)",
            _configure_data, "bench.commands:data"),
    Command("run", "run a benchmark configuration (papermill over methods x datasets)", _configure_run,
            "bench.runner.cli:run"),
    Command("merge", "merge the shard runs of one configuration into one run", _configure_merge,
            "bench.runner.cli:merge"),
    Command("score", "score a folder of predicted label images", _configure_score, "bench.runner.cli:score"),
    Command("leaderboard", "print the leaderboard of a run", _configure_leaderboard,
            "bench.runner.cli:print_leaderboard"),
    Command("book", "render the generated pages and build the Jupyter Book offline", _configure_book,
            "bench.book.cli:run"),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of :data:`COMMANDS` (imports none of the commands' modules)."""
    p = argparse.ArgumentParser(prog="bench", description="Autophagy segmentation benchmark")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS:
        cmd.configure(sub.add_parser(cmd.name, help=cmd.help))
        sub.choices[cmd.name].set_defaults(_command=cmd)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``bench`` with `argv` (default: ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    run = args._command.load()
    try:
        return int(run(args) or 0)
    # DataError (bench.data.io) is a ValueError; unknown names are KeyErrors
    except (ValueError, KeyError) as exc:
        print(f"bench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
