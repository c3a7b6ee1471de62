"""Where pretrained Cellpose 3 weights are looked for; nothing is ever downloaded.

Cellpose downloads its built-in models from ``www.cellpose.org`` the first
time they are named. ``bench`` never lets it: a pretrained variant is used
only if its file is already on disk, and is handed to Cellpose by *path*, so
Cellpose's downloader is never reached. Folders searched, in order:

1. the method's ``weights_dir`` parameter, if set (then only that folder);
2. ``$CELLPOSE_LOCAL_MODELS_PATH`` (Cellpose's own override);
3. ``~/.cellpose/models`` (Cellpose's default cache).

File names are Cellpose 3's (``cellpose.models.model_path``): ``cytotorch_0``,
``cyto2torch_0``, ``nucleitorch_0``, ``cyto3``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...paths import shown_path

__all__ = ["PRETRAINED_FILES", "PRETRAINED_DIAM_MEAN", "search_dirs", "find_pretrained", "weights_reason"]

#: Built-in model name -> Cellpose 3 weight file name.
PRETRAINED_FILES = {
    "cyto": "cytotorch_0",
    "cyto2": "cyto2torch_0",
    "cyto3": "cyto3",
    "nuclei": "nucleitorch_0",
}
#: Object diameter (px) each built-in model was trained at (Cellpose: 30, nuclei 17).
PRETRAINED_DIAM_MEAN = {"cyto": 30.0, "cyto2": 30.0, "cyto3": 30.0, "nuclei": 17.0}


def search_dirs(weights_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for weights (see the module docstring).

    Examples
    --------
    >>> [p.as_posix() for p in search_dirs("/w")]
    ['/w']
    """
    if weights_dir:
        return [Path(weights_dir)]
    dirs = []
    env = os.environ.get("CELLPOSE_LOCAL_MODELS_PATH")
    if env:
        dirs.append(Path(env))
    dirs.append(Path.home() / ".cellpose" / "models")
    return dirs


def _check(name: str) -> str:
    if name not in PRETRAINED_FILES:
        raise ValueError(f"`init` must be 'scratch' or one of {sorted(PRETRAINED_FILES)}, got {name!r}")
    return PRETRAINED_FILES[name]


def find_pretrained(name: str, weights_dir: str | os.PathLike | None = None) -> Path | None:
    """Path of the weight file of built-in model `name`, or ``None`` if absent."""
    fname = _check(name)
    for d in search_dirs(weights_dir):
        p = d / fname
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def weights_reason(name: str, weights_dir: str | os.PathLike | None = None) -> str | None:
    """``None`` if the weights of `name` are on disk, else why the variant cannot run."""
    if find_pretrained(name, weights_dir) is not None:
        return None
    fname = _check(name)
    where = ", ".join(shown_path(d) for d in search_dirs(weights_dir))
    return (
        f"pretrained Cellpose weights {name!r} (file {fname}) not found in {where}; "
        "bench never downloads them: put the file there (from https://www.cellpose.org/models/"
        f"{fname}) or set `weights_dir` / $CELLPOSE_LOCAL_MODELS_PATH"
    )
