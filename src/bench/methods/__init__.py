"""Segmentation methods behind one interface (:class:`Method`) and one registry.

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
    get_method,
    method_class,
    method_names,
    parse_method_id,
    register_method,
)

__all__ = [
    "Method",
    "MissingDependencyError",
    "Prediction",
    "UnknownMethodError",
    "check_labels",
    "format_method_id",
    "get_method",
    "method_class",
    "method_names",
    "parse_method_id",
    "register_method",
]
