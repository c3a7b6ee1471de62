"""What ``bench datasets``, ``bench methods``, ``bench splits`` and ``bench data`` do.

The command table (names, options, which function runs each command) is
:data:`bench.cli.COMMANDS`; this module holds the functions of the commands
that list and maintain the catalog. Each takes the parsed arguments and
returns the exit status.
"""

from __future__ import annotations

from . import __version__
from .data import dataset_names, dataset_plugin, dataset_plugins, get_dataset
from .data.maintain import write_manifests
from .data.stats import split_stats
from .data.upstream import fetch
from .methods import get_method, method_class, method_names, method_plugin, method_plugins
from .splits import SPLITS, get_split, read_split_file, split_path, write_split
from .text_table import format_table

__all__ = ["datasets", "methods", "splits", "data", "BUILTIN_SOURCE"]

#: how listings name the provider of a built-in method or dataset
BUILTIN_SOURCE = f"bench {__version__}"


def datasets(args) -> int:
    """``bench datasets [--stats]``: every dataset, built-in or plugin, and broken plugins."""
    rows = []
    for name in dataset_names():
        plugin = dataset_plugin(name)
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
            "provided by": BUILTIN_SOURCE if plugin is None else plugin.source,
            "available": "yes" if reason is None else f"no: {reason}",
        }
        if args.stats and reason is None:
            parts = split_stats(get_split(name))["splits"]
            row["objects train/val/test"] = "/".join(str(parts[k]["objects"]) for k in ("train", "val", "test"))
        rows.append(row)
    for p in dataset_plugins():
        if not p.ok:
            rows.append({"dataset": p.name, "provided by": p.source, "available": f"no: broken plugin: {p.error}"})
    cols = list(dict.fromkeys(c for r in rows for c in r))
    print(format_table(rows, cols))
    return 0


def methods(args) -> int:
    """``bench methods``: every method (built-in or plugin, with its provider) and broken plugins."""
    rows = []
    dependency_reasons: dict[type, str | None] = {}  # one (possibly slow) check per class
    for name in method_names():
        cls = method_class(name)
        plugin = method_plugin(name)
        try:
            m = get_method(name)
            if cls not in dependency_reasons:
                dependency_reasons[cls] = cls.dependency_reason(probe=True)
            missing = dependency_reasons[cls]
            weights = m.weights_reason()
        # a plugin's class runs its author's code: its failure is its row, never the listing's
        except Exception as exc:  # noqa: BLE001
            if plugin is None:
                raise
            rows.append({"method": name, "id": "-", "tasks": ",".join(cls.tasks), "provided by": plugin.source,
                         "dependencies": f"broken plugin: {type(exc).__name__}: {exc}", "weights": "-"})
            continue
        rows.append(
            {
                "method": name,
                "id": m.id,
                "tasks": ",".join(cls.tasks),
                "provided by": BUILTIN_SOURCE if plugin is None else plugin.source,
                "dependencies": "ok" if missing is None else missing,
                "weights": "ok / not needed" if weights is None else weights,
            }
        )
    for p in method_plugins():
        if not p.ok:
            rows.append({"method": p.name, "id": "-", "tasks": "-", "provided by": p.source,
                         "dependencies": f"broken plugin: {p.error}", "weights": "-"})
    print(format_table(rows, ["method", "id", "tasks", "provided by", "dependencies", "weights"]))
    return 0


def splits(args) -> int:
    """``bench splits [--write NAME... | --all]``: show the split files, or (re)write them."""
    if args.write or args.all:
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


def data(args) -> int:
    """``bench data fetch NAME|all`` and ``bench data manifest NAME``."""
    if args.action == "fetch":
        progress = False if args.no_progress else None
        for root in fetch(args.dataset, root=args.dest, base_url=args.base_url, progress=progress):
            print(f"downloaded and verified: {root}")
        return 0
    if args.action == "manifest":
        split = read_split_file(split_path(args.dataset))
        for path in write_manifests(args.dataset, [i for k in SPLITS for i in split.ids(k)]):
            print(f"wrote {path}")
        return 0
    return 2
