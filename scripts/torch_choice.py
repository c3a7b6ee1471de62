#!/usr/bin/env python3
"""Which torch build to install here, as the pip command that installs it.

``scripts/run.sh`` calls this before installing the package, so that nothing later pulls a
torch build that does not fit the machine::

    python3 scripts/torch_choice.py --python .venv/bin/python -c requirements/constraints.txt
    python3 scripts/torch_choice.py ... --with-torchvision     # the matching torchvision too

It prints the command, one argument per line (nothing at all when torch is to be left
alone), and says why on stderr. The choice:

* ``BENCH_TORCH=cpu`` / ``cuda`` / ``keep`` decides; unset or ``auto``: ``cuda`` when this
  machine has an NVIDIA GPU (``nvidia-smi -L`` lists one, or ``/proc/driver/nvidia/gpus``
  is not empty), else ``cpu``;
* ``cpu``: PyTorch's CPU wheel index (:data:`CPU_INDEX`), when it answers within
  ``--timeout`` seconds; when it does not, the index pip is configured with (on machines
  with a local CPU wheel in pip's ``find-links``, that wheel is found);
* ``cuda``: the configured index (PyPI's torch is the CUDA build), with pip's
  ``find-links`` pointed at an empty folder so that a local CPU wheel is not picked;
* ``keep``: leave the installed torch (and torchvision) alone, as on Colab; where no torch
  is installed, choose as ``auto``.

torch and torchvision always come as a pair from the same source (never a CPU torch beside
a CUDA torchvision): on the configured index, ``find-links`` is emptied for the pair too.

Standard library only: it runs before the virtual environment has anything installed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

#: PyTorch's index of CPU-only wheels (with torch's own dependencies).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: The torch release installed when no constraints file names one.
DEFAULT_TORCH = "2.13.0"
#: The torchvision release built against each torch release (pytorch.org's compatibility table).
TORCHVISION_FOR = {"2.13.0": "0.28.0", "2.12.0": "0.27.0", "2.11.0": "0.26.0", "2.10.0": "0.25.0",
                   "2.9.0": "0.24.0", "2.8.0": "0.23.0"}
MODES = ("auto", "cpu", "cuda", "keep")
ENV_MODE = "BENCH_TORCH"


@dataclass(frozen=True)
class Choice:
    """The install decided: ``command`` is empty when nothing is to be installed."""

    mode: str
    command: tuple[str, ...]
    reason: str


def parse_mode(value: str | None) -> str:
    """The mode named by `value` (``BENCH_TORCH``); unset or empty means ``auto``.

    >>> parse_mode(None), parse_mode("CPU"), parse_mode(" keep ")
    ('auto', 'cpu', 'keep')
    """
    mode = (value or "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"{ENV_MODE} must be one of {', '.join(MODES)} (or unset), got {value!r}")
    return mode


def has_nvidia_gpu(*, smi: str | None = None, proc: Path = Path("/proc/driver/nvidia/gpus")) -> bool:
    """Whether an NVIDIA GPU is visible: ``nvidia-smi -L`` lists one, or the driver lists one in /proc."""
    try:
        if any(proc.iterdir()):
            return True
    except OSError:
        pass
    smi = smi or shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        res = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0 and any(line.startswith("GPU ") for line in res.stdout.splitlines())


def index_reachable(index: str, *, timeout: float = 5.0) -> bool:
    """Whether `index` answers for torch (``<index>/torch/``, HTTP 2xx) within `timeout` seconds."""
    url = index.rstrip("/") + "/torch/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # headers only: the body is not read
            return 200 <= resp.status < 300
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return False


def installed_version(python: str | None, dist: str) -> str | None:
    """The version of distribution `dist` installed for interpreter `python`, or None."""
    if not python or not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return None
    code = f"import importlib.metadata as m\ntry: print(m.version({dist!r}))\nexcept m.PackageNotFoundError: pass"
    try:
        res = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    out = res.stdout.strip()
    return out or None


def pinned(constraints: str | None, dist: str) -> str | None:
    """The ``dist==X`` pin of a constraints file, or None."""
    if not constraints:
        return None
    path = Path(constraints)
    if not path.is_file():
        raise ValueError(f"constraints file {constraints} does not exist")
    for line in path.read_text().splitlines():
        m = re.fullmatch(rf"\s*{re.escape(dist)}\s*==\s*([^\s;#]+)\s*(#.*)?", line, flags=re.I)
        if m:
            return m.group(1)
    return None


def choose(
    mode: str,
    *,
    python: str = "python",
    constraints: str | None = None,
    with_torchvision: bool = False,
    cpu_index: str = CPU_INDEX,
    empty_dir: str | None = None,
    gpu: Callable[[], bool] = has_nvidia_gpu,
    reachable: Callable[[str], bool] = index_reachable,
    installed: Callable[[str], str | None] | None = None,
) -> Choice:
    """Decide the torch install (see the module docstring).

    Parameters
    ----------
    mode : {"auto", "cpu", "cuda", "keep"}
        From :func:`parse_mode`.
    python : str
        Interpreter of the target environment (first word of the command).
    constraints : str, optional
        pip constraints file: passed to pip (``-c``), and its ``torch==`` /
        ``torchvision==`` pins decide the versions.
    with_torchvision : bool
        Install the torchvision built for that torch, from the same source.
    gpu, reachable, installed : callable
        Probes (injected by the tests): is there an NVIDIA GPU; does an index answer;
        the installed version of a distribution (default: asks `python`).
    """
    mode = parse_mode(mode)
    if installed is None:
        def installed(dist: str) -> str | None:
            return installed_version(python, dist)
    torch_v = pinned(constraints, "torch") or DEFAULT_TORCH
    vision_v = pinned(constraints, "torchvision") or TORCHVISION_FOR.get(torch_v)
    if with_torchvision and vision_v is None:
        raise ValueError(f"no torchvision release known for torch {torch_v}: add a torchvision== pin to "
                         f"{constraints or 'the constraints file'}")

    notes = []
    if mode == "keep":
        have = installed("torch")
        if have is not None:
            msg = f"{ENV_MODE}=keep: leaving the installed torch {have} alone"
            if with_torchvision:
                tv = installed("torchvision")
                msg += (f" (and torchvision {tv})" if tv else
                        "; no torchvision is installed: install the one built for this torch yourself")
            return Choice("keep", (), msg)
        notes.append(f"{ENV_MODE}=keep but {python} has no torch")
        mode = "auto"
    if mode == "auto":
        mode = "cuda" if gpu() else "cpu"
        notes.append("an NVIDIA GPU is present: the CUDA build" if mode == "cuda"
                     else "no NVIDIA GPU: the CPU build")

    wanted = [f"torch=={torch_v}"] + ([f"torchvision=={vision_v}"] if with_torchvision else [])
    env: list[str] = []
    source: list[str] = []
    if mode == "cpu" and reachable(cpu_index):
        source = ["--index-url", cpu_index]
        notes.append(f"from {cpu_index}")
    else:
        if mode == "cpu":
            notes.append(f"{cpu_index} cannot be reached: from the index pip is configured with")
        else:
            notes.append("from the index pip is configured with")
        # A local CPU wheel in find-links must not be taken for the CUDA build, nor paired with a CUDA
        # torchvision: the whole set then comes from the index alone.
        if mode == "cuda" or with_torchvision:
            folder = empty_dir or os.path.join(tempfile.gettempdir(), "bench-empty-find-links")
            if os.path.isdir(folder) and os.listdir(folder):
                raise ValueError(f"`--empty-dir` {folder} is not empty (pip's find-links must find nothing there)")
            env = ["env", f"PIP_FIND_LINKS={folder}"]
            notes.append("find-links emptied (no local wheels)")
    command = [*env, python, "-m", "pip", "install"]
    if constraints:
        command += ["-c", constraints]
    command += [*source, *wanted]
    return Choice(mode, tuple(command), f"torch ({mode}): " + "; ".join(notes))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default="python", help="interpreter of the target environment")
    p.add_argument("-c", "--constraints", default=None, help="pip constraints file (its torch pin decides)")
    p.add_argument("--with-torchvision", action="store_true", help="the matching torchvision too")
    p.add_argument("--mode", default=None, help=f"cpu|cuda|keep|auto (default: ${ENV_MODE}, else auto)")
    p.add_argument("--gpu", choices=["auto", "yes", "no"], default="auto",
                   help="assume a GPU is (not) present instead of detecting it")
    p.add_argument("--cpu-index", default=os.environ.get("BENCH_TORCH_CPU_INDEX") or CPU_INDEX,
                   help="the CPU wheel index (default: $BENCH_TORCH_CPU_INDEX, else %(default)s)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the CPU index")
    p.add_argument("--empty-dir", default=None,
                   help="an empty folder to point pip's find-links at (create it before running the command)")
    args = p.parse_args(argv)
    gpu = {"yes": lambda: True, "no": lambda: False, "auto": has_nvidia_gpu}[args.gpu]
    try:
        choice = choose(args.mode if args.mode is not None else os.environ.get(ENV_MODE),
                        python=args.python, constraints=args.constraints,
                        with_torchvision=args.with_torchvision, cpu_index=args.cpu_index,
                        empty_dir=args.empty_dir, gpu=gpu,
                        reachable=lambda url: index_reachable(url, timeout=args.timeout))
    except ValueError as exc:
        print(f"torch_choice: error: {exc}", file=sys.stderr)
        return 2
    print(choice.reason, file=sys.stderr)
    for arg in choice.command:
        print(arg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
