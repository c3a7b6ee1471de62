"""The ``bench`` command line.

    bench datasets [--stats]          list datasets (tasks, size, channels, source, availability)
    bench methods                     list methods (dependencies and weights present here?)
    bench splits [--write NAME|--all] show or (re)write split files
    bench data fetch NAME|all         download, verify and unpack upstream data (resumable)

Further sub-commands (run, score, leaderboard, book) are added by the modules
that implement them through :func:`add_command`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

__all__ = ["main", "add_command", "format_table"]

_EXTRA_COMMANDS: list[tuple[str, str, Callable, Callable]] = []


def add_command(name: str, help: str, configure: Callable, run: Callable) -> None:
    """Register a sub-command: ``configure(parser)`` adds its arguments,
    ``run(args) -> int`` executes it."""
    _EXTRA_COMMANDS.append((name, help, configure, run))


def format_table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table (markdown pipe syntax) of ``rows``."""
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    line = "| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |"
    sep = "|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|"
    body = ["| " + " | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) + " |" for r in rows]
    return "\n".join([line, sep, *body])


# ------------------------------------------------------------------ datasets
def _datasets(args) -> int:
    from .data import dataset_names, get_dataset
    from .data.stats import split_stats
    from .splits import get_split

    rows = []
    for name in dataset_names():
        ds = get_dataset(name)
        reason = ds.unavailable_reason()
        try:
            sizes = get_split(name).sizes()
            size = "/".join(str(sizes[k]) for k in ("train", "val", "test"))
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            size = f"? ({exc})" if reason is None else "-"
        row = {
            "dataset": name,
            "tasks": ",".join(ds.info.tasks),
            "images train/val/test": size,
            "channels": ",".join(ds.info.channels),
            "classes": ",".join(ds.info.class_names or ds.info.semantic_names) or "-",
            "source": ds.info.source,
            "available": "yes" if reason is None else f"no: {reason}",
        }
        if args.stats and reason is None:
            splits = split_stats(get_split(name))["splits"]
            row["objects train/val/test"] = "/".join(str(splits[k]["objects"]) for k in ("train", "val", "test"))
        rows.append(row)
    cols = list(rows[0]) if rows else []
    if args.stats:
        cols = list(dict.fromkeys(c for r in rows for c in r))
    print(format_table(rows, cols))
    return 0


# ------------------------------------------------------------------- methods
def _methods(args) -> int:
    from .methods import get_method, method_class, method_names

    rows = []
    dependency_reasons: dict[type, str | None] = {}  # one (possibly slow) check per class
    for name in method_names():
        cls = method_class(name)
        m = get_method(name)
        if cls not in dependency_reasons:
            dependency_reasons[cls] = cls.dependency_reason(probe=True)
        missing = dependency_reasons[cls]
        weights = m.weights_reason()
        rows.append(
            {
                "method": name,
                "id": m.id,
                "tasks": ",".join(cls.tasks),
                "dependencies": "ok" if missing is None else missing,
                "weights": "ok / not needed" if weights is None else weights,
            }
        )
    print(format_table(rows, ["method", "id", "tasks", "dependencies", "weights"]))
    return 0


# -------------------------------------------------------------------- splits
def _splits(args) -> int:
    from .data import dataset_names
    from .splits import get_split, write_split

    if args.write or args.all:
        from .data import get_dataset

        for name in dataset_names() if args.all else args.write:
            reason = get_dataset(name).unavailable_reason() if args.all else None
            if reason is not None:
                print(f"skipped {name}: {reason}")
                continue
            print(f"wrote {write_split(name)}")
        return 0
    rows = []
    for name in dataset_names():
        try:
            sp = get_split(name)
            rows.append({"dataset": name, **sp.sizes(), "sha256": sp.sha256[:12], "rule": sp.rule})
        except Exception as exc:  # noqa: BLE001 - reported per dataset
            rows.append({"dataset": name, "rule": f"error: {exc}"})
    print(format_table(rows, ["dataset", "train", "val", "test", "sha256", "rule"]))
    return 0


# ---------------------------------------------------------------------- data
def _data(args) -> int:
    if args.action == "fetch":
        from .data.upstream import fetch

        progress = False if args.no_progress else None
        for root in fetch(args.dataset, root=args.dest, base_url=args.base_url, progress=progress):
            print(f"downloaded and verified: {root}")
        return 0
    if args.action == "manifest":
        from .data.maintain import write_manifests
        from .splits import SPLITS, read_split_file, split_path

        split = read_split_file(split_path(args.dataset))
        for path in write_manifests(args.dataset, [i for k in SPLITS for i in split.ids(k)]):
            print(f"wrote {path}")
        return 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench", description="Autophagy segmentation benchmark")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("datasets", help="list datasets")
    d.add_argument("--stats", action="store_true", help="also count objects (loads every split)")
    d.set_defaults(func=_datasets)

    m = sub.add_parser("methods", help="list methods")
    m.set_defaults(func=_methods)

    s = sub.add_parser("splits", help="show or write split files")
    s.add_argument("--write", nargs="+", metavar="DATASET", help="(re)write these split files")
    s.add_argument("--all", action="store_true", help="(re)write every registered dataset's split")
    s.set_defaults(func=_splits)

    da = sub.add_parser(
        "data",
        help="download data (fetch NAME|all) or rewrite its digests (manifest NAME, maintainers)",
    )
    da.add_argument("action", choices=["fetch", "manifest"])
    da.add_argument(
        "dataset",
        help="nih3t3, nih3t3-full, gowt1, gowt1-full, cellular, cellular-boxes, or all",
    )
    da.add_argument("--dest", default=None, help="target folder (default: $BENCH_CACHE/<dataset>)")
    da.add_argument(
        "--base-url", default=None,
        help="fetch every file from this server instead of upstream (default: $BENCH_DATA_URL)",
    )
    da.add_argument("--no-progress", action="store_true", help="no progress bars")
    da.set_defaults(func=_data)

    _load_extra_commands()
    for name, help_, configure, run in _EXTRA_COMMANDS:
        sp = sub.add_parser(name, help=help_)
        configure(sp)
        sp.set_defaults(func=run)
    return p


def _load_extra_commands() -> None:
    import importlib

    for mod in ("bench.runner.cli", "bench.book"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod and not mod.startswith(str(exc.name)):
                raise


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from .data import DataError

    try:
        return int(args.func(args) or 0)
    except (DataError, ValueError, KeyError) as exc:
        print(f"bench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
