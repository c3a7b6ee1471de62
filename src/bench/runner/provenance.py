"""Provenance of a run: code version, git state, package versions, hardware."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable
from ..paths import repo_root

__all__ = ["code_version", "method_family", "git_state", "package_versions", "hardware", "now", "PACKAGES",
           "NOT_CELL_CODE"]

#: Distributions whose versions go into every manifest (absent ones are recorded as None).
PACKAGES = (
    "bench", "numpy", "scipy", "scikit-image", "scikit-learn", "pandas", "torch", "tensorflow-cpu",
    "tensorflow", "keras", "cellpose", "stardist", "csbdeep", "segment-anything", "papermill", "nbclient",
    "jupytext", "ipykernel", "matplotlib", "dask", "distributed", "tifffile",
)


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


#: Modules no cell's results depend on (the book, the leaderboard, the command line,
#: the runner's driver): editing them never invalidates cached cells. An entry ending
#: in ``/`` is a whole sub-package.
NOT_CELL_CODE = ("book/", "leaderboard.py", "cli.py", "commands.py", "text_table.py", "runner/cli.py",
                 "runner/run.py", "runner/config.py", "runner/provenance.py", "runner/external.py", "runner/notebooks.py", "runner/shard.py",
                 "runner/merge.py",
                 # name -> class tables: the classes' own modules are hashed (a plugin's
                 # distribution and version go into its cells' records instead)
                 "methods/registry.py", "data/registry.py", "plugins.py")


def _source_digests() -> dict[str, str]:
    """SHA-256 of every ``*.py`` file of the package, by path relative to it."""
    pkg = _package_dir()
    out = {}
    for p in sorted(pkg.glob("**/*.py")):
        if "__pycache__" in p.parts:
            continue
        out[p.relative_to(pkg).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def method_family(module: str) -> str | None:
    """The sub-package (or module) of :mod:`bench.methods` holding a method class.

    >>> method_family("bench.methods.classical.isodata_watershed")
    'classical'
    >>> method_family("bench.methods.base") is None
    True
    """
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["bench", "methods"] or parts[2] in ("base", "registry", "__init__"):
        return None
    return parts[2]


_RELATIVE_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.+)([A-Za-z_][\w.]*)?[ \t]+import\b([^\n]*)", re.M)
_ABSOLUTE_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+bench\.methods\.(\w+)", re.M)


def _family_imports() -> dict[str, set[str]]:
    """For each entry of ``bench/methods/`` (a family package or a module), the entries its
    modules import (relative imports, or absolute ones of ``bench.methods.*``; imports
    inside functions count too)."""
    methods = _package_dir() / "methods"
    out: dict[str, set[str]] = {}
    for p in sorted(methods.glob("**/*.py")):
        if "__pycache__" in p.parts:
            continue
        rel = p.relative_to(methods).parts
        deps = out.setdefault(rel[0].removesuffix(".py"), set())
        text = p.read_text(encoding="utf-8")
        deps.update(_ABSOLUTE_IMPORT.findall(text))
        package = list(rel[:-1])  # the module's package, as parts below bench/methods
        for dots, module, names in _RELATIVE_IMPORT.findall(text):
            up = len(dots) - 1
            if up > len(package):  # above bench.methods (bench.data, bench.metrics...)
                continue
            target = package[: len(package) - up] + (module.split(".") if module else [])
            if target:
                deps.add(target[0])
            else:  # "from .. import x" at the level of bench.methods: x are entries
                parts = names.split("#")[0].strip(" \t()").split(",")
                deps.update(part.split()[0] for part in parts if part.split())
    return out


def code_version(families: Iterable[str] | None = None) -> str:
    """Hash of the source code a cell depends on.

    Content-based (not git-based), so it is the same in a clone, an installed
    package and a cluster node with the same code, and it changes with any
    uncommitted edit. It covers every module of the package except
    :data:`NOT_CELL_CODE`; with `families`, the method packages under
    ``bench/methods/`` other than those and the ones they import (shared
    helpers such as ``_shared``: normalisation, resizing, the object classifier) are left
    out too, so that editing one method family does not invalidate the cached
    cells of the others. (Notebooks
    enter a cell's cache key through their own content hash.)

    Parameters
    ----------
    families : iterable of str, optional
        Method families (:func:`method_family`) the cell uses; ``None``: all.
    """
    keep = None
    if families is not None:  # the families, and every entry of bench/methods they import
        imports = _family_imports()
        keep, todo = set(), list(families)
        while todo:
            fam = todo.pop()
            if fam not in keep:
                keep.add(fam)
                # the registry imports every family; a family asking it for another
                # method by name (U-Net's weak labels) names that method in its id
                todo.extend(d for d in imports.get(fam, ()) if d != "registry")
    h = hashlib.sha256()
    for rel, digest in _source_digests().items():
        if rel in NOT_CELL_CODE or rel.startswith(tuple(p for p in NOT_CELL_CODE if p.endswith("/"))):
            continue
        if keep is not None and rel.startswith("methods/"):
            fam = rel.split("/")[1].removesuffix(".py")
            if fam not in ("base", "registry", "__init__") and fam not in keep:
                continue
        h.update(rel.encode() + b"\0" + digest.encode() + b"\0")
    return h.hexdigest()[:16]


def git_state() -> dict:
    """``{"sha": ..., "dirty": bool}`` of the checkout, or Nones outside git."""
    root = repo_root()
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return {"sha": None, "dirty": None}
    try:
        sha = subprocess.run([git, "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True, timeout=30).stdout.strip()
        status = subprocess.run([git, "status", "--porcelain", "--untracked-files=no", "--", "src", "notebooks"],
                                cwd=root, capture_output=True, text=True, check=True, timeout=30).stdout
    except (subprocess.SubprocessError, OSError):
        return {"sha": None, "dirty": None}
    return {"sha": sha, "dirty": bool(status.strip())}


def package_versions() -> dict[str, str | None]:
    """Installed versions of :data:`PACKAGES` and of Python."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _gpus() -> list[str]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        res = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in res.stdout.splitlines() if line.strip()]


def hardware() -> dict:
    """CPU, core count, memory and GPUs of this machine."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        affinity = os.cpu_count()
    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": affinity,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpus": _gpus(),
        "python": sys.version.split()[0],
    }
