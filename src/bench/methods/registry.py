"""The registry of methods: the built-in classes listed here, plugins found by entry point.

Three sources, looked up in this order:

1. :data:`BUILTIN_METHODS`, the classes of this package, written out below
   (adding a method to the package means adding its class here);
2. classes added for this process with :func:`register_method` (tests, a
   notebook trying out a method before it becomes a plugin);
3. plugins: classes that other distributions declare under the entry-point
   group ``bench.methods`` (see :mod:`bench.plugins`), loaded the first time a
   name is not found in 1 and 2, or when every name is listed. A broken plugin
   is skipped with a warning that names it; the built-ins never depend on it.

A name (or a preset name, see :attr:`Method.presets`) belongs to one class;
a plugin cannot take a built-in's name.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

from .. import plugins as _plugins
from .base import Method, UnknownMethodError, parse_method_id
from .cellpose.method import CellposeMethod
from .classical.auto_threshold import AutoThreshold
from .classical.hough import Hough
from .classical.isodata_watershed import IsodataWatershed
from .classical.log_spots import LogSpots
from .classical.random_forest import RandomForest
from .classical.svm import SVM
from .sam.method import SAMMethod
from .stardist.method import StarDistMethod
from .unet.method import UNetMethod

__all__ = [
    "BUILTIN_METHODS",
    "PLUGIN_GROUP",
    "register_method",
    "unregister_method",
    "method_names",
    "method_class",
    "get_method",
    "method_plugins",
    "method_plugin",
]

#: the entry-point group of third-party methods
PLUGIN_GROUP = "bench.methods"

#: every method class of this package, in the order listings show them
BUILTIN_METHODS: tuple[type[Method], ...] = (
    CellposeMethod,
    AutoThreshold,
    Hough,
    IsodataWatershed,
    LogSpots,
    RandomForest,
    SVM,
    SAMMethod,
    StarDistMethod,
    UNetMethod,
)


def _check_class(cls: Any, *, who: str) -> type[Method]:
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise TypeError(f"{who}: a method must be a subclass of bench.methods.Method, got {cls!r}")
    if not cls.name:
        raise ValueError(f"{who}: {cls.__name__} has no `name`")
    if not dataclasses.is_dataclass(cls.Params):
        raise TypeError(f"{who}: {cls.__name__}.Params must be a dataclass")
    return cls


def _names(classes) -> tuple[dict[str, type[Method]], dict[str, tuple[str, dict[str, Any]]]]:
    by_name: dict[str, type[Method]] = {}
    presets: dict[str, tuple[str, dict[str, Any]]] = {}
    for cls in classes:
        _check_class(cls, who="BUILTIN_METHODS")
        for n in (cls.name, *cls.presets):
            if n in by_name or n in presets:
                raise ValueError(f"method name {n!r} is used twice in BUILTIN_METHODS")
        by_name[cls.name] = cls
        presets.update({p: (cls.name, dict(v)) for p, v in cls.presets.items()})
    return by_name, presets


_builtin, _builtin_presets = _names(BUILTIN_METHODS)
_BUILTIN = MappingProxyType(_builtin)
_BUILTIN_PRESETS = MappingProxyType(_builtin_presets)

# register_method(): classes added by this process (tests, notebooks). The one
# mutable registry, on purpose: it lives as long as the process that filled it.
_SESSION: dict[str, type[Method]] = {}


def _check_plugin(name: str, obj: Any) -> type[Method]:
    cls = _check_class(obj, who=f"plugin {name!r}")
    if cls.name != name:
        raise ValueError(f"plugin {name!r}: the entry point's name must be the class's `name` ({cls.name!r})")
    for n in (cls.name, *cls.presets):
        if n in _BUILTIN or n in _BUILTIN_PRESETS:
            raise ValueError(f"plugin {name!r}: {n!r} is already the name of a built-in method")
    return cls


def method_plugins() -> tuple[_plugins.Plugin, ...]:
    """Every ``bench.methods`` entry point installed here, broken ones included."""
    return _plugins.discover(PLUGIN_GROUP, _check_plugin)


def _plugin_classes() -> dict[str, tuple[type[Method], _plugins.Plugin]]:
    out: dict[str, tuple[type[Method], _plugins.Plugin]] = {}
    for p in method_plugins():
        if p.ok and p.name not in _SESSION:
            out[p.name] = (p.obj, p)
    return out


def register_method(cls: type[Method]) -> type[Method]:
    """Add ``cls`` (and its presets) to the registry of this process.

    For tests and for trying out a method in a notebook; a method meant to
    stay is a built-in (listed in :data:`BUILTIN_METHODS`) or a plugin (an
    entry point in group ``bench.methods``). Usable as a class decorator.
    """
    _check_class(cls, who="register_method")
    taken = set(_BUILTIN) | set(_BUILTIN_PRESETS) | {
        n for c in _SESSION.values() for n in (c.name, *c.presets)
    }
    clash = sorted({cls.name, *cls.presets} & taken)
    if clash:
        raise ValueError(f"method {clash[0]!r} is already registered")
    _SESSION[cls.name] = cls
    return cls


def unregister_method(name: str) -> None:
    """Remove a class added with :func:`register_method` (nothing else can be removed)."""
    if name not in _SESSION:
        raise ValueError(f"method {name!r} was not added with register_method()")
    del _SESSION[name]


def _presets(*, with_plugins: bool) -> dict[str, tuple[str, dict[str, Any]]]:
    out = dict(_BUILTIN_PRESETS)
    classes = list(_SESSION.values())
    if with_plugins:
        classes += [c for c, _ in _plugin_classes().values()]
    for cls in classes:
        out.update({p: (cls.name, dict(v)) for p, v in cls.presets.items() if p not in out})
    return out


def method_names(*, presets: bool = True, plugins: bool = True) -> list[str]:
    """Registered method names (and preset names): built-ins first, then plugins."""
    names = [*_BUILTIN, *_SESSION]
    if plugins:
        names += [n for n in _plugin_classes() if n not in names]
    if presets:
        names += [p for p in _presets(with_plugins=plugins) if p not in names]
    return names


def _find(name: str) -> tuple[type[Method], dict[str, Any]] | None:
    if name in _BUILTIN:
        return _BUILTIN[name], {}
    if name in _BUILTIN_PRESETS:
        base, params = _BUILTIN_PRESETS[name]
        return _BUILTIN[base], dict(params)
    for cls in _SESSION.values():
        if name == cls.name:
            return cls, {}
        if name in cls.presets:
            return cls, dict(cls.presets[name])
    for cls, _ in _plugin_classes().values():  # discovered only now: built-ins never wait on plugins
        if name == cls.name:
            return cls, {}
        if name in cls.presets:
            return cls, dict(cls.presets[name])
    return None


def method_class(name: str) -> type[Method]:
    """The class behind a method or preset name.

    Raises
    ------
    UnknownMethodError
        For an unknown name (the message lists the registered ones).
    """
    found = _find(name)
    if found is None:
        raise UnknownMethodError(f"unknown method {name!r}; known methods: {', '.join(method_names())}")
    return found[0]


def method_plugin(name: str) -> _plugins.Plugin | None:
    """The plugin that provides method (or preset) ``name``; ``None`` for a built-in."""
    cls = method_class(parse_method_id(name)[0])
    if cls in BUILTIN_METHODS or cls in _SESSION.values():
        return None
    return next(p for c, p in _plugin_classes().values() if c is cls)


def get_method(spec: str, **overrides) -> Method:
    """Instantiate a method from an id such as ``"unet7x16"`` or
    ``"isodata_watershed[sigma=1.5]"``; keyword ``overrides`` win over the id.

    Raises
    ------
    UnknownMethodError
        For an unknown name (the message lists the registered ones).
    ValueError
        For an unknown parameter or a value of the wrong type.
    """
    name, raw = parse_method_id(spec)
    found = _find(name)
    if found is None:
        raise UnknownMethodError(f"unknown method {name!r}; known methods: {', '.join(method_names())}")
    cls, params = found
    params.update(raw)
    params.update(overrides)
    return cls(**params)
