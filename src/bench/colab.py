"""Setting up a Google Colab runtime for a notebook: the logic behind its first code cell.

Every Colab copy of a notebook (``notebooks/colab/*.ipynb``, written by
``python -m bench.runner.notebooks``) carries the same generated setup cell,
right after the ``parameters`` cell (so that it sees ``dataset``, including a
value papermill injected). The cell clones the repository at ``BENCH_REF`` into
``/content/bench`` and calls :func:`setup`, which

1. checks the clone out at ``BENCH_REF`` -- the ref the generator stamped into the
   notebook, and the ref the book's "Open in Colab" badge opens the notebook at
   (:data:`bench.runner.notebooks.COLAB_REF`), so code and notebook are one commit;
2. installs the clone (editable) with the ``colab`` extra (cellpose, stardist
   without tensorflow-cpu, segment-anything), holding the versions Colab already
   has of torch, tensorflow, numpy and the rest of :data:`HELD` with pip's
   ``--constraint``; if that cannot resolve, it holds fewer (:data:`CORE`, then
   nothing), names every installed distribution whose version changed, and
   restarts the runtime -- only when something loaded before was actually changed;
3. fetches the notebook's ``dataset`` with ``bench data fetch NAME`` when it is
   not available (synthetic datasets always are).

Re-running the cell is a no-op: nothing is installed when the clone is at the
ref, the install marker names that commit and every ``colab`` requirement is
met. This module uses only the standard library (``packaging`` when present),
so it runs before bench's own dependencies are installed.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "CORE",
    "HELD",
    "SetupReport",
    "canonical_name",
    "changed_versions",
    "constraint_lines",
    "installed_versions",
    "missing_requirements",
    "setup",
]

logger = logging.getLogger(__name__)

#: Distributions of Colab's image that installing bench must not replace: each one
#: present is pinned to its installed version with pip's ``--constraint``.
HELD = (
    "numpy", "scipy", "pandas", "matplotlib", "pillow", "scikit-image", "scikit-learn",
    "torch", "torchvision", "torchaudio", "tensorflow", "keras", "tf-keras", "jax", "jaxlib",
    "numba", "llvmlite", "protobuf", "ml-dtypes", "h5py", "opencv-python", "opencv-python-headless",
    "opencv-contrib-python",
)
#: Held still when :data:`HELD` as a whole cannot be resolved.
CORE = ("numpy", "torch", "torchvision", "tensorflow")

#: File (inside the clone's ``.git``) naming the commit last installed by :func:`setup`.
MARKER = "bench-colab-installed"

Runner = Callable[..., subprocess.CompletedProcess]


@dataclasses.dataclass(frozen=True)
class SetupReport:
    """What :func:`setup` did; shown as the setup cell's output."""

    ref: str
    commit: str
    installed: bool
    held: tuple[str, ...]
    changed: tuple[tuple[str, str, str], ...]
    fetched: tuple[str, ...]
    restart: bool

    def __str__(self) -> str:
        lines = [f"bench {self.ref} (commit {self.commit[:12]})"]
        if not self.installed:
            lines.append("already set up: nothing installed")
        else:
            lines.append(f"installed with the `colab` extra, holding {', '.join(self.held) or 'nothing'}")
        lines += [f"CHANGED {name}: {old} -> {new}" for name, old, new in self.changed]
        lines += [f"fetched dataset {name}" for name in self.fetched]
        if self.restart:
            lines.append("restarting the runtime: run the notebook again from the top")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython display of the cell's last expression
        p.text(str(self))


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name (``Scikit_Image`` -> ``scikit-image``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """``{canonical name: version}`` of every distribution importable here."""
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(canonical_name(name), dist.version)
    return out


def constraint_lines(installed: Mapping[str, str], held: Iterable[str]) -> list[str]:
    """``name==version`` for every distribution of `held` present in `installed`.

    >>> constraint_lines({"numpy": "2.0.2", "pandas": "2.2.2"}, ["NumPy", "torch"])
    ['numpy==2.0.2']
    """
    lines = []
    for name in held:
        key = canonical_name(name)
        if key in installed:
            lines.append(f"{key}=={installed[key]}")
    return lines


def changed_versions(before: Mapping[str, str], after: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(name, old, new)`` for distributions of `before` whose version changed or that are gone.

    Newly added distributions are not changes: nothing had loaded them.

    >>> changed_versions({"numpy": "2.0.2", "six": "1"}, {"numpy": "2.1.0", "six": "1", "new": "3"})
    [('numpy', '2.0.2', '2.1.0')]
    """
    return [(n, v, after.get(n, "removed")) for n, v in sorted(before.items()) if after.get(n) != v]


def _requirement_met(req: str, installed: Mapping[str, str]) -> bool:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - Colab and pip-installed bench have packaging
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        return name is not None and canonical_name(name.group(1)) in installed
    r = Requirement(req)
    version = installed.get(canonical_name(r.name))
    return version is not None and r.specifier.contains(version, prereleases=True)


def missing_requirements(extra: str = "colab", *, installed: Mapping[str, str] | None = None,
                         requires: Iterable[str] | None = None) -> list[str]:
    """The requirements of bench's `extra` (and its base) not met by what is installed.

    `requires` defaults to the installed bench's metadata; a requirement with an
    ``extra == ...`` marker counts only for `extra`.

    >>> missing_requirements("colab", installed={"numpy": "2.0.2"},
    ...                      requires=['numpy<2.1', 'cellpose==3.1.1.3; extra == "colab"', 'dask; extra == "dask"'])
    ['cellpose==3.1.1.3']
    """
    if installed is None:
        installed = installed_versions()
    if requires is None:
        try:
            requires = importlib.metadata.requires("bench") or []
        except importlib.metadata.PackageNotFoundError:
            return ["bench"]
    missing = []
    for spec in requires:
        req, _, marker = spec.partition(";")
        extras = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extras and canonical_name(extra) not in {canonical_name(e) for e in extras}:
            continue
        if marker and not extras and not _marker_true(marker):
            continue
        if not _requirement_met(req.strip(), installed):
            missing.append(req.strip())
    return missing


def _marker_true(marker: str) -> bool:
    try:
        from packaging.markers import Marker
    except ImportError:  # pragma: no cover
        return True
    return Marker(marker).evaluate()


def _git(root: Path, *args: str, run: Runner) -> str:
    res = run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {root} failed: {res.stderr.strip()}")
    return res.stdout.strip()


def checkout(root: Path, ref: str, *, run: Runner = subprocess.run) -> tuple[str, bool]:
    """Check the clone at `root` out at `ref`; return ``(commit, moved)``.

    Fetches `ref` from ``origin`` when the clone does not have it. Refuses to move
    a clone with local changes.
    """
    head = _git(root, "rev-parse", "HEAD", run=run)
    res = run(["git", "-C", str(root), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
              capture_output=True, text=True)
    if res.returncode != 0:
        what = ref if re.fullmatch(r"[0-9a-f]{7,40}", ref) else f"+refs/tags/{ref}:refs/tags/{ref}"
        run(["git", "-C", str(root), "fetch", "-q", "--depth", "1", "origin", what], capture_output=True, text=True)
        res = run(["git", "-C", str(root), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
                  capture_output=True, text=True)
        if res.returncode != 0:
            raise ValueError(f"`ref` {ref!r} does not exist in {root} nor in its origin")
    commit = res.stdout.strip()
    if commit == head:
        return commit, False
    if _git(root, "status", "--porcelain", "--untracked-files=no", run=run):
        raise ValueError(f"{root} has local changes; commit or discard them before moving it to {ref!r}")
    _git(root, "checkout", "-q", "--detach", commit, run=run)
    return commit, True


def _editable_at(root: Path) -> bool:
    try:
        text = importlib.metadata.distribution("bench").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return False
    if not text:
        return False
    info = json.loads(text)
    return bool(info.get("dir_info", {}).get("editable")) and info.get("url") == root.resolve().as_uri()


def _pip_install(root: Path, lines: list[str], *, run: Runner) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="colab-constraints-", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        return run([sys.executable, "-m", "pip", "install", "-q", "--constraint", path, "-e", f"{root}[colab]"],
                   capture_output=True, text=True)
    finally:
        os.unlink(path)


def install(root: Path, *, run: Runner = subprocess.run,
            versions: Callable[[], dict[str, str]] | None = None) -> tuple[tuple[str, ...], list]:
    """``pip install -e ROOT[colab]`` holding :data:`HELD`, else :data:`CORE`, else nothing.

    Returns the names held and the changed versions (see :func:`changed_versions`).
    """
    versions = versions or installed_versions
    before = versions()
    errors = []
    for held in (HELD, CORE, ()):
        lines = constraint_lines(before, held)
        res = _pip_install(root, lines, run=run)
        if res.returncode == 0:
            if errors:
                logger.warning("could not hold %s:\n%s", ", ".join(errors[-1][0]), errors[-1][1])
            return tuple(line.split("==")[0] for line in lines), changed_versions(before, versions())
        errors.append((held, "\n".join((res.stderr or res.stdout or "").strip().splitlines()[-15:])))
    raise RuntimeError(f"pip install -e {root}[colab] failed:\n{errors[-1][1]}")


def _dataset_reason(name: str, *, run: Runner) -> str:
    code = ("import sys; from bench.data import get_dataset; "
            "print(get_dataset(sys.argv[1]).unavailable_reason() or '')")
    res = run([sys.executable, "-c", code, name], capture_output=True, text=True)
    if res.returncode != 0:
        raise ValueError(f"`dataset` {name!r}: {(res.stderr or '').strip().splitlines()[-1:]}")
    return res.stdout.strip()


def fetch_data(names: Iterable[str], *, run: Runner = subprocess.run) -> list[str]:
    """Run ``bench data fetch NAME`` for each dataset of `names` that is not available; return them."""
    fetched = []
    for name in names:
        if not _dataset_reason(name, run=run):
            continue
        cmd = [sys.executable, "-c", "from bench.cli import main; raise SystemExit(main())", "data", "fetch", name]
        if run(cmd).returncode != 0:
            raise RuntimeError(f"`bench data fetch {name}` failed (its output is above)")
        reason = _dataset_reason(name, run=run)
        if reason:
            raise RuntimeError(f"dataset {name!r} still unavailable after `bench data fetch {name}`: {reason}")
        fetched.append(name)
    return fetched


def _restart() -> None:  # pragma: no cover - kills the process
    os.kill(os.getpid(), signal.SIGKILL)


def setup(ref: str, *, root: str | os.PathLike = "/content/bench", namespace: Mapping | None = None,
          run: Runner = subprocess.run, restart: Callable[[], None] = _restart) -> SetupReport:
    """Bring this runtime to bench at `ref` with the ``colab`` extra and the notebook's data.

    Parameters
    ----------
    ref : str
        The tag (or commit) stamped into the notebook.
    root : path
        The clone (made by the setup cell).
    namespace : mapping, optional
        The notebook's globals: its ``dataset`` (a str) is fetched when missing.
    run, restart
        Injected for tests: ``subprocess.run`` and the runtime restart.
    """
    if not isinstance(ref, str) or not ref:
        raise TypeError(f"`ref` must be a non-empty str, got {ref!r}")
    root = Path(root)
    if not (root / "pyproject.toml").is_file():
        raise ValueError(f"`root` {root} is not a bench clone (no pyproject.toml)")
    commit, moved = checkout(root, ref, run=run)
    marker = root / ".git" / MARKER
    done = (marker.is_file() and marker.read_text().strip() == commit and _editable_at(root)
            and not missing_requirements("colab"))
    held: tuple[str, ...] = ()
    changed: list = []
    if not done:
        held, changed = install(root, run=run)
        marker.write_text(commit + "\n")
    loaded = moved and any(m.startswith("bench.") and m != __name__ for m in sys.modules)
    must_restart = bool(changed) or loaded
    fetched: list[str] = []
    dataset = (namespace or {}).get("dataset")
    if not must_restart and isinstance(dataset, str):
        fetched = fetch_data([dataset], run=run)
    report = SetupReport(ref=ref, commit=commit, installed=not done, held=held, changed=tuple(changed),
                         fetched=tuple(fetched), restart=must_restart)
    if must_restart:
        logger.warning("%s", report)
        restart()
    return report
