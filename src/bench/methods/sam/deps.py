"""Are torch and torchvision here a matching pair? Diagnosed without importing torchvision.

torchvision is compiled against one torch build. Both the release pair
(torchvision 0.28 goes with torch 2.13; torchvision's metadata says
``Requires-Dist: torch==2.13.0``) and the build (CPU, CUDA 13.0, ROCm 6.4...)
must match. They come from one source: PyPI (whose Linux wheels are CUDA
builds and carry no local version tag in their metadata) or one index of
download.pytorch.org (``+cpu``, ``+cu130``... tags). A torchvision from PyPI
beside a torch from the CPU index — what ``pip install torchvision`` does next
to a CPU torch — can crash the interpreter when torchvision is imported, so:

* :func:`installed_build` reads the versions from :mod:`importlib.metadata` and
  the ``version.py`` file of each package, parsed as text (never executed): torch's
  records its CUDA/ROCm version, torchvision's its build tag even when the
  metadata has none (``__version__ = '0.28.0+cu130'``);
* :func:`pair_reason` compares them and says what to run to fix a mismatch;
* :func:`probe_import` imports torchvision and runs one ``torchvision.ops.nms``
  in a subprocess, for the crashes metadata cannot foresee.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import importlib.util
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

__all__ = [
    "Build",
    "installed_build",
    "paired_torchvision",
    "build_source",
    "pair_reason",
    "sam_dependency_reason",
    "probe_import",
]

_PYTORCH_INDEX = "https://download.pytorch.org/whl/"
_PROBE = (
    "import torch, torchvision\n"
    "from torchvision.ops import nms\n"
    "keep = nms(torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.1]]), torch.tensor([0.9, 0.8]), 0.5)\n"
    "assert keep.tolist() == [0], keep\n"
)


@dataclass(frozen=True)
class Build:
    """One installed torch or torchvision distribution.

    Attributes
    ----------
    package : str
        ``"torch"`` or ``"torchvision"``.
    version : str
        Public version (``"2.13.0"``), without the local tag.
    dist_tag : str
        Local tag of the *metadata* version (``"cpu"`` for ``2.13.0+cpu``);
        empty for a wheel from PyPI, which allows no local tags.
    build : str
        The build: ``"cpu"``, ``"cu130"``, ``"rocm6.4"``, ``"xpu"``...; empty
        if it cannot be told without importing the package.
    requires_torch : str
        torchvision only: the torch version its metadata pins (``==``), or empty.
    """

    package: str
    version: str
    dist_tag: str
    build: str
    requires_torch: str = ""

    @property
    def full_version(self) -> str:
        return f"{self.version}+{self.dist_tag}" if self.dist_tag else self.version


def _split_local(version: str) -> tuple[str, str]:
    public, _, local = version.partition("+")
    return public, local


def _version_py(dist: md.Distribution, package: str) -> dict[str, object]:
    """Module-level constant assignments of ``<package>/version.py`` (parsed, not run)."""
    try:
        text = dist.locate_file(f"{package}/version.py").read_text()
    except OSError:  # no version.py (an unusual build): the metadata alone decides
        return {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            out[target.id] = value.value
    return out


def _build_of_torch(vpy: dict[str, object], tag: str) -> str:
    if tag:
        return tag
    cuda, hip = vpy.get("cuda"), vpy.get("hip")
    if isinstance(cuda, str) and cuda:
        return "cu" + cuda.replace(".", "")
    if isinstance(hip, str) and hip:
        return "rocm" + ".".join(hip.split(".")[:2])
    return "cpu" if vpy else ""


def _requires_torch(dist: md.Distribution) -> str:
    """The torch version pinned by ``Requires-Dist: torch==...`` (not under an extra)."""
    for req in dist.requires or ():
        spec, _, marker = req.partition(";")
        if "extra" in marker:
            continue
        m = re.fullmatch(r"\s*torch\s*\(?\s*==\s*([0-9][^\s,)]*)\s*\)?\s*", spec)
        if m:
            return _split_local(m.group(1))[0]
    return ""


def installed_build(package: str) -> Build | None:
    """The installed ``torch`` or ``torchvision``, or ``None`` if it is not installed.

    Nothing is imported; see the module docstring.
    """
    if package not in ("torch", "torchvision"):
        raise ValueError(f"`package` must be 'torch' or 'torchvision', got {package!r}")
    try:
        dist = md.distribution(package)
    except md.PackageNotFoundError:
        return None
    version, dist_tag = _split_local(dist.version)
    vpy = _version_py(dist, package)
    vpy_tag = _split_local(str(vpy.get("__version__", "")))[1]
    if package == "torch":
        return Build("torch", version, dist_tag, _build_of_torch(vpy, dist_tag or vpy_tag))
    return Build("torchvision", version, dist_tag, dist_tag or vpy_tag, _requires_torch(dist))


def paired_torchvision(torch_version: str) -> str | None:
    """The torchvision release built for `torch_version` (torch 2.1 and later).

    torchvision 0.(m+15).p goes with torch 2.m.p (the table of
    https://github.com/pytorch/vision#installation); ``None`` outside that rule.

    Examples
    --------
    >>> paired_torchvision("2.13.0"), paired_torchvision("2.5.1+cpu"), paired_torchvision("1.13.1")
    ('0.28.0', '0.20.1', None)
    """
    m = re.match(r"^2\.(\d+)\.(\d+)", torch_version)
    if not m or int(m.group(1)) < 1:
        return None
    return f"0.{int(m.group(1)) + 15}.{m.group(2)}"


def build_source(build: Build) -> str:
    """Where a wheel like `build` comes from: ``"PyPI"`` or a download.pytorch.org index.

    PyPI allows no local version tag; the indexes of download.pytorch.org tag
    every wheel with their name (``+cpu``, ``+cu126``).

    Examples
    --------
    >>> build_source(Build("torch", "2.13.0", "cpu", "cpu")), build_source(Build("torch", "2.13.0", "", "cu130"))
    ('https://download.pytorch.org/whl/cpu', 'PyPI')
    """
    return _PYTORCH_INDEX + build.dist_tag if build.dist_tag else "PyPI"


def _install_command(torch: Build, *, reinstall: bool) -> str:
    want = paired_torchvision(torch.version)
    spec = f"'torchvision=={want}'" if want else f"the torchvision release built for torch {torch.version}"
    flags = "--force-reinstall --no-deps " if reinstall else ""
    index = f" --index-url {build_source(torch)}" if torch.dist_tag else ""
    return f"pip install {flags}{spec}{index}"


def _describe(b: Build) -> str:
    kind = "the CPU build" if b.build == "cpu" else f"the {b.build} build" if b.build else "a build"
    return f"{b.package} {b.full_version} is {kind} of {build_source(b)}"


def pair_reason(torch: Build | None, torchvision: Build | None) -> str | None:
    """Why `torch` and `torchvision` cannot be used together, with the fix; ``None`` if they can.

    A missing torchvision is reported with the command that installs the one
    matching torch from torch's own source. The fix of a mismatch keeps torch
    and replaces torchvision.

    Examples
    --------
    >>> t = Build("torch", "2.13.0", "cpu", "cpu")
    >>> print(pair_reason(t, Build("torchvision", "0.28.0", "", "cu130", "2.13.0")))
    torch and torchvision are different builds (torch 2.13.0+cpu is the CPU build of https://download.pytorch.org/whl/cpu, torchvision 0.28.0 is the cu130 build of PyPI): importing torchvision fails or crashes the interpreter. Fix: pip install --force-reinstall --no-deps 'torchvision==0.28.0' --index-url https://download.pytorch.org/whl/cpu
    >>> pair_reason(t, Build("torchvision", "0.28.0", "cpu", "cpu", "2.13.0")) is None
    True
    """
    if torch is None:
        return "missing dependency: torch"
    if torchvision is None:
        return (
            f"missing dependency: torchvision ({_describe(torch)}; install torchvision from there too: "
            f"{_install_command(torch, reinstall=False)}"
            + (")" if not torch.dist_tag else "; torchvision from PyPI, a CUDA build on Linux, fails beside this torch)")
        )
    want = torchvision.requires_torch or None
    if want is None:
        paired = paired_torchvision(torch.version)
        version_ok = paired is None or paired == torchvision.version
    else:
        version_ok = want == torch.version
    if not version_ok:
        built_for = f"built for torch {want}" if want else f"not the release paired with torch {torch.version}"
        return (
            f"torch and torchvision versions do not match: torchvision {torchvision.full_version} is {built_for}, "
            f"torch {torch.full_version} is installed. Fix: {_install_command(torch, reinstall=True)}"
        )
    if torch.build and torchvision.build and torch.build != torchvision.build:
        return (
            f"torch and torchvision are different builds ({_describe(torch)}, {_describe(torchvision)}): "
            f"importing torchvision fails or crashes the interpreter. Fix: {_install_command(torch, reinstall=True)}"
        )
    return None


def sam_dependency_reason(*, probe: bool = False) -> str | None:
    """Why Segment Anything cannot run here (torch, torchvision, segment_anything), or ``None``.

    From package metadata only, unless ``probe=True``: then a pair that looks
    right is also imported in a subprocess (:func:`probe_import`, a few seconds).
    """
    torch, torchvision = installed_build("torch"), installed_build("torchvision")
    reasons = []
    if torch is None:
        reasons.append(
            "missing dependency: torch (pip install 'bench[sam]' installs torch and torchvision "
            "as a pair from PyPI)"
        )
    else:
        pair = pair_reason(torch, torchvision)
        if pair is not None:
            reasons.append(pair)
    if not _importable("segment_anything"):
        reasons.append(
            "missing dependency: segment_anything (pip install 'bench[sam]' once torch and torchvision match; "
            "in a clone, bash scripts/run.sh setup-sam installs all three)"
        )
    if not reasons and probe:
        crashed = probe_import()
        if crashed is not None:
            reasons.append(f"{crashed}; reinstall the pair from one source: {_pair_command(torch)}")
    return "; ".join(reasons) or None


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _pair_command(torch: Build) -> str:
    want = paired_torchvision(torch.version)
    tv = f" 'torchvision=={want}'" if want else " torchvision"
    index = f" --index-url {build_source(torch)}" if torch.dist_tag else ""
    return f"pip install --force-reinstall 'torch=={torch.version}'{tv}{index}"


def probe_import(python: str | None = None, *, timeout_s: float = 300.0) -> str | None:
    """Import torchvision and run one ``torchvision.ops.nms`` in a subprocess of `python`.

    Returns
    -------
    str or None
        ``None`` if it worked, else what happened: the exit status or the
        signal, and the last line of the error output.
    """
    cmd = [python or sys.executable, "-c", _PROBE]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"importing torchvision in a subprocess took more than {timeout_s:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-done.returncode).name}"
        except ValueError:
            how = f"was killed by signal {-done.returncode}"
    else:
        how = f"exited with status {done.returncode}"
    last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "")
    return f"importing torchvision and running torchvision.ops.nms in a subprocess {how}" + (f" ({last})" if last else "")
