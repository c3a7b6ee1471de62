"""Segmentation methods behind one interface (:class:`Method`) and one registry.

The interface is in :mod:`bench.methods.base`; the registry (the built-in
classes, written out, and plugins found by entry point) in
:mod:`bench.methods.registry`.

>>> from bench.methods import get_method, format_method_id
>>> format_method_id("unet", {"depth": 7, "features": 16})
'unet[depth=7,features=16]'
"""

from .base import (
    Method,
    MissingDependencyError,
    Prediction,
    UnknownMethodError,
    check_labels,
    format_method_id,
    parse_method_id,
)
from .registry import (
    BUILTIN_METHODS,
    get_method,
    method_class,
    method_names,
    method_plugin,
    method_plugins,
    register_method,
    unregister_method,
)

__all__ = [
    "BUILTIN_METHODS",
    "Method",
    "MissingDependencyError",
    "Prediction",
    "UnknownMethodError",
    "check_labels",
    "format_method_id",
    "get_method",
    "method_class",
    "method_names",
    "method_plugin",
    "method_plugins",
    "parse_method_id",
    "register_method",
    "unregister_method",
]
