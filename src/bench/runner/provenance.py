"""Provenance of a run: code version, git state, package versions, hardware."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["code_version", "git_state", "package_versions", "hardware", "now", "PACKAGES"]

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


def code_version(*, extra_dirs: tuple[Path, ...] | None = None) -> str:
    """Hash of the source code a cell depends on: ``src/bench/**/*.py`` and ``notebooks/*.md``.

    Content-based (not git-based), so it is the same in a clone, an installed
    package and a cluster node with the same code, and it changes with any
    uncommitted edit.
    """
    from .notebooks import notebooks_dir

    h = hashlib.sha256()
    pkg = _package_dir()
    dirs = [(pkg, "**/*.py")]
    nbs = notebooks_dir() if extra_dirs is None else None
    if nbs is not None and nbs.is_dir():
        dirs.append((nbs, "*.md"))
    for d in extra_dirs or ():
        dirs.append((Path(d), "*.md"))
    for root, pattern in dirs:
        for p in sorted(root.glob(pattern)):
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def git_state() -> dict:
    """``{"sha": ..., "dirty": bool}`` of the checkout, or Nones outside git."""
    from ..paths import repo_root

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
