"""MathJax served from the book itself, so formulas render offline.

At build time the npm package ``mathjax`` (:data:`MATHJAX_VERSION`) is fetched with
``npm pack`` into the cache (once) and its TeX-to-CommonHTML bundle and web fonts are
staged under ``book/_static/mathjax/``; ``_config.yml`` points Sphinx's
``mathjax_path`` at ``mathjax/tex-chtml.js`` (relative to ``_static``).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..paths import cache_dir
from .staging import Stage

__all__ = ["MATHJAX_VERSION", "MathJaxUnavailable", "mathjax_tarball", "vendor_mathjax"]

logger = logging.getLogger(__name__)

#: The MathJax release the book serves (npm ``mathjax``, the v3 ``es5`` bundles).
MATHJAX_VERSION = "3.2.2"
#: Where in the staged book the bundle goes (``mathjax_path`` is relative to ``_static``).
TARGET = "book/_static/mathjax"
_MEMBERS = ("package/es5/tex-chtml.js", "package/es5/output/chtml/fonts/woff-v2/")


class MathJaxUnavailable(RuntimeError):
    """The MathJax package is neither cached nor obtainable with npm."""


def mathjax_tarball(cache: Path | None = None) -> Path:
    """The cached ``mathjax-<version>.tgz``, fetched with ``npm pack`` when missing.

    Raises
    ------
    MathJaxUnavailable
        When npm is missing or cannot fetch the package (offline with an empty cache).
    """
    folder = (cache_dir() if cache is None else Path(cache)) / "mathjax"
    tgz = folder / f"mathjax-{MATHJAX_VERSION}.tgz"
    if tgz.is_file():
        return tgz
    npm = shutil.which("npm")
    if npm is None:
        raise MathJaxUnavailable(
            f"the book serves MathJax itself, from {tgz}, which is missing, and npm is not installed to fetch it: "
            f"install node/npm (apt-get install npm), or put `npm pack mathjax@{MATHJAX_VERSION}` there")
    folder.mkdir(parents=True, exist_ok=True)
    logger.info("fetching mathjax@%s with npm pack into %s", MATHJAX_VERSION, folder)
    proc = subprocess.run([npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--pack-destination", str(folder)],
                          capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0 or not tgz.is_file():
        raise MathJaxUnavailable(f"`npm pack mathjax@{MATHJAX_VERSION}` failed (exit {proc.returncode}): "
                                 f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    return tgz


def vendor_mathjax(stage: Stage, *, cache: Path | None = None) -> list[str]:
    """Stage ``tex-chtml.js`` and its woff-v2 fonts under :data:`TARGET`; returns the staged files."""
    tgz = mathjax_tarball(cache)
    out = []
    with tarfile.open(tgz, "r:gz") as tf:
        for m in tf.getmembers():
            if not m.isfile() or not any(m.name == p or (p.endswith("/") and m.name.startswith(p)) for p in _MEMBERS):
                continue
            rel = f"{TARGET}/{m.name.removeprefix('package/es5/')}"
            f = tf.extractfile(m)
            if f is None:
                raise MathJaxUnavailable(f"{tgz}: cannot read {m.name}")
            stage.write_bytes(rel, f.read(), generated=False)
            out.append(rel)
    if f"{TARGET}/tex-chtml.js" not in out:
        raise MathJaxUnavailable(f"{tgz}: holds no package/es5/tex-chtml.js (not a MathJax 3 package?)")
    return out
