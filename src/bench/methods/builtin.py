"""Imports every module of :mod:`bench.methods` so their ``@register_method``
decorators run. Method modules must import heavy frameworks (torch,
tensorflow, cellpose, SAM) inside functions, so this stays cheap."""

from __future__ import annotations

import importlib
import pkgutil

from .. import methods as _pkg

_SKIP = {"base", "builtin"}

for _info in sorted(pkgutil.walk_packages(_pkg.__path__, prefix=f"{_pkg.__name__}."), key=lambda i: i.name):
    if _info.name.rsplit(".", 1)[-1] in _SKIP or _info.name.rsplit(".", 1)[-1].startswith("_"):
        continue
    importlib.import_module(_info.name)
