"""The ``bench book`` command."""

from __future__ import annotations

import sys

from ..cli import add_command
from .build import BookBuildError, build_book

__all__ = ["configure", "run"]


def configure(parser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--run", default=None, help="run folder or name under benchmark/runs (default: the latest)")
    g.add_argument("--no-run", action="store_true", help="ignore runs: leaderboards say no run was made")
    parser.add_argument("--datasets", nargs="+", metavar="NAME", default=None,
                        help="only these datasets get a card and a leaderboard page (default: all)")
    parser.add_argument("--output", default=None, help="folder receiving _build/ (default: the repository)")
    parser.add_argument("--stage-only", action="store_true", help="render and stage the sources, do not build")
    parser.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")


def run(args) -> int:
    try:
        res = build_book(run=args.run, use_run=not args.no_run, datasets=args.datasets, output=args.output,
                         build=not args.stage_only, strict=not args.no_strict)
    except BookBuildError as exc:
        print(f"bench book: error: {exc}", file=sys.stderr)
        return 1
    where = res.html if res.html is not None else res.source
    print(f"book {'built' if res.html is not None else 'staged'} in {res.seconds:.1f} s: {where}"
          + (f" (results of run {res.run.name})" if res.run is not None else " (no benchmark run: leaderboards empty)"))
    if res.html is not None:
        print(f"open {res.html / 'index.html'}")
    return 0


add_command("book", "render the generated pages and build the Jupyter Book offline", configure, run)
