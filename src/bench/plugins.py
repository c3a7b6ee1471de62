"""Entry-point plugins: methods and datasets shipped in other distributions.

A distribution adds methods or datasets to the benchmark by declaring entry
points, the way pytest and napari find their plugins::

    # its pyproject.toml
    [project.entry-points."bench.methods"]
    otsu_components = "bench_example_plugin:OtsuComponents"

    [project.entry-points."bench.datasets"]
    my-cells = "my_package.data:MyCells"

:func:`discover` loads the entry points of one group lazily (the first time
the registry is asked for a name it does not hold, or for every name), once per
process (:func:`clear_cache` forgets them, for tests that install a plugin).
A plugin that fails to load is not an error for anyone else: it becomes a
:class:`Plugin` with its ``error`` set, a warning names it, and the registry
skips it; the built-in methods and datasets never depend on it.

Only this module reads entry points; :mod:`bench.methods.registry` and
:mod:`bench.data.registry` check what a plugin's object is.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import warnings
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Plugin", "PluginError", "discover", "clear_cache", "GROUPS"]

logger = logging.getLogger(__name__)

#: the entry-point groups bench reads
GROUPS = ("bench.methods", "bench.datasets")


class PluginError(TypeError):
    """A plugin's entry point names something that is not what its group needs."""


@dataclass(frozen=True)
class Plugin:
    """One entry point of a ``bench.*`` group, loaded or broken.

    Attributes
    ----------
    group : str
        ``"bench.methods"`` or ``"bench.datasets"``.
    name : str
        The entry point's name: the registry name it provides.
    value : str
        What it points to, ``"module:attribute"``.
    distribution, version : str or None
        The installed distribution that declares it (``None`` if unknown).
    obj : object or None
        The loaded (and checked) object; ``None`` when broken.
    error : str or None
        Why it could not be used (exception type and message); ``None`` when loaded.
    """

    group: str
    name: str
    value: str
    distribution: str | None
    version: str | None
    obj: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def source(self) -> str:
        """``"distribution version"``, as listings and provenance show it."""
        if self.distribution is None:
            return f"entry point {self.value}"
        return f"{self.distribution} {self.version}"

    def provenance(self) -> dict[str, str | None]:
        """What a run records about the plugin behind one of its cells."""
        return {"entry_point": f"{self.group}:{self.name}", "value": self.value,
                "distribution": self.distribution, "version": self.version}


def _entry_points(group: str):
    return sorted(importlib.metadata.entry_points(group=group), key=lambda ep: (ep.name, ep.value))


@functools.cache
def _discover(group: str, check: Callable[[str, Any], Any]) -> tuple[Plugin, ...]:
    found: list[Plugin] = []
    seen: set[str] = set()
    for ep in _entry_points(group):
        dist = getattr(ep, "dist", None)
        dname = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        common = dict(group=group, name=ep.name, value=ep.value, distribution=dname, version=version)
        if ep.name in seen:
            # two installed copies (e.g. an editable install and a wheel) of one name
            plugin = Plugin(**common, error=f"ValueError: a second entry point named {ep.name!r} in {group!r}")
        else:
            try:
                plugin = Plugin(**common, obj=check(ep.name, ep.load()))
            # a plugin's import may fail any way its author wrote it; the failure is
            # reported by name (warning + listing row), never swallowed, never fatal to bench
            except Exception as exc:  # noqa: BLE001
                plugin = Plugin(**common, error=f"{type(exc).__name__}: {exc}")
        seen.add(ep.name)
        if not plugin.ok:
            warnings.warn(
                f"bench plugin {ep.name!r} ({group}, {plugin.source}) cannot be used and is skipped: "
                f"{plugin.error}",
                stacklevel=3,
            )
        else:
            logger.debug("loaded plugin %s from %s", ep.name, plugin.source)
        found.append(plugin)
    return tuple(found)


def discover(group: str, check: Callable[[str, Any], Any]) -> tuple[Plugin, ...]:
    """Every entry point of ``group``, loaded once per process, sorted by name.

    Parameters
    ----------
    group : str
        One of :data:`GROUPS`.
    check : callable
        ``check(name, obj) -> obj`` raises if ``obj`` is not usable under
        ``name`` (any exception marks the plugin broken); what it returns is kept.
        Pass the same function each time (it is part of the cache key).

    Returns
    -------
    tuple of Plugin
        Broken plugins included (``error`` set); a warning was emitted for each.
    """
    if group not in GROUPS:
        raise ValueError(f"`group` must be one of {list(GROUPS)}, got {group!r}")
    return _discover(group, check)


def clear_cache() -> None:
    """Forget the plugins found so far (after installing or removing one in this process)."""
    _discover.cache_clear()
