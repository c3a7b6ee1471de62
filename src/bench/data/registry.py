"""The registry of datasets: the built-in ones listed here, plugins found by entry point.

Three sources, looked up in this order:

1. :data:`BUILTIN_DATASETS` (name -> factory) and :data:`PREFIX_DATASETS`
   (``prefix:<argument>`` families such as ``folder:<path>``), written out below;
2. factories added for this process with :func:`register_dataset` (tests,
   notebooks);
3. plugins: factories (a :class:`Dataset` subclass, or any callable returning
   a dataset) that other distributions declare under the entry-point group
   ``bench.datasets`` (see :mod:`bench.plugins`), loaded the first time a name
   is not found in 1 and 2, or when every name is listed. A broken plugin is
   skipped with a warning that names it; the built-ins never depend on it.
"""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .. import plugins as _plugins
from .base import Dataset, UnknownDatasetError
from .cellular import Cellular
from .files import CellularBoxes, FolderDataset
from .nuclei import GOWT1, NIH3T3, GOWT1Full, NIH3T3Full
from .synthetic_datasets import SYNTHETIC_SPECS, SyntheticDataset

__all__ = [
    "BUILTIN_DATASETS",
    "PREFIX_DATASETS",
    "PLUGIN_GROUP",
    "register_dataset",
    "unregister_dataset",
    "dataset_names",
    "get_dataset",
    "dataset_plugins",
    "dataset_plugin",
]

#: the entry-point group of third-party datasets
PLUGIN_GROUP = "bench.datasets"

Factory = Callable[[], Dataset]


def _synthetic() -> dict[str, Factory]:
    out: dict[str, Factory] = {}
    for base in SYNTHETIC_SPECS:
        out[base] = partial(SyntheticDataset, base, "realistic")
        out[f"{base}-easy"] = partial(SyntheticDataset, f"{base}-easy", "easy")
    return out


#: every dataset of this package by name, in the order listings show them
BUILTIN_DATASETS: Mapping[str, Factory] = MappingProxyType({
    **_synthetic(),
    "nih3t3": NIH3T3,
    "nih3t3-full": NIH3T3Full,
    "gowt1": GOWT1,
    "gowt1-full": GOWT1Full,
    "cellular-boxes": CellularBoxes,
    "cellular": Cellular,
})

#: ``prefix:<argument>`` families: ``folder:<path>`` is a user folder with images/ and masks/
PREFIX_DATASETS: Mapping[str, Callable[[str], Dataset]] = MappingProxyType({"folder": FolderDataset})

# register_dataset(): factories added by this process (tests, notebooks). The one
# mutable registry, on purpose: it lives as long as the process that filled it.
_SESSION: dict[str, Factory] = {}


def register_dataset(name: str, factory: Factory) -> None:
    """Add a dataset factory under ``name`` for this process.

    For tests and notebooks; a dataset meant to stay is a built-in (listed in
    :data:`BUILTIN_DATASETS`) or a plugin (an entry point in group ``bench.datasets``).
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"`name` must be a non-empty str without ':', got {name!r}")
    if not callable(factory):
        raise TypeError(f"`factory` must be callable (returning a Dataset), got {type(factory).__name__}")
    if name in BUILTIN_DATASETS or name in _SESSION:
        raise ValueError(f"dataset {name!r} is already registered")
    _SESSION[name] = factory


def unregister_dataset(name: str) -> None:
    """Remove a factory added with :func:`register_dataset` (nothing else can be removed)."""
    if name not in _SESSION:
        raise ValueError(f"dataset {name!r} was not added with register_dataset()")
    del _SESSION[name]


def _check_plugin(name: str, obj: Any) -> Factory:
    if not callable(obj):
        raise TypeError(f"plugin {name!r}: a dataset entry point must name a Dataset subclass or a "
                        f"callable returning a Dataset, got {obj!r}")
    if name in BUILTIN_DATASETS or name.partition(":")[0] in PREFIX_DATASETS:
        raise ValueError(f"plugin {name!r}: {name!r} is already the name of a built-in dataset")
    return obj


def dataset_plugins() -> tuple[_plugins.Plugin, ...]:
    """Every ``bench.datasets`` entry point installed here, broken ones included."""
    return _plugins.discover(PLUGIN_GROUP, _check_plugin)


def _plugin_factories() -> dict[str, _plugins.Plugin]:
    return {p.name: p for p in dataset_plugins() if p.ok and p.name not in _SESSION}


def dataset_names(*, plugins: bool = True) -> list[str]:
    """Names of the registered datasets (prefix families like ``folder:`` excluded):
    built-ins first, then plugins."""
    names = [*BUILTIN_DATASETS, *_SESSION]
    if plugins:
        names += [n for n in _plugin_factories() if n not in names]
    return names


def dataset_plugin(name: str) -> _plugins.Plugin | None:
    """The plugin that provides dataset ``name``; ``None`` for any other dataset."""
    if name in BUILTIN_DATASETS or name in _SESSION or name.partition(":")[0] in PREFIX_DATASETS:
        return None
    return _plugin_factories().get(name)


def _made(factory: Factory, name: str, *, who: str) -> Dataset:
    ds = factory()
    if not isinstance(ds, Dataset):
        raise TypeError(f"{who}: the factory of dataset {name!r} returned {type(ds).__name__}, not a Dataset")
    if ds.name != name:
        raise ValueError(f"{who}: the factory registered as {name!r} made a dataset named {ds.name!r}")
    return ds


def get_dataset(name: str) -> Dataset:
    """Return the dataset called ``name``.

    ``name`` is a registered name (see :func:`dataset_names`) or
    ``folder:<path>`` for a user folder with ``images/`` and ``masks/``.

    Raises
    ------
    UnknownDatasetError
        If no dataset has that name (the message lists the known ones).
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, got {type(name).__name__}")
    if name in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[name]()
    if name in _SESSION:
        return _made(_SESSION[name], name, who="register_dataset")
    prefix, sep, rest = name.partition(":")
    if sep and prefix in PREFIX_DATASETS:
        return PREFIX_DATASETS[prefix](rest)
    plugin = _plugin_factories().get(name)  # discovered only now: built-ins never wait on plugins
    if plugin is not None:
        return _made(plugin.obj, name, who=f"plugin {name!r} ({plugin.source})")
    known = ", ".join(dataset_names()) + ", " + ", ".join(f"{p}:<path>" for p in PREFIX_DATASETS)
    raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}")
