"""What ``bench book`` does (its options are declared in :data:`bench.cli.COMMANDS`)."""

from __future__ import annotations

import sys

from .build import BookBuildError, build_book

__all__ = ["run"]


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

